"""Unit tests of the HTTP edge without Ray: middleware, strict JSON, proxy rewriting, readiness.

The app here is a small FastAPI app with recsplain's error handlers and middleware; the proxy's
plain-text answers are produced by Ray's own functions, so a change of their shape shows here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient

from serve.api import HistoryEntry, install_error_handlers
from serve.health import ReadinessMonitor
from serve.middleware import (
    EDGE,
    AuthConfigError,
    BearerToken,
    BodyLimit,
    EdgeSettings,
    RateLimit,
    admin_key_for,
    api_key_for,
    check_bearer,
    read_key,
)
from serve.proxy import JsonProxyErrors, StripProxyControlHeaders, middlewares
from tests.conftest import error_of

KEY = "s3cret-key"
LIMIT = 4096


class Body(BaseModel):
    user_id: str
    history: list[HistoryEntry] = []


def make_app(key: str | None = KEY, rate_per_s: float = 0.0, clock=None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    edge = EdgeSettings(api_key=key, open_api=key is None, max_body_bytes=LIMIT)
    edge.rate_per_s, edge.burst = rate_per_s, 3
    app.add_middleware(BodyLimit, edge=edge)
    app.add_middleware(RateLimit, edge=edge, **({"clock": clock} if clock else {}))
    app.add_middleware(BearerToken, edge=edge)

    @app.post("/echo")
    async def echo(body: Body) -> dict:
        return {"user_id": body.user_id, "entries": len(body.history)}

    @app.get("/readyz")
    async def readyz() -> dict:
        return {"status": "ok"}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "details": "behind the key"}

    return app


@pytest.fixture
def client():
    return TestClient(make_app(), headers={"Authorization": f"Bearer {KEY}"})


def chunks(total: int, size: int = 1000):
    yield b'{"user_id": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


# Body limit


def test_a_chunked_body_over_the_limit_gets_413_json(client):
    response = client.post(
        "/echo", content=chunks(3 * LIMIT), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"


def test_a_declared_body_over_the_limit_gets_413_json(client):
    response = client.post("/echo", content=b"{" + b" " * LIMIT + b"}")
    assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"


def test_a_chunked_body_within_the_limit_reaches_the_app(client):
    response = client.post(
        "/echo", content=chunks(2000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and len(response.json()["user_id"]) == 2000


# Strict JSON


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(client, literal):
    body = f'{{"user_id": "1", "history": [{{"item_id": "1", "rating": {literal}}}]}}'
    response = client.post("/echo", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert error_of(response)["message"] == f"body: not valid JSON ({literal} is not JSON)"


def test_deep_nesting_is_a_quick_422_not_a_recursion_error(client):
    depth = LIMIT // 2  # past Python's recursion limit (1000), within the body limit
    start = time.perf_counter()
    response = client.post(
        "/echo", content=b"[" * depth + b"]" * depth, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "nested too deeply" in error_of(response)["message"]
    assert time.perf_counter() - start < 2


def test_bytes_that_are_not_utf8_are_a_422(client):
    response = client.post(
        "/echo", content=b'{"user_id": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_request"


def test_a_lone_surrogate_in_a_string_is_a_422(client):
    response = client.post(
        "/echo", content=b'{"user_id": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "lone surrogate" in error_of(response)["message"]
    pair = client.post(
        "/echo",
        content=b'{"user_id": "\\ud83d\\ude00"}',
        headers={"Content-Type": "application/json"},
    )
    assert pair.status_code == 200 and pair.json()["user_id"] == "\U0001f600"


def test_errors_that_echo_input_survive_lone_surrogates():
    from starlette.responses import JSONResponse

    from serve.api import error_response

    with pytest.raises(UnicodeEncodeError):
        JSONResponse({"message": "\ud800"})  # what a plain JSON error would do: a 500
    assert error_response(404, "unknown_item", "item_id '\ud800'").body.isascii()


# Bearer token


@pytest.mark.parametrize("token", ["ключ", "🔑", "s3cret-kéy"])
def test_a_non_ascii_token_is_a_401_not_a_500(client, token):
    response = client.post(
        "/echo",
        json={"user_id": "1"},
        headers={"Authorization": f"Bearer {token}".encode()},
    )
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"


def test_a_non_ascii_key_is_compared_as_utf8():
    app = make_app(key="ключ")
    client = TestClient(app, headers={"Authorization": "Bearer ключ".encode()})
    assert client.post("/echo", json={"user_id": "1"}).status_code == 200


def test_missing_and_wrong_tokens_are_401_but_probes_stay_open():
    anonymous = TestClient(make_app())
    assert anonymous.post("/echo", json={"user_id": "1"}).status_code == 401
    wrong = anonymous.post("/echo", json={"user_id": "1"}, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/readyz").status_code == 200
    assert anonymous.get("/healthz").status_code == 401  # the details need the key


def test_check_bearer_reads_the_authorization_header_alone():
    headers = [(b"type", b"http"), (b"Authorization", f"bearer {KEY}".encode())]
    assert check_bearer(headers, KEY)
    assert not check_bearer(headers, "other")
    assert not check_bearer([], KEY)
    assert not check_bearer([(b"authorization", f"Bearer {KEY}x".encode())], KEY)
    assert not check_bearer([(b"authorization", "Bearer é".encode())], KEY)
    # No key configured never matches, not even an empty token.
    assert not check_bearer([(b"authorization", b"Bearer ")], "")
    assert not check_bearer([(b"authorization", b"Bearer ")], None)


def test_a_key_file_with_a_trailing_newline_works(tmp_path, monkeypatch):
    secret = tmp_path / "api-key"
    secret.write_text(f"{KEY}\n")
    monkeypatch.delenv("RECSPLAIN_API_KEY", raising=False)
    monkeypatch.setenv("RECSPLAIN_API_KEY_FILE", str(secret))
    assert read_key("RECSPLAIN_API_KEY") == KEY
    monkeypatch.setenv("RECSPLAIN_API_KEY", f"  {KEY}\r\n")
    assert read_key("RECSPLAIN_API_KEY") == KEY  # the variable wins over the file, stripped


def test_an_empty_key_is_no_key(tmp_path, monkeypatch):
    secret = tmp_path / "api-key"
    secret.write_text("\n")
    monkeypatch.setenv("RECSPLAIN_API_KEY", " ")
    monkeypatch.setenv("RECSPLAIN_API_KEY_FILE", str(secret))
    assert read_key("RECSPLAIN_API_KEY") is None


def test_bearer_auth_without_a_key_refuses_to_start(monkeypatch):
    monkeypatch.delenv("RECSPLAIN_API_KEY", raising=False)
    monkeypatch.delenv("RECSPLAIN_API_KEY_FILE", raising=False)
    with pytest.raises(AuthConfigError) as refused:
        api_key_for("bearer")
    for name in ("RECSPLAIN_API_KEY", "RECSPLAIN_API_KEY_FILE", "RECSPLAIN_API__AUTH=none"):
        assert name in str(refused.value)
    monkeypatch.setenv("RECSPLAIN_API_KEY", KEY)
    assert api_key_for("bearer") == KEY


def test_auth_none_serves_open_and_says_so_loudly(monkeypatch, caplog):
    monkeypatch.setenv("RECSPLAIN_API_KEY", KEY)
    with caplog.at_level(logging.WARNING):
        assert api_key_for("none") is None
    assert "OPEN" in caplog.text
    open_client = TestClient(make_app(key=None))
    assert open_client.post("/echo", json={"user_id": "1"}).status_code == 200


def test_an_unconfigured_edge_fails_closed():
    assert EDGE.api_key is None and not EDGE.open_api
    app = FastAPI()
    app.add_middleware(BearerToken, edge=EdgeSettings())

    @app.get("/v1/items/1")
    async def item() -> dict:
        return {}

    response = TestClient(app).get("/v1/items/1", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_configure_sets_the_key_and_the_limit(monkeypatch):
    monkeypatch.setenv("RECSPLAIN_API_KEY", KEY)
    edge = EdgeSettings()
    edge.configure("bearer", 2048)
    assert (edge.api_key, edge.open_api, edge.max_body_bytes) == (KEY, False, 2048)
    edge.configure("none", 2048)
    assert edge.open_api


def clear_auth_env(monkeypatch) -> None:
    """Unset, and restored after the test even if the code under test sets them."""
    for name in ("RECSPLAIN_API_KEY", "RECSPLAIN_API_KEY_FILE", "RECSPLAIN_API__AUTH"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_start_local_refuses_an_open_api_off_loopback_before_starting_ray(monkeypatch):
    import ray

    from serve.app import start_local

    clear_auth_env(monkeypatch)
    with pytest.raises(AuthConfigError):
        start_local({}, "0.0.0.0", 1)
    assert not ray.is_initialized()


@pytest.mark.parametrize(
    ("host", "env", "auth"),
    [
        ("127.0.0.1", {}, "none"),
        ("localhost", {"RECSPLAIN_API_KEY": KEY}, None),
        ("127.0.0.1", {"RECSPLAIN_API__AUTH": "bearer"}, "bearer"),
        ("0.0.0.0", {}, None),
    ],
)
def test_local_runs_open_only_on_loopback_without_a_key(monkeypatch, host, env, auth):
    from serve.app import choose_local_auth

    clear_auth_env(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    choose_local_auth(host)
    assert os.environ.get("RECSPLAIN_API__AUTH") == auth


def test_the_auth_setting_is_read_from_the_environment(monkeypatch):
    from serve.config import RecsplainSettings

    assert RecsplainSettings().api.auth == "bearer"
    monkeypatch.setenv("RECSPLAIN_API__AUTH", "none")
    assert RecsplainSettings().api.auth == "none"


# Ray's proxy


def ray_answer(exc: BaseException) -> list[dict]:
    """The messages Ray's HTTP proxy sends when a request ends in `exc` before any answer."""
    from ray.serve._private.http_util import (
        get_http_response_status,
        send_http_response_on_exception,
    )

    status = get_http_response_status(exc, 0.001, "req-1")
    return send_http_response_on_exception(status, response_started=False)


