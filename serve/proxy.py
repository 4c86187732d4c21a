"""Middleware for Ray Serve's HTTP proxy, which answers some requests before recsplain can.

Ray applies the list that `middlewares()` returns around its proxy's ASGI app when the proxy
actor's environment has `RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH=serve.proxy:middlewares`
(`start_local` sets it; every Kubernetes pod needs it). Two things happen there:

- Clients must not steer the proxy: `x-request-timeout-seconds` (a tiny value gives a 408, a
  non-positive one disables the timeout) and `x-request-disconnect-disabled: ?1` (keeps an
  abandoned request running) are removed before the proxy reads them.
- The proxy's own answers are plain text (408 timeout, 503 no replica or queue full, 429, 404
  no application) or nothing at all (500 replica died, 499 client gone, where uvicorn would
  write a plain-text 500); they become the API's `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from starlette.middleware import Middleware

from serve.middleware import send_error

PROXY_CONTROL_HEADERS = ("x-request-timeout-seconds", "x-request-disconnect-disabled")
# Ray's own probes (KubeRay's readiness and liveness checks) keep their answers.
RAY_PATHS = "/-/"
PROXY_CODES = {
    404: "not_found",
    408: "timeout",
    429: "overloaded",
    499: "client_closed_request",
    500: "internal",
    503: "unavailable",
}
# Ray's texts for these say what happened; any other (a replica's 500) may carry a traceback.
TEXT_KEPT = (404, 408, 429, 503)
_GENERIC = {
    499: "the client closed the connection before the answer",
    500: "the request failed in the serving system; see the server log",
}


def middlewares() -> list[Middleware]:
    """The import path Ray calls (`RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH`)."""
    return [Middleware(JsonProxyErrors), Middleware(StripProxyControlHeaders)]


def _normalized(name: bytes) -> str:
    return name.decode("latin-1").lower().replace("_", "-")


class StripProxyControlHeaders:
    """Drops the headers with which a client could set the proxy's timeout or disconnect policy."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers", [])
            kept = [(k, v) for k, v in headers if _normalized(k) not in PROXY_CONTROL_HEADERS]
            if len(kept) != len(headers):
                scope = dict(scope, headers=kept)
        await self.app(scope, receive, send)


class JsonProxyErrors:
    """Rewrites the proxy's non-JSON error answers, and its silences, as JSON errors.

    A recsplain answer is never touched: every error of the app is JSON already, so only a
    plain-text or untyped error (a replica's own "Internal Server Error" has no content type),
    or no answer at all, can come from Ray or uvicorn.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(RAY_PATHS):
            return await self.app(scope, receive, send)
        started = disconnected = False
        held: dict | None = None  # a non-JSON error's start, kept until its body is read
        held_body = b""

        async def watching_receive():
            nonlocal disconnected
            message = await receive()
            disconnected |= message["type"] == "http.disconnect"
            return message

        async def rewriting_send(message):
            nonlocal started, held, held_body
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 400 and not _is_json(message):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                held_body += message.get("body", b"")
                if not message.get("more_body", False):
                    text = held_body.decode("utf-8", errors="replace").strip()
                    await _send_proxy_error(send, held["status"], text, _kept_headers(held))
                return
            await send(message)

        try:
            await self.app(scope, watching_receive, rewriting_send)
        except Exception:
            if started:
                raise
            return await _send_proxy_error(send, 500, "", [])
        if not started:
            await _send_proxy_error(send, 499 if disconnected else 500, "", [])


def _kept_headers(start: dict) -> list:
    """Retry-After, X-Request-ID and the like survive; the body's own headers are rewritten."""
    return [
        (name, value)
        for name, value in start.get("headers", [])
        if bytes(name).lower() not in (b"content-type", b"content-length")
    ]


def _is_json(start: dict) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return b"json" in bytes(content_type).lower()


async def _send_proxy_error(send, status: int, text: str, headers: list) -> None:
    code = PROXY_CODES.get(status, "http_error")
    message = text if status in TEXT_KEPT and text else _GENERIC.get(status, f"answered {status}")
    await send_error(send, status, code, f"proxy: {message}", headers)
