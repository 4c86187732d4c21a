"""Liveness, readiness and the item lookup's overload answer on the running app (conftest's
`service`): probes read a status refreshed in the background and make no RPC themselves."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import API_KEY


def test_livez_and_readyz_answer_without_the_key(service):
    with httpx.Client(base_url=service, timeout=30) as anonymous:
        live = anonymous.get("/livez")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        ready = anonymous.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ok" and body["reason"] is None
        assert body["checks"] >= 1 and time.time() - body["checked_at"] < 3 * 5 + 10


def test_a_probe_flood_makes_no_rpc(service):
    """200 concurrent /readyz: the checks counter moves only with the background refresh
    (every api.health_refresh_s = 5 s), not once per probe as when each probe called the
    retriever and the LLM."""

    async def flood() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=service, timeout=60) as anonymous:
            start = time.monotonic()
            responses = await asyncio.gather(*(anonymous.get("/readyz") for _ in range(200)))
            return responses, time.monotonic() - start

    before = httpx.get(f"{service}/readyz", timeout=30).json()["checks"]
    responses, elapsed = asyncio.run(flood())
    after = httpx.get(f"{service}/readyz", timeout=30).json()["checks"]
    assert all(r.status_code == 200 for r in responses)
    assert after - before <= elapsed / 5 + 1, (before, after, elapsed)
    assert {r.json()["checks"] for r in responses} <= set(range(before, after + 1))
    print(f"200 probes in {elapsed:.2f} s; background checks meanwhile: {after - before}")


def test_healthz_keeps_its_details(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["checked_at"]
    assert health["retriever"]["data_hash"] and health["llm"]["model"] == "recsplain-llm"


def test_a_full_retriever_queue_gives_item_lookups_503_with_retry_after(service):
    """The test app's retriever takes 1 request at a time and queues 2; item lookups wait in
    the same queue as recommendations."""
    auth = {"Authorization": f"Bearer {API_KEY}"}

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=service, headers=auth, timeout=120) as client:
            body = {"user_id": "15", "k": 100, "explain": False}
            recommendations = [client.post("/v1/recommendations", json=body) for _ in range(32)]
            items = [client.get("/v1/items/318") for _ in range(64)]
            return (await asyncio.gather(*recommendations, *items))[32:]

    responses = asyncio.run(burst())
    statuses = {response.status_code for response in responses}
    assert statuses <= {200, 503} and 503 in statuses, statuses
    rejected = next(r for r in responses if r.status_code == 503)
    assert rejected.headers["Retry-After"] == "2"
    assert rejected.json()["error"]["code"] == "overloaded"