def proxy_app(messages: list[dict], seen: list | None = None):
    """Stands in for Ray's proxy: sends `messages`, recording the headers it was given."""

    async def app(scope, receive, send):
        if seen is not None:
            seen.append(dict(scope["headers"]))
        for message in messages:
            await send(message)

    return app


def behind_proxy_middleware(app):
    from ray.serve._private.http_util import _apply_middlewares

    return _apply_middlewares(app, middlewares())


def test_ray_accepts_the_proxy_callback():
    from ray.serve._private.http_util import validate_http_proxy_callback_return

    assert len(validate_http_proxy_callback_return(middlewares())) == 2


def test_proxy_control_headers_never_reach_the_proxy():
    seen: list = []
    app = behind_proxy_middleware(proxy_app(ray_answer(TimeoutError()), seen))
    TestClient(app).get(
        "/v1/recommendations",
        headers={
            "x-request-timeout-seconds": "0.001",
            "X-Request-Disconnect-Disabled": "?1",
            "x_request_timeout_seconds": "0",
            "x-other": "kept",
        },
    )
    [headers] = seen
    assert b"x-other" in headers
    assert not {b"x-request-timeout-seconds", b"x-request-disconnect-disabled"} & set(headers)
    assert b"x_request_timeout_seconds" not in headers


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (TimeoutError(), 408, "timeout"),
        ("backpressure", 503, "unavailable"),
        ("unavailable", 503, "unavailable"),
    ],
)
def test_the_proxys_plain_text_answers_become_json_errors(exc, status, code):
    from ray.serve._private.common import DeploymentID
    from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError

    if exc == "backpressure":
        exc = BackPressureError(num_queued_requests=3, max_queued_requests=2)
    elif exc == "unavailable":
        exc = DeploymentUnavailableError(DeploymentID(name="Ingress", app_name="recsplain"))
    messages = ray_answer(exc)
    assert messages[0]["status"] == status  # Ray's own answer, before the rewrite
    response = TestClient(behind_proxy_middleware(proxy_app(messages))).get("/v1/items/1")
    assert response.status_code == status
    error = error_of(response)
    assert error["message"].startswith("proxy: ")
    assert error["code"] == code
    assert response.headers["x-request-id"]  # Ray's request id survives the rewrite


