"""ASGI middleware of the ingress: body size limit, bearer token, request metrics."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from serve import metrics
from serve.api import error_body

log = logging.getLogger(__name__)

API_KEY_ENV = "RECSPLAIN_API_KEY"
ADMIN_KEY_ENV = "RECSPLAIN_ADMIN_KEY"
# Probes and scrapers work without the token. Probes answer status only; /healthz's details
# (build, CPU, engine settings, admission queue) need the key, since the queue tells an attacker
# whether a flood is working.
OPEN_PATHS = ("/livez", "/readyz", "/metrics")


@dataclass
class EdgeSettings:
    """What the middleware enforces, set by the ingress at start (`EDGE.configure`).

    Not `app.state`: Ray serves a copy of the FastAPI app that it unpickled in the replica, so
    state the ingress writes on the module's `app` never reaches it; this module is shared.
    Until configured, every guarded path is refused (no key matches), so a mistake fails closed.
    """

    api_key: str | None = None
    open_api: bool = False
    max_body_bytes: int = 1 << 20
    rate_per_s: float = 0.0  # requests per second per key; 0: no limit
    burst: int = 20
    admin_key: str | None = None  # None: the admin routes answer 403
    body_timeout_s: float = 60.0  # the longest wait for the next piece of a request body

    def configure(
        self,
        auth: Literal["bearer", "none"],
        max_body_bytes: int,
        rate_per_s: float = 0.0,
        burst: int = 20,
        body_timeout_s: float = 60.0,
    ) -> None:
        self.api_key = api_key_for(auth)
        self.admin_key = admin_key_for(self.api_key)
        self.open_api = auth == "none"
        self.max_body_bytes = max_body_bytes
        self.rate_per_s, self.burst = rate_per_s, burst
        self.body_timeout_s = body_timeout_s


EDGE = EdgeSettings()
# Admin routes need the admin key, not the API key (`BearerToken`).
ADMIN_PREFIX = "/admin/"


async def send_error(send, status: int, code: str, message: str, headers=()) -> None:
    """Answer with the error shape of serve.api; ASCII-escaped, so any input echoes safely."""
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for bodies over the limit, whether announced by Content-Length or sent chunked.

    The body is read up to the limit before the app sees it: a limit passed inside FastAPI's
    body parsing would come out as its 400 "error parsing the body".
    """

    def __init__(self, app, edge: EdgeSettings = EDGE):
        self.app, self.edge = app, edge

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = self.edge.max_body_bytes
        too_large = f"body: over the limit of {max_bytes} bytes"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return await send_error(send, 413, "body_too_large", too_large)
        buffered, received = [], 0
        while True:
            try:  # a client trickling its body would hold a slot for as long as it likes
                message = await asyncio.wait_for(receive(), self.edge.body_timeout_s)
            except TimeoutError:
                return await send_error(
                    send,
                    408,
                    "body_timeout",
                    f"body: nothing received for {self.edge.body_timeout_s:g} s",
                    [(b"connection", b"close")],
                )
            buffered.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: the app sees it and stops
            received += len(message.get("body", b""))
            if received > max_bytes:
                return await send_error(send, 413, "body_too_large", too_large)
            if not message.get("more_body", False):
                break

        async def replay():
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


def read_key(env_name: str) -> str | None:
    """A secret from `<env_name>`, else from the file named by `<env_name>_FILE` (a mounted
    Secret). Stripped, since a file usually ends with a newline that no client sends; empty
    means no key."""
    key = os.environ.get(env_name)
    path = os.environ.get(f"{env_name}_FILE")
    if not key and path:
        with open(path, encoding="utf-8") as secret:
            key = secret.read()
    return (key or "").strip() or None


class AuthConfigError(RuntimeError):
    """The API would be open without anyone having asked for that."""


def api_key_for(auth: Literal["bearer", "none"]) -> str | None:
    """The key that guards the API under `auth`; refuses to run open unless asked to."""
    if auth == "none":
        log.warning(
            "RECSPLAIN_API__AUTH=none: the API is OPEN, every client can call it without a key"
        )
        return None
    key = read_key(API_KEY_ENV)
    if key is None:
        raise AuthConfigError(
            f"api.auth is 'bearer' but no key is set: set {API_KEY_ENV} or {API_KEY_ENV}_FILE, "
            "or run open on purpose with RECSPLAIN_API__AUTH=none"
        )
    return key


