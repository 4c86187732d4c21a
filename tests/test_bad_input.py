"""Bad input against the running app (conftest's `service`: Ray Serve's proxy, the ingress, FAISS,
vLLM on SmolLM2): every answer is a JSON error with the right status, never a 5xx.

Ray's proxy answers some requests before recsplain can (a timeout, a full queue, a dead
replica); serve/proxy.py turns those into the same JSON shape, checked at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

import httpx
import pytest
from ray import serve

from tests.conftest import API_KEY

JSON = {"Content-Type": "application/json"}
MIB = 1 << 20
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


def assert_json_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    if code is not None:
        assert error["code"] == code, error
    return error


def post_raw(client, content, headers=JSON, path="/v1/recommendations") -> httpx.Response:
    return client.post(path, content=content, headers=headers)


@pytest.mark.parametrize(
    "content",
    [b"{nope", b"{", b'{"user_id": "1",}', b"'user_id'", b"\xff\xfe{}", b'{"user_id": "1"} x'],
)
def test_malformed_json_is_a_422_naming_the_body(client, content):
    error = assert_json_error(post_raw(client, content), 422, "invalid_request")
    assert error["message"].startswith("body: not valid JSON")


@pytest.mark.parametrize("content", [b"", b"[]", b"null", b'"15"', b"15"])
def test_json_that_is_no_object_is_a_422(client, content):
    assert_json_error(post_raw(client, content), 422, "invalid_request")


def test_a_declared_huge_body_is_a_413(client):
    body = b'{"user_id": "1", "pad": "' + b"x" * MIB + b'"}'
    assert_json_error(post_raw(client, body), 413, "body_too_large")


def test_a_chunked_huge_body_is_a_413_not_a_400(client):
    def chunked():
        yield b'{"user_id": "1", "pad": "'
        for _ in range(17):
            yield b"x" * (64 * 1024)
        yield b'"}'

    response = client.post("/v1/recommendations", content=chunked(), headers=JSON)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_json_error(response, 413, "body_too_large")


def test_a_chunked_body_within_the_limit_is_served(client):
    def chunked():
        yield b'{"user_id": "15", '
        yield b'"k": 2, "explain": false}'

    response = client.post("/v1/recommendations", content=chunked(), headers=JSON)
    assert response.status_code == 200 and len(response.json()["items"]) == 2


def test_deeply_nested_json_is_a_quick_422(client):
    depth = 100_000
    start = time.perf_counter()
    body = b'{"user_id": "1", "x": ' + b"[" * depth + b"]" * depth + b"}"
    error = assert_json_error(post_raw(client, body), 422, "invalid_request")
    assert "nested too deeply" in error["message"]
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "body",
    [
        b'{"history": [{"item_id": "318", "rating": NaN}]}',
        b'{"history": [{"item_id": "318", "rating": Infinity}]}',
        b'{"history": [{"item_id": "318", "rating": -Infinity}]}',
        b'{"user_id": "15", "k": NaN}',
        b'{"user_id": "15", "deadline_ms": Infinity}',
    ],
)
def test_nan_and_infinity_literals_are_a_422(client, body):
    error = assert_json_error(post_raw(client, body), 422, "invalid_request")
    assert "is not JSON" in error["message"]


ODD = {
    "nul": "15\x00",
    "rtl override": "\u202e51",
    "zero width": "1\u200b5",
    "combining": "1\u03015",
    "emoji": "🎬" * 50,
    "private use": "\ue000",
}


@pytest.mark.parametrize("text", ODD.values(), ids=ODD.keys())
def test_odd_unicode_ids_are_clean_4xx(client, text):
    assert_json_error(client.post("/v1/recommendations", json={"user_id": text}), 404)
    history = client.post("/v1/recommendations", json={"history": [{"item_id": text}]})
    assert_json_error(history, 422, "unknown_items")
    language = client.post("/v1/recommendations", json={"user_id": "15", "language": text})
    assert "language" in assert_json_error(language, 422, "invalid_request")["message"]
    assert_json_error(client.get("/v1/items/" + quote(text, safe="")), 404)


@pytest.mark.parametrize("field", ["user_id", "item_id", "language"])
def test_lone_surrogates_are_a_422(client, field):
    value = '"a\\udc00b"'
    body = {
        "user_id": f'{{"user_id": {value}}}',
        "item_id": f'{{"history": [{{"item_id": {value}}}]}}',
        "language": f'{{"user_id": "15", "language": {value}}}',
    }[field]
    error = assert_json_error(post_raw(client, body.encode()), 422, "invalid_request")
    assert "lone surrogate" in error["message"]


def test_an_item_path_that_is_not_utf8_is_a_404(client):
    assert_json_error(client.get("/v1/items/%ED%A0%80"), 404)
    assert_json_error(client.get("/v1/items/%FF%00"), 404)


def test_a_megabyte_of_emoji_within_the_limit_is_a_422(client):
    emoji = "😀" * ((MIB - 100) // 4)
    body = json.dumps({"user_id": emoji}, ensure_ascii=False).encode()
    assert len(body) < MIB
    error = assert_json_error(post_raw(client, body), 422, "invalid_request")
    assert error["message"].startswith("user_id:")
    excluded = {"user_id": "15", "exclude_item_ids": ["😀" * 200] * 1200}
    excluded = json.dumps(excluded, ensure_ascii=False).encode()
    assert len(excluded) < MIB
    error = assert_json_error(post_raw(client, excluded), 422, "invalid_request")
    assert error["message"].startswith("exclude_item_ids")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "15", "k": 0}, "k"),
        ({"user_id": "15", "k": 101}, "k"),
        ({"user_id": "15", "k": -1}, "k"),
        ({"user_id": "15", "k": 10**30}, "k"),
        ({"user_id": "15", "deadline_ms": 0}, "deadline_ms"),
        ({"user_id": "15", "deadline_ms": -5}, "deadline_ms"),
        ({"user_id": "15", "deadline_ms": 600_001}, "deadline_ms"),
        ({"user_id": "15", "deadline_ms": 10**30}, "deadline_ms"),
        ({"history": [{"item_id": "318", "rating": 1e308}]}, "history.0.rating"),
        ({"history": [{"item_id": "318", "rating": -1}]}, "history.0.rating"),
        ({"history": []}, "history"),
        ({"history": [{"item_id": "318"}] * 1001}, "history"),
        ({"user_id": ""}, "user_id"),
        ({"user_id": "1" * 201}, "user_id"),
    ],
)
def test_out_of_range_values_are_a_422_naming_the_field(client, body, field):
    response = client.post("/v1/recommendations", json=body)
    assert field in assert_json_error(response, 422, "invalid_request")["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": 15}, "user_id"),
        ({"user_id": ["15"]}, "user_id"),
        ({"user_id": "15", "k": "ten"}, "k"),
        ({"user_id": "15", "k": 1.5}, "k"),
        ({"user_id": "15", "stream": 2}, "stream"),
        ({"user_id": "15", "explain": "maybe"}, "explain"),
        ({"user_id": "15", "deadline_ms": "soon"}, "deadline_ms"),
        ({"user_id": "15", "exclude_item_ids": "318"}, "exclude_item_ids"),
        ({"user_id": "15", "exclude_item_ids": ["318", "x" * 201]}, "exclude_item_ids.1"),
        ({"user_id": "15", "exclude_item_ids": [""]}, "exclude_item_ids.0"),
        ({"history": "318"}, "history"),
        ({"history": [318]}, "history.0"),
        ({"history": [{"item_id": 318}]}, "history.0.item_id"),
        ({"history": [{"item_id": "318", "rating": "five"}]}, "history.0.rating"),
        ({"user_id": "15", "sneaky": True}, "sneaky"),
        ({"history": [{"item_id": "318", "weight": 2}]}, "history.0.weight"),
    ],
)
def test_wrong_types_and_extra_fields_are_a_422_naming_the_field(client, body, field):
    response = client.post("/v1/recommendations", json=body)
    assert field in assert_json_error(response, 422, "invalid_request")["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "bogus"],
)
def test_a_wrong_content_type_is_a_4xx_json_error(client, content_type):
    response = post_raw(client, b'{"user_id": "15"}', headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    assert_json_error(response, response.status_code)


def routes(client) -> dict[str, set[str]]:
    """Every path of the app with its methods; path parameters get real values."""
    paths = client.get("/openapi.json").json()["paths"]
    found = {
        path.replace("{item_id}", "318").replace("{model}", "recsplain-llm"): {
            method.upper() for method in methods
        }
        for path, methods in paths.items()
    }
    for path in ("/openapi.json", "/docs", "/admin/rollout"):
        found.setdefault(path, {"GET"})
    found["/admin/rollout"] |= {"POST"}
    return found


def test_every_method_on_every_route_is_never_a_5xx(client):
    table = routes(client)
    assert {"/v1/recommendations", "/v1/items/318", "/livez", "/readyz", "/healthz"} <= set(table)
    for path, allowed in table.items():
        for method in METHODS:
            response = client.request(method, path, content=b"{}", headers=JSON)
            where = f"{method} {path}: {response.status_code} {response.text[:200]}"
            assert response.status_code < 500, where
            if method == "HEAD":
                continue
            if path.startswith("/admin/"):  # the admin key is checked first, whatever the method
                assert_json_error(response, 401, "unauthorized")
            elif method not in allowed and not (method == "HEAD" and "GET" in allowed):
                assert_json_error(response, 405, "method_not_allowed")
            elif response.status_code >= 400:
                assert_json_error(response, response.status_code)


# The proxy-control headers: read by Ray's proxy before recsplain sees the request.


def test_a_client_cannot_set_the_proxys_timeout(client):
    body = {"user_id": "15", "k": 100, "explain": False}
    for value in ("0.001", "1e-9"):
        response = client.post(
            "/v1/recommendations", json=body, headers={"x-request-timeout-seconds": value}
        )
        assert response.status_code == 200, response.text[:200]


def test_a_client_cannot_keep_an_abandoned_request_running(service, client, default_recommender):
    """With `x-request-disconnect-disabled: ?1` Ray's proxy would not cancel the request when its
    client leaves, and the engine would go on generating for nobody."""
    from tests.test_cancellation import SETTLE_S, cancelled_calls, engine_handle, wait_until_idle

    handle = engine_handle()
    wait_until_idle(handle, 120)
    user = list(default_recommender.histories)[7]
    before = cancelled_calls(client)
    headers = {"Authorization": f"Bearer {API_KEY}", "x-request-disconnect-disabled": "?1"}
    with (
        httpx.Client(base_url=service, headers=headers, timeout=3) as impatient,
        pytest.raises(httpx.TimeoutException),
    ):
        impatient.post("/v1/recommendations", json={"user_id": user, "k": 10})
    wait_until_idle(handle, SETTLE_S)
    assert cancelled_calls(client) > before


@serve.deployment(max_ongoing_requests=1, max_queued_requests=1)
class SlowOrFailing:
    """Not recsplain: a second app in the same Serve instance, to make the proxy answer."""

    async def __call__(self, request) -> str:
        if "fail" in request.query_params:
            raise RuntimeError("a replica failure with a secret in its traceback")
        await asyncio.sleep(float(request.query_params.get("sleep", 0)))
        return "ok"


@pytest.fixture(scope="module")
def proxy_probe(service):
    serve.run(SlowOrFailing.bind(), name="proxy-probe", route_prefix="/proxy-probe")
    yield f"{service}/proxy-probe"
    serve.delete("proxy-probe")


def test_the_proxys_own_answers_are_json_errors(proxy_probe):
    """A full queue (503, answered by the proxy) and a failing replica (500, which uvicorn
    would write as plain text) come back in recsplain's error shape."""
    assert httpx.get(proxy_probe, timeout=30).text == "ok"

    async def crowd() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as http:
            return await asyncio.gather(
                *(http.get(proxy_probe, params={"sleep": "2"}) for _ in range(6))
            )

    responses = asyncio.run(crowd())
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses and 503 in statuses, statuses
    rejected = next(r for r in responses if r.status_code == 503)
    error = assert_json_error(rejected, 503, "unavailable")
    assert error["message"].startswith("proxy: ") and rejected.headers["x-request-id"]
    failed = httpx.get(proxy_probe, params={"fail": "1"}, timeout=30)
    assert assert_json_error(failed, 500, "internal")
    assert "secret" not in failed.text


def test_rays_own_probes_keep_their_answers(service):
    """KubeRay's readiness and liveness probes read these; the proxy middleware leaves them."""
    health = httpx.get(f"{service}/-/healthz", timeout=30)
    assert health.status_code == 200 and health.text == "success"
    routes_ = httpx.get(f"{service}/-/routes", timeout=30)
    assert routes_.status_code == 200 and routes_.json()["/"] == "recsplain"