def test_a_retry_after_from_the_proxy_survives():
    messages = [
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [[b"content-type", b"text/plain"], [b"retry-after", b"2"]],
        },
        {"type": "http.response.body", "body": b"busy"},
    ]
    response = TestClient(JsonProxyErrors(proxy_app(messages))).get("/")
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert error_of(response)["message"] == "proxy: busy"


def test_a_replicas_plain_text_500_does_not_leak_its_text():
    messages = [
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        },
        {"type": "http.response.body", "body": b"Traceback (most recent call last): secret"},
    ]
    response = TestClient(JsonProxyErrors(proxy_app(messages))).get("/")
    assert response.status_code == 500 and "Traceback" not in response.text
    assert error_of(response)["code"] == "internal"


def test_no_answer_from_the_proxy_is_a_json_500_not_uvicorns_text():
    response = TestClient(JsonProxyErrors(proxy_app([]))).get("/v1/items/1")
    assert response.status_code == 500 and error_of(response)["code"] == "internal"


def test_a_client_gone_before_the_answer_is_logged_as_499():
    sent: list[dict] = []

    async def gone():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def proxy(scope, receive, send):
        await receive()  # the proxy sees the disconnect and gives up without an answer

    scope = {"type": "http", "path": "/v1/recommendations", "headers": []}
    asyncio.run(JsonProxyErrors(proxy)(scope, gone, send))
    assert sent[0]["status"] == 499


