"""Readiness, checked in the background: a probe reads the last result and never makes an RPC.

Probes are unauthenticated; if each one called the Retriever and the LLM, a probe flood would
fill their queues. One task per ingress replica checks every `refresh_s` instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# A status older than this many refresh periods (plus one check's timeout, since a slow check
# delays the next one) no longer says "ready": the refreshing task is stuck or gone.
STALE_AFTER_PERIODS = 3


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None
    checked_at: float | None  # unix time of the last finished check
    checks: int  # checks finished since start: probes never add to it

    def as_json(self) -> dict:
        return {
            "status": "ok" if self.ready else "unavailable",
            "reason": self.reason,
            "checked_at": self.checked_at,
            "checks": self.checks,
        }


class ReadinessMonitor:
    """Runs `check` (which raises when a dependency is down) every `refresh_s`, each bounded by
    `timeout_s`, and answers probes from the last result."""

    def __init__(
        self,
        check: Callable[[], Awaitable[None]],
        refresh_s: float,
        timeout_s: float,
        clock: Callable[[], float] = time.time,
    ):
        self.check, self.refresh_s, self.timeout_s, self.clock = check, refresh_s, timeout_s, clock
        self._ok = False
        self._reason: str | None = "starting: no check finished yet"
        self._checked_at: float | None = None
        self._checks = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_s)

    async def refresh(self) -> None:
        try:
            await asyncio.wait_for(self.check(), timeout=self.timeout_s)
            ok, reason = True, None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of a dependency means "not ready", not a crash
            ok, reason = False, f"{type(exc).__name__}: {exc}"[:300]
            if self._ok or self._checks == 0:
                log.warning("readiness check failed: %s", reason)
        self._ok, self._reason = ok, reason
        self._checked_at = self.clock()
        self._checks += 1

    def status(self) -> Readiness:
        if self._checked_at is not None:
            age = self.clock() - self._checked_at
            if age > STALE_AFTER_PERIODS * self.refresh_s + self.timeout_s:
                return Readiness(False, f"stale: last check {age:.0f} s ago", *self._counters())
        return Readiness(self._ok, self._reason, *self._counters())

    def _counters(self) -> tuple[float | None, int]:
        return self._checked_at, self._checks
