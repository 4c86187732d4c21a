"""The real service over HTTP: Ray Serve, the vLLM engine on SmolLM2, FAISS (see conftest)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter

import httpx
import pytest

from tests.conftest import API_KEY, INJECTED_ITEM, SUITE_DEADLINE_MS, WARM_USERS, error_of

AUTH = {"Authorization": f"Bearer {API_KEY}"}
YEAR_TITLE = re.compile(r"([A-Z0-9][^.;:!?\"]{1,80}? \((?:19|20)\d\d\))")


@pytest.fixture(scope="module")
def client(service):
    with httpx.Client(base_url=service, headers=AUTH, timeout=300) as client:
        yield client


def recommend(client, **body):
    return client.post("/v1/recommendations", json=body)


def together(client, *bodies: dict) -> list[httpx.Response]:
    """The requests at once, as users send them: the engine batches their LLM calls, where one
    after another each waits for the last (on 2 cores a decoding step's cost is mostly fixed, so
    a batch of several sequences decodes several times the tokens/s of one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda body: recommend(client, **body), bodies))


def test_recommendations_with_grounded_explanations(client):
    response = recommend(client, user_id="15", k=3)
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == "15" and len(body["items"]) == 3
    assert body["llm"]["model"] == "recsplain-llm" and body["retriever"]["created_at"]
    assert set(body["timings_ms"]) == {"retrieve", "explain", "total"}
    for rank, item in enumerate(body["items"], start=1):
        assert item["rank"] == rank and 1 <= len(item["evidence"]) <= 3
        explanation = item["explanation"]
        assert explanation["source"] in ("llm", "template") and explanation["language"] == "en"
        assert set(explanation["cited_item_ids"]) <= {e["item_id"] for e in item["evidence"]}


def test_explain_false_skips_the_llm(client):
    body = recommend(client, history=[{"item_id": "318", "rating": 5}], k=5, explain=False).json()
    assert len(body["items"]) == 5 and all(i["explanation"] is None for i in body["items"])
    assert "318" not in {i["item_id"] for i in body["items"]}


def test_exclude_item_ids_are_respected(client):
    first = recommend(client, user_id="1", k=3, explain=False).json()["items"]
    again = recommend(
        client, user_id="1", k=3, explain=False, exclude_item_ids=[first[0]["item_id"]]
    ).json()["items"]
    assert first[0]["item_id"] not in {i["item_id"] for i in again}