def test_the_apps_own_json_errors_and_rays_probes_pass_untouched():
    json_error = [
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": b'{"error": {"code": "x", "message": "y"}}'},
    ]
    response = TestClient(StripProxyControlHeaders(JsonProxyErrors(proxy_app(json_error)))).get(
        "/v1/recommendations"
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "x"
    draining = [
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "http.response.body", "body": b"This node is being drained."},
    ]
    probe = TestClient(JsonProxyErrors(proxy_app(draining))).get("/-/healthz")
    assert probe.status_code == 503 and probe.text == "This node is being drained."


# Readiness


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_readiness_reports_the_last_check_and_probes_make_none():
    calls = []
    clock = FakeClock()

    async def check():
        calls.append(1)

    monitor = ReadinessMonitor(check, refresh_s=5, timeout_s=1, clock=clock)
    first = monitor.status()
    assert not first.ready and first.reason.startswith("starting")
    asyncio.run(monitor.refresh())
    for _ in range(1000):
        status = monitor.status()
    assert status.ready and status.checks == 1 and status.checked_at == clock.now
    assert len(calls) == 1


def test_readiness_fails_with_the_reason_and_when_stale():
    clock = FakeClock()

    async def down():
        raise ConnectionError("retriever gone")

    async def slow():
        await asyncio.sleep(5)

    monitor = ReadinessMonitor(down, refresh_s=5, timeout_s=0.05, clock=clock)
    asyncio.run(monitor.refresh())
    assert not monitor.status().ready and "retriever gone" in monitor.status().reason
    monitor.check = slow
    asyncio.run(monitor.refresh())
    assert monitor.status().reason.startswith("TimeoutError")

    async def up():
        return None

    monitor.check = up
    asyncio.run(monitor.refresh())
    assert monitor.status().ready
    clock.now += 3 * 5 + 0.05 + 1  # three refresh periods (and a timeout) without a check
    stale = monitor.status()
    assert not stale.ready and stale.reason.startswith("stale")


