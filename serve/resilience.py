"""Calls to a replica that may die under them: retry on the next one, within a time budget.

When a Retriever replica's process dies, the requests it held fail with `RayActorError` (its
subclasses `ActorDiedError`, `ActorUnavailableError`), and Serve starts a replacement. Those
requests are safe to send again (retrieval has no side effects), so they are retried with a
short backoff; requests sent while no replica is up wait in Serve's router for the new one.
Either way the caller gets an answer within the budget, or `Unavailable` with the seconds after
which to retry, which the HTTP edge (`api.install_error_handlers`) answers as a 503 with
Retry-After, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ray.exceptions import RayActorError

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0


def backoff_s(attempt: int) -> float:
    """Seconds before retry `attempt` (0-based): 0.1, 0.2, 0.4, ... up to 2."""
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**attempt)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    retries: int,
    budget_s: float,
    retry_after_s: int,
    what: str,
) -> T:
    """`call()` again while its replica died, at most `retries` times and within `budget_s`.

    `call` makes a new request each time (a handle's `.remote()`); `what` names the service in
    `Unavailable`'s message."""
    unavailable = Unavailable(f"the {what} is restarting; retry later", retry_after_s)
    attempt = 0
    try:
        async with asyncio.timeout(budget_s):
            while True:
                try:
                    return await call()
                except RayActorError as exc:
                    if attempt >= retries:
                        log.warning("%s: replica died, no retries left: %s", what, exc)
                        raise unavailable from None
                    log.info("%s: replica died (%s); retry %d", what, type(exc).__name__, attempt)
                    await asyncio.sleep(backoff_s(attempt))
                    attempt += 1
    except TimeoutError:
        log.warning("%s: no replica answered within %.1f s", what, budget_s)
        raise unavailable from None


class Unavailable(RuntimeError):
    """A deployment that stopped answering: the caller falls back at once (the LLM), or the
    client is told to retry after `retry_after_s` (HTTP 503, mapped at the edge)."""

    def __init__(self, message: str, retry_after_s: int | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Circuit:
    """Whether a deployment answers its polls. After `threshold` failed polls in a row (its
    replica died and Serve is starting another, which for a vLLM engine takes a minute; a poll
    that merely timed out behind busy work is not counted, see the ingress's poller), calls
    to it fail at once instead of waiting in Serve's router until their deadline; the first
    answered poll closes the circuit again."""

    def __init__(self, what: str, threshold: int = 2):
        self.what, self.threshold = what, threshold
        self.failures = 0

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def observe(self, answered: bool) -> None:
        was_open = self.open
        self.failures = 0 if answered else self.failures + 1
        if self.open != was_open:
            log.warning("%s %s", self.what, "is unreachable" if self.open else "answers again")

    def check(self) -> None:
        """Raise `Unavailable` while the circuit is open."""
        if self.open:
            raise Unavailable(f"the {self.what} is unreachable (restarting)")
