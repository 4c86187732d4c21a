"""The floor under recommend-only throughput: a Ray Serve app of recsplain's shape that does no
work.

HTTP proxy -> FastAPI ingress deployment -> one more deployment that returns a small dict, with
the deployment options of recsplain's Ingress and Retriever. It is deployed next to recsplain in
the same Ray instance (`serve.run(app, name="bare", route_prefix="/bare")`), so both share the
proxy, and the same load generator measures both at the same concurrencies: the ratio is what
recsplain's own work (validation, middleware, retrieval, serialisation) costs.
"""

from __future__ import annotations

import time
import uuid

import httpx
from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

APP_NAME = "bare"
ROUTE_PREFIX = "/bare"

api = FastAPI(title="bare")


@serve.deployment
class BareBackend:
    def recommend(self, body: dict) -> dict:
        return {"user_id": body.get("user_id"), "k": body.get("k"), "item_ids": []}


@serve.deployment
@serve.ingress(api)
class BareIngress:
    def __init__(self, backend: DeploymentHandle):
        self.backend = backend

    @api.post("/v1/recommendations")
    async def recommendations(self, body: dict) -> dict:
        result = await self.backend.recommend.remote(body)
        return {"request_id": uuid.uuid4().hex, "items": [], **result}


def build(settings):
    """The bare app with recsplain's deployment options (a `RecsplainSettings`)."""
    deployments = settings.deployments
    backend = BareBackend.options(
        name="BareBackend", **deployments.retriever.serve_options()
    ).bind()
    return BareIngress.options(name="BareIngress", **deployments.ingress.serve_options()).bind(
        backend
    )


def deploy(settings, base_url: str, timeout_s: float = 120) -> str:
    """Deploy next to a running recsplain (same Ray instance and proxy); its base URL once it
    answers."""
    serve.run(build(settings), name=APP_NAME, route_prefix=ROUTE_PREFIX, blocking=False)
    url = base_url.rstrip("/") + ROUTE_PREFIX
    if not answers(url, timeout_s):
        raise TimeoutError(f"the bare app did not answer at {url} within {timeout_s:.0f} s")
    return url


def answers(url: str, timeout_s: float = 5) -> bool:
    """Whether a bare app answers at `url` (polled for up to `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = httpx.post(f"{url}/v1/recommendations", json={"k": 1}, timeout=10)
            if response.status_code == 200 and "items" in response.json():
                return True
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