def admin_key_for(api_key: str | None) -> str | None:
    """The admin key (None: admin API off); refused when it equals the API key, which would make
    every API client an admin."""
    key = read_key(ADMIN_KEY_ENV)
    if key is not None and key == api_key:
        raise AuthConfigError(
            f"{ADMIN_KEY_ENV} equals {API_KEY_ENV}: give the admin API its own key"
        )
    return key


def check_bearer(headers: Iterable[tuple[bytes, bytes]], key: str | None) -> bool:
    """Whether ASGI header pairs (`scope["headers"]`) carry `Authorization: Bearer <key>`,
    compared in constant time on UTF-8 bytes, so a token in any script is a wrong token, not a
    crash. Only that header is read; no key never matches."""
    authorization = next(
        (value for name, value in headers if name.lower() == b"authorization"), b""
    )
    scheme, _, token = authorization.partition(b" ")
    return (
        bool(key)
        and scheme.lower() == b"bearer"
        and hmac.compare_digest(token.strip(), key.encode("utf-8"))
    )


class BearerToken:
    """Every path but the probes needs `Authorization: Bearer <key>`: the admin key on the admin
    routes (403 while there is none), else the API key unless auth is "none". Checked before the
    body is read, so an unauthenticated client cannot hold a slot by trickling one."""

    def __init__(self, app, edge: EdgeSettings = EDGE):
        self.app, self.edge = app, edge

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        admin = path.startswith(ADMIN_PREFIX)
        if scope["type"] != "http" or (not admin and (self.edge.open_api or path in OPEN_PATHS)):
            return await self.app(scope, receive, send)
        key, key_env = (
            (self.edge.admin_key, ADMIN_KEY_ENV) if admin else (self.edge.api_key, API_KEY_ENV)
        )
        if admin and key is None:
            return await send_error(send, 403, "forbidden", f"admin API disabled: set {key_env}")
        if not check_bearer(scope.get("headers", []), key):
            return await send_error(
                send,
                401,
                "unauthorized",
                f"Authorization: missing or wrong bearer token (Bearer <{key_env}>)",
                [(b"www-authenticate", b"Bearer")],
            )
        await self.app(scope, receive, send)


class RateLimit:
    """A token bucket per caller: `rate_per_s` requests a second on average, `burst` at once;
    past it, 429 with Retry-After. The caller is the bearer token (hashed), or the client's
    address on an open API. Buckets live in each ingress replica, so the limit a client meets is
    per replica (replicas x rate in all). Probes and scrapers are not counted."""

    MAX_CALLERS = 10_000  # the least recently seen caller's bucket goes first

    def __init__(self, app, edge: EdgeSettings = EDGE, clock=time.monotonic):
        self.app, self.edge, self.clock = app, edge, clock
        self.buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    async def __call__(self, scope, receive, send):
        rate = self.edge.rate_per_s
        if scope["type"] != "http" or rate <= 0 or scope.get("path", "") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        caller = self._caller(scope)
        now, burst = self.clock(), float(self.edge.burst)
        tokens, seen = self.buckets.pop(caller, (burst, now))
        tokens = min(burst, tokens + (now - seen) * rate)
        if tokens < 1:
            self.buckets[caller] = (tokens, now)
            wait_s = max(1, math.ceil((1 - tokens) / rate))
            return await send_error(
                send,
                429,
                "rate_limited",
                f"over {rate:g} requests/s (burst {self.edge.burst}) for this key; "
                f"retry in {wait_s} s",
                [(b"retry-after", str(wait_s).encode())],
            )
        self.buckets[caller] = (tokens - 1, now)
        while len(self.buckets) > self.MAX_CALLERS:
            self.buckets.popitem(last=False)
        await self.app(scope, receive, send)

    @staticmethod
    def _caller(scope) -> bytes:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                return hashlib.sha256(value).digest()
        host = (scope.get("client") or ("unknown", 0))[0]
        return b"addr:" + str(host).encode()


class RequestMetrics:
    """Counts requests by route template and status, and times them."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500
        start = time.perf_counter()

        async def recording_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            metrics.REQUESTS.labels(route=path, status=str(status)).inc()
            metrics.STAGE_SECONDS.labels(stage="http").observe(time.perf_counter() - start)
