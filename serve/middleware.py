"""ASGI middleware of the ingress: body size limit, optional bearer token, request metrics."""

from __future__ import annotations

import hmac
import json
import os
import time

from serve import metrics
from serve.api import error_body

API_KEY_ENV = "RECSPLAIN_API_KEY"
# Probes and scrapers must work without the token.
OPEN_PATHS = ("/healthz", "/metrics")


async def _send_error(send, status: int, code: str, message: str, headers=()) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed.

    The limit is read from `app.state.max_body_bytes`, which the ingress sets from its settings.
    """

    def __init__(self, app, default_max_bytes: int = 1 << 20):
        self.app, self.default_max_bytes = app, default_max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = getattr(scope.get("app"), "state", None)
        max_bytes = getattr(state, "max_body_bytes", self.default_max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_large = f"request body over {max_bytes} bytes"
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return await _send_error(send, 413, "body_too_large", too_large)
        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await _send_error(send, 413, "body_too_large", too_large)


class _TooLarge(Exception):
    pass


class BearerToken:
    """When RECSPLAIN_API_KEY is set, every path but the probes needs `Authorization: Bearer`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        key = os.environ.get(API_KEY_ENV)
        if scope["type"] != "http" or not key or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), key):
            return await _send_error(
                send,
                401,
                "unauthorized",
                "missing or wrong bearer token (Authorization: Bearer <RECSPLAIN_API_KEY>)",
                [(b"www-authenticate", b"Bearer")],
            )
        await self.app(scope, receive, send)


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