def sse_events(response) -> list[tuple[str, dict]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.mark.parametrize("how", ["body", "accept"])
def test_streaming_sends_recommendations_then_each_explanation_then_done(client, how):
    body = {"user_id": "15", "k": 3, "stream": how == "body"}
    headers = {"Accept": "text/event-stream"} if how == "accept" else {}
    response = client.post("/v1/recommendations", json=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names == ["recommendations"] + ["explanation"] * 3 + ["done"]
    first = events[0][1]
    assert [i["rank"] for i in first["items"]] == [1, 2, 3]
    assert all(i["explanation"] is None for i in first["items"])
    ranks = sorted(data["rank"] for name, data in events if name == "explanation")
    assert ranks == [1, 2, 3]
    assert events[-1][1]["request_id"] == first["request_id"]


def test_a_tiny_deadline_gives_templates_with_200(client):
    response = recommend(client, user_id="15", k=4, deadline_ms=1)
    assert response.status_code == 200
    explanations = [item["explanation"] for item in response.json()["items"]]
    for explanation in explanations:
        if explanation["cached"]:  # an earlier test already explained this item
            continue
        # Admission control refuses up front what cannot finish in 1 ms; anything else is late.
        assert explanation["source"] == "template"
        assert explanation["reason"] in ("overloaded", "deadline")


def test_every_template_says_why_and_llm_text_does_not(client):
    # The suite's deadline, not the configured 45 s: three users' nine items at once took 33 s
    # on SmolLM2, and what is checked holds for LLM text and templates alike.
    users = ("15", "21", "42")
    bodies = ({"user_id": user, "k": 3, "deadline_ms": SUITE_DEADLINE_MS} for user in users)
    for response in together(client, *bodies):
        for item in response.json()["items"]:
            explanation = item["explanation"]
            if explanation["source"] == "llm":
                assert explanation["reason"] is None
            else:
                assert explanation["reason"] in (
                    "deadline",
                    "overloaded",
                    "capped",
                    "rejected",
                    "llm_error",
                    "no_evidence",
                )


def test_a_precomputed_cache_makes_the_first_request_warm(client, injected_artifacts):
    from retrieval.artifacts import load_recommender

    recommender, _ = load_recommender(injected_artifacts)
    for user in list(recommender.histories)[:WARM_USERS]:
        start = time.perf_counter()
        items = recommend(client, user_id=user, k=3).json()["items"]
        assert all(item["explanation"]["cached"] for item in items), user
        assert {item["explanation"]["reason"] for item in items} <= {None, "rejected"}
        assert time.perf_counter() - start < 5, "no LLM call was needed"


def test_asking_again_is_answered_from_the_cache(client):
    first = recommend(client, user_id="77", k=2, deadline_ms=120_000).json()["items"]
    again = recommend(client, user_id="77", k=2).json()["items"]
    for before, after in zip(first, again, strict=True):
        if before["explanation"]["reason"] in (None, "rejected"):
            assert after["explanation"]["cached"]
            assert after["explanation"]["text"] == before["explanation"]["text"]


def test_another_language_is_answered_in_it(client):
    items = recommend(client, user_id="15", k=2, language="de").json()["items"]
    for item in items:
        explanation = item["explanation"]
        assert explanation["language"] == "de" and explanation["text"]
        if explanation["source"] == "template":
            # "<recommended> wird empfohlen, weil du ... bewertet hast" (issue 15: templates
            # lead with the recommended item)
            assert " wird empfohlen, weil du " in explanation["text"], explanation["text"]


def test_injected_catalog_text_never_reaches_an_explanation(client):
    responses = together(
        client,
        {"history": [{"item_id": INJECTED_ITEM, "rating": 5}], "k": 5},
        {"history": [{"item_id": i, "rating": 5} for i in ("260", "1196", "1210")], "k": 10},
    )
    seen_injected = False
    for response in responses:
        assert response.status_code == 200
        for item in response.json()["items"]:
            ids = {item["item_id"], *(e["item_id"] for e in item["evidence"])}
            seen_injected |= INJECTED_ITEM in ids
            assert "hacked" not in item["explanation"]["text"].lower()
    assert seen_injected


def check_grounded(item: dict, titles: set[str]) -> None:
    """An independent oracle: an LLM explanation names evidence, and no year-titled film
    other than the evidence and the recommended item."""
    explanation = item["explanation"]
    if explanation["source"] == "template":
        return
    evidence = {e["item_id"]: e["title"] for e in item["evidence"]}
    assert explanation["cited_item_ids"] and set(explanation["cited_item_ids"]) <= set(evidence)
    allowed = {item["title"].casefold(), *(t.casefold() for t in evidence.values())}
    for candidate in YEAR_TITLE.findall(explanation["text"]):
        named = {t for t in titles if candidate.casefold().endswith(t)}
        assert not named or named & allowed, (candidate, explanation["text"])


USERS_CHECKED = 8


def test_real_users_get_grounded_explanations_and_the_llm_answers_them(
    service, default_recommender
):
    titles = {title.casefold() for title in default_recommender.titles}
    # 8 users x 2 items, 4 at a time: each answer is checked; 50 users one by one took about 20
    # of the suite's minutes on a 2-core AVX2 CPU and found nothing 16 did not.
    users = list(default_recommender.histories)[:USERS_CHECKED]

    async def run() -> list[httpx.Response]:
        # The test app's retriever takes 1 request and queues 2 (see conftest), so this client
        # keeps few in flight and, like any good client, honours Retry-After on a 503.
        limit = asyncio.Semaphore(4)
        async with httpx.AsyncClient(base_url=service, headers=AUTH, timeout=600) as client:

            async def one(user: str) -> httpx.Response:
                async with limit:
                    for _ in range(10):
                        response = await client.post(
                            "/v1/recommendations", json={"user_id": user, "k": 2}
                        )
                        if response.status_code != 503:
                            break
                        await asyncio.sleep(float(response.headers["Retry-After"]))
                    return response

            return await asyncio.gather(*(one(user) for user in users))

    responses = asyncio.run(run())
    sources: Counter[str] = Counter()
    for response in responses:
        assert response.status_code == 200
        for item in response.json()["items"]:
            explanation = item["explanation"]
            sources[explanation["reason"] or explanation["source"]] += 1
            check_grounded(item, titles)
    assert sum(sources.values()) == 2 * USERS_CHECKED
    print(f"explanation sources for {USERS_CHECKED} users: {dict(sources)}")
    # The test model (SmolLM2) is mostly refused by the verifier, so the share it writes says
    # little; what must hold is that the LLM answered: no call failed, and most items got an
    # answer, accepted or refused (test_llm_guard holds the default model to a share).
    assert sources["llm_error"] == 0, sources
    assert sources["llm"] + sources["rejected"] >= USERS_CHECKED, sources


def test_catalog_item_lookup(client):
    item = client.get("/v1/items/318").json()
    assert item["title"].startswith("Shawshank") and "Drama" in item["genres"]
    missing = client.get("/v1/items/no-such-item")
    assert missing.status_code == 404 and error_of(missing)["code"] == "unknown_item"


def test_health_metrics_and_docs(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    llm = health["llm"]
    assert llm["dtype"] in ("float32", "bfloat16") and llm["dtype_setting"] == "auto"
    assert llm["cpu"]["model"] and isinstance(llm["cpu"]["flags"], list)
    # the dtype vLLM runs in, not the one asked for (a bf16 engine on AVX2 is 4.5x slower)
    assert llm["dtype"] == ("bfloat16" if llm["cpu"]["native_bf16"] else "float32")
    assert llm["warm_up"]["ok"] is True and llm["warm_up"]["seconds"] > 0
    assert health["explanation_cache"]["entries"] >= 1
    catalog = health["retriever"]["catalog"]
    assert catalog == {
        "kind": "explicit",
        "item": "movie",
        "items": "movies",
        "scale": {"min": 0.5, "max": 5.0},
        "action": "watched",
    }
    # The model the build chose on validation is named; the suite's service runs a build made
    # with --no-tune, which says so.
    model = health["retriever"]["model"]
    assert model == "as configured" or model.split("(")[0] in ("hybrid", "ease", "itemknn")
    metrics = client.get("/metrics").text
    for name in (
        "recsplain_requests_total",
        "recsplain_stage_seconds_bucket",
        "recsplain_explanations_total",
        "recsplain_verifier_failures_total",
        "recsplain_template_reasons_total",
        "recsplain_explanation_cache_total",
        "recsplain_llm_queue",
    ):
        assert name in metrics
    assert 'route="/v1/recommendations",status="200"' in metrics
    assert "/v1/recommendations" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_the_model_is_reachable_through_the_openai_api(client):
    models = client.get("/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["recsplain-llm"]
    chat = client.post(
        "/v1/chat/completions",
        json={
            "model": "recsplain-llm",
            "messages": [{"role": "user", "content": "Name a colour."}],
            "max_tokens": 8,
        },
    ).json()
    assert chat["choices"][0]["message"]["content"]
    # one prompt, one choice, bounded output (serve/openai_limits.py)
    too_long = {"model": "recsplain-llm", "messages": [{"role": "user", "content": "hi"}]}
    answer = client.post("/v1/chat/completions", json={**too_long, "max_tokens": 1500})
    assert answer.status_code == 422 and "max_tokens" in error_of(answer)["message"]
    eight = {"model": "recsplain-llm", "prompt": ["Hi"] * 8, "max_tokens": 4}
    answer = client.post("/v1/completions", json=eight)
    assert answer.status_code == 422 and "prompt" in error_of(answer)["message"]
    # an unknown model, and the served one with an adapter suffix (no LoRA is served)
    for model in ("nope", "recsplain-llm:anything"):
        for route in ("/v1/chat/completions", "/v1/completions"):
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
            if route == "/v1/completions":
                body = {"model": model, "prompt": "hi"}
            unknown = client.post(route, json=body)
            assert unknown.status_code == 404, (model, route, unknown.text[:300])
            assert model in error_of(unknown)["message"]


@pytest.mark.parametrize(
    ("body", "status", "code", "mentions"),
    [
        ({"user_id": "no-such-user"}, 404, "unknown_user", "history"),
        ({}, 422, "invalid_request", "user_id and history"),
        ({"user_id": "1", "history": [{"item_id": "1"}]}, 422, "invalid_request", "exactly one"),
        ({"user_id": "1", "k": 0}, 422, "invalid_request", "k:"),
        ({"user_id": "1", "k": 101}, 422, "invalid_request", "k:"),
        (
            {"history": [{"item_id": "318"}, {"item_id": "x1"}, {"item_id": "x2"}]},
            422,
            "unknown_items",
            "x1', 'x2",
        ),
        ({"user_id": "1", "language": "tlh"}, 422, "invalid_request", "language"),
        ({"user_id": "1", "surprise": 1}, 422, "invalid_request", "surprise"),
        (
            {"history": [{"item_id": "318", "rating": 4}, {"item_id": "1", "rating": 10}]},
            422,
            "invalid_request",
            "history.1.rating: 10 is outside this catalog's rating scale 0.5 to 5",
        ),
        (
            {"history": [{"item_id": "318", "rating": 13883}]},
            422,
            "invalid_request",
            "rating scale 0.5 to 5",
        ),
    ],
)
def test_bad_requests_get_clear_json_errors(client, body, status, code, mentions):
    response = client.post("/v1/recommendations", json=body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code and mentions in error["message"]


def test_invalid_json_and_oversized_bodies(client):
    broken = client.post(
        "/v1/recommendations", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and "not valid JSON" in error_of(broken)["message"]
    huge = client.post(
        "/v1/recommendations",
        content=b'{"user_id": "1", "pad": "' + b"x" * (1 << 20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and error_of(huge)["code"] == "body_too_large"


def test_the_api_key_is_enforced_except_on_probes(service):
    with httpx.Client(base_url=service, timeout=60) as anonymous:
        missing = anonymous.post("/v1/recommendations", json={"user_id": "1"})
        wrong = anonymous.post(
            "/v1/recommendations", json={"user_id": "1"}, headers={"Authorization": "Bearer no"}
        )
        assert missing.status_code == wrong.status_code == 401
        assert error_of(missing)["code"] == "unauthorized"
        for probe in ("/livez", "/readyz"):
            answer = anonymous.get(probe)
            assert answer.status_code == 200
            assert set(answer.json()) <= {"status", "reason", "checks", "checked_at"}, probe
        assert anonymous.get("/healthz").status_code == 401  # build, CPU and queue: keyed


def test_a_full_retriever_queue_answers_503_with_retry_after(service):
    """The test app's retriever takes 1 request at a time and queues 2."""

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=service, headers=AUTH, timeout=120) as client:
            body = {"user_id": "15", "k": 10, "explain": False}
            return await asyncio.gather(
                *(client.post("/v1/recommendations", json=body) for _ in range(64))
            )

    responses = asyncio.run(burst())
    statuses = {response.status_code for response in responses}
    assert statuses <= {200, 503} and 503 in statuses and 200 in statuses
    rejected = next(r for r in responses if r.status_code == 503)
    assert rejected.headers["Retry-After"] == "2" and error_of(rejected)["code"] == "overloaded"