def test_readiness_refreshes_in_the_background():
    calls = []

    async def check():
        calls.append(1)

    async def run():
        monitor = ReadinessMonitor(check, refresh_s=0.05, timeout_s=1)
        monitor.start()
        await asyncio.sleep(0.3)
        return monitor.status()

    status = asyncio.run(run())
    assert status.ready and status.checks == len(calls) >= 3


def test_the_admin_key_may_not_be_the_api_key(monkeypatch):
    monkeypatch.delenv("RECSPLAIN_ADMIN_KEY_FILE", raising=False)
    monkeypatch.setenv("RECSPLAIN_ADMIN_KEY", KEY)
    with pytest.raises(AuthConfigError, match="its own key"):
        admin_key_for(KEY)
    assert admin_key_for("another") == KEY
    assert admin_key_for(None) == KEY  # an open API (make serve) with an admin key
    monkeypatch.delenv("RECSPLAIN_ADMIN_KEY")
    assert admin_key_for(KEY) is None  # no admin key: the admin API is off


def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_do_not():
    now = [100.0]
    app = make_app(rate_per_s=0.5, clock=lambda: now[0])
    mine = TestClient(app, headers={"Authorization": f"Bearer {KEY}"})
    answers = [mine.post("/echo", json={"user_id": "1"}).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]  # a burst of 3
    limited = mine.post("/echo", json={"user_id": "1"})
    assert limited.headers["retry-after"] == "2" and error_of(limited)["code"] == "rate_limited"
    assert mine.get("/readyz").status_code == 200  # probes are never limited
    wrong = TestClient(app, headers={"Authorization": "Bearer wrong"})
    assert wrong.post("/echo", json={"user_id": "1"}).status_code == 401  # no bucket, no 429
    now[0] += 2.0  # one token back at 0.5/s
    assert mine.post("/echo", json={"user_id": "1"}).status_code == 200
    assert mine.post("/echo", json={"user_id": "1"}).status_code == 429


def test_no_rate_means_no_limit():
    mine = TestClient(make_app(), headers={"Authorization": f"Bearer {KEY}"})
    assert {mine.post("/echo", json={"user_id": "1"}).status_code for _ in range(30)} == {200}


async def call_asgi(app, path: str, headers: list, pieces: list[bytes]) -> tuple[int, dict]:
    """One POST whose body arrives as `pieces`, then never finishes; the status and headers."""
    queue = [{"type": "http.request", "body": piece, "more_body": True} for piece in pieces]

    async def receive():
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)  # a client that stopped sending

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    await asyncio.wait_for(app(scope, receive, send), 5)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


def trickle_app(admin_key: str | None = "admin-secret"):
    edge = EdgeSettings(api_key=KEY, max_body_bytes=LIMIT, body_timeout_s=0.2)
    edge.admin_key = admin_key

    async def never(scope, receive, send):
        raise AssertionError("the app must not be reached")

    return BearerToken(BodyLimit(never, edge=edge), edge=edge)


def test_a_trickled_body_gets_408_instead_of_holding_the_slot():
    auth = [(b"authorization", f"Bearer {KEY}".encode())]
    status, headers = asyncio.run(call_asgi(trickle_app(), "/echo", auth, [b'{"user']))
    assert status == 408 and headers[b"connection"] == b"close"


def test_the_admin_key_is_checked_before_the_body_is_read():
    wrong = [(b"authorization", f"Bearer {KEY}".encode())]  # the API key is no admin key
    status, _ = asyncio.run(call_asgi(trickle_app(), "/admin/rollout", wrong, [b"{"]))
    assert status == 401
    status, _ = asyncio.run(call_asgi(trickle_app(None), "/admin/rollout", wrong, [b"{"]))
    assert status == 403
