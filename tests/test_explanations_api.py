"""POST /v1/explanations: a caller's own items explained for one user.

First the pure parts (evidence for items chosen elsewhere, the "never new" rule, the cache key),
then the real app (conftest's `service`: Ray Serve, vLLM on SmolLM2, FAISS)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from retrieval.recommender import Query, UnknownItemsError
from serve.explain import prompts
from serve.explain.cache import ExplanationCache, Namespace
from serve.explain.explanation import ExplainTask, Explanation, Fact
from serve.explain.policy import grounding_verifier
from tests.conftest import WARM_USERS, error_of

HEAT = Fact("6", "Heat (1995)", ("Action", "Crime", "Thriller"), rating=5.0, similarity=0.8)
RONIN = Fact("2058", "Ronin (1998)", ("Action", "Crime", "Thriller"))
NEW_YORK = Fact("7", "New York Stories (1989)", ("Comedy", "Drama"))
KNOWN = ExplainTask(RONIN, (HEAT,), ("Action", "Crime"), known=True)
CATALOG = [("6", HEAT.title), ("2058", RONIN.title), ("7", NEW_YORK.title)]
NAMESPACE = Namespace("model", prompts.prompt_version(), "data")


def answer(text: str) -> str:
    return json.dumps({"explanation": text})


# The retriever's part: scores and evidence for items it did not choose.


def test_described_items_keep_the_callers_order_and_say_which_the_user_has(
    default_recommender,
):
    rec = default_recommender
    history = rec.user_history("15")
    had = rec.item_ids[history.items[history.positive][0]]  # liked: evidence, but not its own
    top = [r.item_id for r in rec.recommend([Query(history)], 3)[0]]
    asked = [top[2], had, top[0]]
    described = rec.describe(Query(history), asked)
    assert [r.item_id for r in described] == asked
    assert [r.rank for r in described] == [1, 2, 3]
    assert [r.in_history for r in described] == [False, True, False]
    assert all(r.evidence for r in described)
    assert had not in {e.item_id for e in described[1].evidence}, "its own evidence"
    with pytest.raises(UnknownItemsError) as error:
        rec.describe(Query(history), [top[0], "nope"])
    assert error.value.item_ids == ["nope"]


def test_an_item_that_is_the_whole_history_has_no_evidence(default_recommender):
    rec = default_recommender
    history = rec.history_from_items([("318", 5.0)])
    [described] = rec.describe(Query(history), ["318"])
    assert described.in_history and described.evidence == []


# The explanation's part: a known item is never called new, and is cached apart.


def test_a_known_item_called_new_is_rejected_and_only_then():
    verifier = grounding_verifier(CATALOG)
    new = answer("You rated Heat (1995) 5/5, so this new crime thriller should suit you.")
    assert verifier.check(new, KNOWN).reason == "known_called_new"
    assert verifier.check(new, replace(KNOWN, known=False)).ok
    plain = answer("You rated Heat (1995) 5/5, so this crime thriller should suit you.")
    assert verifier.check(plain, KNOWN).ok
    # A title's own words are no claim.
    titled = ExplainTask(RONIN, (replace(NEW_YORK, rating=5.0),), (), known=True)
    assert verifier.check(answer("You rated New York Stories (1989) 5/5."), titled).ok
    german = answer("Du hast Heat (1995) mit 5/5 bewertet, also ist dieser neue Thriller gut.")
    assert verifier.check(german, replace(KNOWN, language="de")).reason == "known_called_new"


def test_a_known_items_prompt_says_so_after_the_data():
    told = prompts.messages(KNOWN)[-1]["content"]
    assert "already in the user's history" in told
    assert told.index("</recommended>") < told.index("already in the user's history")
    unknown = prompts.messages(replace(KNOWN, known=False))[-1]["content"]
    assert "already in the user's history" not in unknown


def test_a_known_item_is_cached_apart_and_survives_a_cache_file(tmp_path):
    cache = ExplanationCache(NAMESPACE, 10)
    known, fresh = cache.key(KNOWN), cache.key(replace(KNOWN, known=False))
    assert known != fresh
    text = "You rated Heat (1995) 5/5."
    cache.put(known, Explanation(text, ("6",), "llm", "en"))
    assert cache.get(fresh) is None
    cache.save(tmp_path / "cache.jsonl")
    loaded = ExplanationCache(NAMESPACE, 10)
    assert loaded.load(tmp_path / "cache.jsonl") == 1
    assert loaded.get(known).text == text and loaded.get(fresh) is None


# Over HTTP, on the real app.


def explain(client, **body):
    return client.post("/v1/explanations", json=body)


def test_a_callers_list_is_explained_in_its_order(client):
    chosen = client.post(
        "/v1/recommendations", json={"user_id": "21", "k": 3, "explain": False}
    ).json()["items"]
    asked = [item["item_id"] for item in reversed(chosen)]
    response = explain(client, user_id="21", item_ids=asked, deadline_ms=1)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["item_id"] for i in items] == asked
    assert [i["rank"] for i in items] == [1, 2, 3]
    for item, recommended in zip(items, reversed(chosen), strict=True):
        assert item["evidence"] == recommended["evidence"], "the same evidence as recommended"
        assert not item["in_history"]
        assert item["explanation"]["source"] in ("llm", "template")


def test_the_cache_is_shared_with_recommendations(client, injected_artifacts):
    """The warm users' top items were explained before the app started: the same evidence,
    asked for through the other endpoint in another order, is the same cached answer."""
    from retrieval.artifacts import load_recommender

    recommender, _ = load_recommender(injected_artifacts)
    user = list(recommender.histories)[WARM_USERS - 1]
    recommended = client.post("/v1/recommendations", json={"user_id": user, "k": 3}).json()
    by_id = {item["item_id"]: item["explanation"] for item in recommended["items"]}
    asked = list(reversed(by_id))
    items = explain(client, user_id=user, item_ids=asked).json()["items"]
    for item in items:
        assert item["explanation"]["cached"], item
        assert item["explanation"]["text"] == by_id[item["item_id"]]["text"]


def test_an_item_the_user_has_is_explained_but_never_as_new(client):
    history = [{"item_id": "318", "rating": 5}, {"item_id": "296", "rating": 4.5}]
    body = explain(client, history=history, item_ids=["296", "2571"], deadline_ms=60_000).json()
    had, other = body["items"]
    assert had["in_history"] and not other["in_history"]
    assert [e["item_id"] for e in had["evidence"]] == ["318"]
    explanation = had["explanation"]
    assert explanation["reason"] != "no_evidence"
    assert "296" not in explanation["cited_item_ids"]
    if explanation["source"] == "llm":
        assert " new " not in f" {explanation['text'].lower()} "
    alone = explain(client, history=[{"item_id": "318", "rating": 5}], item_ids=["318"])
    assert alone.json()["items"][0]["explanation"]["reason"] == "no_evidence"


def test_unknown_and_repeated_item_ids_are_422s_naming_them(client):
    unknown = explain(client, user_id="15", item_ids=["318", "no-such", "nor-this"])
    assert unknown.status_code == 422
    error = error_of(unknown)
    assert error["code"] == "unknown_items"
    assert error["message"].startswith("item_ids:")
    assert "no-such" in error["message"] and "nor-this" in error["message"]
    assert "318" not in error["message"]
    twice = explain(client, user_id="15", item_ids=["318", "296", "318"])
    assert twice.status_code == 422 and error_of(twice)["message"].startswith("item_ids:")
    assert "318" in error_of(twice)["message"]
    for body, field in [
        ({"user_id": "15", "item_ids": []}, "item_ids"),
        ({"user_id": "15", "item_ids": [str(i) for i in range(101)]}, "item_ids"),
        ({"user_id": "15"}, "item_ids"),
        ({"user_id": "15", "item_ids": ["318"], "k": 3}, "k"),
        ({"item_ids": ["318"]}, "user_id"),
    ]:
        response = explain(client, **body)
        assert response.status_code == 422, body
        assert field in error_of(response)["message"], (body, error_of(response))
    assert explain(client, user_id="no-such-user", item_ids=["318"]).status_code == 404


def test_explanations_stream_as_recommendations_do(client):
    response = client.post(
        "/v1/explanations",
        json={"user_id": "15", "item_ids": ["2571", "1"], "deadline_ms": 1},
        headers={"Accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    assert [name for name, _ in events] == ["recommendations", "explanation", "explanation", "done"]
    assert [i["item_id"] for i in events[0][1]["items"]] == ["2571", "1"]
    explained = {data["item_id"]: data["rank"] for name, data in events if name == "explanation"}
    assert explained == {"2571": 1, "1": 2}


def test_the_endpoint_needs_the_key_and_is_documented(service, client):
    import httpx

    assert httpx.post(f"{service}/v1/explanations", json={}).status_code == 401
    schema = client.get("/openapi.json").json()
    assert "/v1/explanations" in schema["paths"]
    metrics = client.get("/metrics").text
    assert 'route="/v1/explanations"' in metrics
