"""The Ingress deployment: the recsplain HTTP API, plus the model's OpenAI-compatible routes.

It extends Ray Serve LLM's `OpenAiIngress`, so `/v1/chat/completions` and `/v1/models` are served
by Ray's own router on the same port, and calls the Retriever and the LLM through handles.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle
from ray.serve.llm.ingress import OpenAiIngress
from ray.serve.llm.openai_api_models import ChatCompletionRequest, CompletionRequest
from vllm.exceptions import VLLMClientError

from retrieval.artifacts import read_manifest
from serve import admin, metrics
from serve.answers import Answer
from serve.api import (
    ApiError,
    CatalogItem,
    ExplanationRequest,
    RecommendationRequest,
    RecommendationResponse,
    error_response,
    error_responses,
    install_error_handlers,
)
from serve.config import RecsplainSettings
from serve.explain.admission import Admission
from serve.explain.builds import Builds
from serve.explain.catalog import Catalog
from serve.explain.policy import ExplanationPolicy, build_policy
from serve.health import ReadinessMonitor
from serve.llm_client import LLMClient
from serve.middleware import (
    EDGE,
    BearerToken,
    BodyLimit,
    RateLimit,
    RequestMetrics,
)
from serve.openai_limits import limit_openai_request, unreadable_as_400
from serve.ray_private import OpenAIHTTPException
from serve.resilience import call_with_retries
from serve.retriever import RetrievalFailure, RetrievalRequest, RetrievalResult
from serve.rollout import Build, BuildFollower

log = logging.getLogger(__name__)

app = FastAPI(
    title="recsplain",
    description="Personalized recommendations, each with a grounded explanation.",
    version="0.1.0",
)
install_error_handlers(app)
app.add_middleware(BodyLimit)
app.add_middleware(RateLimit)  # inside the token check: only real keys get a bucket
app.add_middleware(BearerToken)
app.add_middleware(RequestMetrics)


@app.exception_handler(OpenAIHTTPException)
async def _openai_error(request: Request, exc: OpenAIHTTPException):
    return error_response(exc.status_code, exc.type, exc.message)


@app.exception_handler(VLLMClientError)
async def _vllm_client_error(request: Request, exc: VLLMClientError):
    """vLLM's request models raise this from their validators, which FastAPI would make a 500
    (e.g. /v1/completions without a prompt)."""
    return error_response(422, "invalid_request", str(exc))


NOT_READY = {503: {"description": "not ready; the body names the reason"}}
ENDPOINTS = {
    "recommendations": lambda app: app.post(
        "/v1/recommendations",
        response_model=RecommendationResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            **error_responses(401, 404, 413, 422, 503),
        },
    ),
    "explanations": lambda app: app.post(
        "/v1/explanations",
        response_model=RecommendationResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            **error_responses(401, 404, 413, 422, 503),
        },
    ),
    "item": lambda app: app.get(
        "/v1/items/{item_id}",
        response_model=CatalogItem,
        responses=error_responses(401, 404, 422, 503),
    ),
    "rollout": lambda app: app.post("/admin/rollout", include_in_schema=False),
    "rollout_state": lambda app: app.get("/admin/rollout", include_in_schema=False),
    "livez": lambda app: app.get("/livez"),
    "readyz": lambda app: app.get("/readyz", responses=NOT_READY),
    "healthz": lambda app: app.get("/healthz", responses=NOT_READY),
    "prometheus": lambda app: app.get("/metrics", response_class=PlainTextResponse),
    "models": lambda app: app.get("/v1/models", responses=error_responses(401)),
    "model_data": lambda app: app.get(
        "/v1/models/{model:path}", responses=error_responses(401, 404, 422)
    ),
    "chat": lambda app: app.post(
        "/v1/chat/completions", responses=error_responses(400, 401, 404, 413, 422, 503)
    ),
    "completions": lambda app: app.post(
        "/v1/completions", responses=error_responses(400, 401, 404, 413, 422, 503)
    ),
}


def _history(body: RecommendationRequest | ExplanationRequest) -> list | None:
    return [(e.item_id, e.rating) for e in body.history] if body.history else None


# How a retriever failure reads to the client.
FAILURES = {
    RetrievalFailure.UNKNOWN_USER: (
        404,
        "unknown_user",
        "user_id {user_id!r} is not known; send `history` (a list of liked item ids) instead",
    ),
    RetrievalFailure.UNKNOWN_ITEMS: (422, "unknown_items", "{field}: unknown item ids {item_ids}"),
    RetrievalFailure.INVALID_VALUES: (422, "invalid_request", "{problems}"),
}


class RecsplainIngress(OpenAiIngress):
    async def __init__(
        self,
        llm_deployments: dict[str, DeploymentHandle],
        model_cards: dict,
        retriever: DeploymentHandle,
        registry: DeploymentHandle,
        settings: dict,
    ):
        super().__init__(llm_deployments=llm_deployments, model_cards=model_cards)
        self.settings = RecsplainSettings(**settings)
        self.model_id = self.settings.llm.model_id
        self.llm = llm_deployments[self.model_id]
        self.retriever = retriever
        api = self.settings.api
        # before any RPC: no key fails fast
        EDGE.configure(
            api.auth,
            api.max_body_bytes,
            api.rate_limit_per_s,
            api.rate_limit_burst,
            api.body_timeout_s,
        )
        explain = self.settings.explain
        self.llm_info = await self.llm.engine_info.remote()
        self.admission = Admission(
            explain.expected_call_s, explain.max_llm_calls_per_request, explain.admission
        )
        self.llm_client = LLMClient(self.llm, self.settings, self.admission)
        self.registry = registry
        self.builds = Builds(
            registry.path_of.remote,
            self._policy_for,
            lambda: self.follower.serving and self.follower.serving.data_hash,
        )
        self.follower = BuildFollower(
            registry, "ingress", self.settings.rollout.poll_s, self._use_build
        )
        configured = self.settings.artifacts_path()
        manifest = await asyncio.to_thread(read_manifest, configured)
        await self.follower.start(fallback=Build(0, str(configured), manifest["data_hash"]))
        self.warm_up: dict | None = None  # /healthz: how the warm-up went
        if explain.warm_up:
            await self._warm_up()
        self._follow = asyncio.create_task(self.follower.run())
        self._load_poller = asyncio.create_task(self.llm_client.poll_engine_load())
        self.readiness = ReadinessMonitor(
            self._check_dependencies, api.health_refresh_s, api.health_timeout_s
        )
        self.readiness.start()

    async def chat(self, body: ChatCompletionRequest, request: Request) -> Response:
        limit_openai_request(body, self.settings.api)
        return await unreadable_as_400(super().chat(body, request))

    async def completions(self, body: CompletionRequest, request: Request) -> Response:
        limit_openai_request(body, self.settings.api)
        return await unreadable_as_400(super().completions(body, request))

    async def _get_model_id(self, model: str | None) -> str:
        """Only the served model itself: recsplain serves no LoRA adapters, and Ray's
        `base:adapter` routing would make a handle for any suffix and answer it with a 500."""
        model_id = await super()._get_model_id(model)
        if model_id not in self._model_cards:
            raise ApiError(404, "model_not_found", f"model {model_id!r} is not served")
        return model_id

    async def _warm_up(self) -> None:
        """Explain one item of the served catalog before this replica is ready (bounded by the
        request deadline); a failure only means the first request pays for it."""
        catalog, policy = self.builds.served()
        start = time.perf_counter()
        try:
            request = RetrievalRequest(k=1, history=[(catalog.titles[0][0], None)])
            result: RetrievalResult = await self.retriever.recommend.remote(request)
            tasks = [task for task in result.tasks if task.evidence]
            if not tasks:
                raise LookupError(f"no evidence for item {catalog.titles[0][0]!r}")
            await asyncio.wait_for(policy.warm_up(tasks[0]), self.settings.explain.deadline_s)
            self.warm_up = {"ok": True, "seconds": round(time.perf_counter() - start, 2)}
            log.info("LLM warmed up in %.1f s", self.warm_up["seconds"])
        except Exception as exc:  # the LLM may still be loading or broken: serve templates then
            self.warm_up = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            log.warning("LLM warm-up failed (%s); the first request pays for it", exc)

    async def _check_dependencies(self) -> None:
        """Raises unless the index answers and the LLM engine reports healthy."""
        await asyncio.gather(self.retriever.info.remote(), self.llm.check_health.remote())

    async def _use_build(self, build: Build) -> None:
        await self.builds.get(build.data_hash, build.path)

    def _policy_for(self, data_hash: str, catalog: Catalog) -> ExplanationPolicy:
        explain = self.settings.explain
        cache_file = explain.cache_file and self.settings.resolve(explain.cache_file)
        return build_policy(
            self.settings,
            data_hash,
            catalog.titles,
            catalog.vocabulary,
            self.llm_client.generate,
            self.admission,
            explain.cache_size,
            cache_file,
        )

    @property
    def policy(self) -> ExplanationPolicy:
        """The policy of the build this replica follows (for /healthz's cache figures)."""
        return self.builds.served()[1]

    @property
    def retriever_info(self) -> dict:
        """The build this replica follows, as /healthz shows it."""
        return self.builds.served()[0].info

    def _retriever_overloaded(self) -> ApiError:
        """The 503 for a full retriever queue, whichever endpoint met it."""
        metrics.QUEUE_REJECTIONS.labels(deployment="retriever").inc()
        return ApiError(
            503,
            "overloaded",
            "the retriever queue is full; retry later",
            {"Retry-After": str(self.settings.api.retry_after_s)},
        )

    async def _retrieve(self, request: RetrievalRequest) -> RetrievalResult:
        try:
            result: RetrievalResult = await call_with_retries(
                lambda: self.retriever.recommend.remote(request),
                retries=self.settings.api.retrieval_retries,
                budget_s=self.settings.api.retrieval_retry_budget_s,
                retry_after_s=self.settings.api.retry_after_s,
                what="retriever",
            )
        except BackPressureError:
            raise self._retriever_overloaded() from None
        if result.failure is not None:
            status, code, message = FAILURES[result.failure]
            raise ApiError(status, code, message.format(**result.failure_details))
        return result

    async def recommendations(self, body: RecommendationRequest, request: Request) -> Response:
        retrieval = RetrievalRequest(
            k=body.k,
            user_id=body.user_id,
            history=_history(body),
            exclude_item_ids=body.exclude_item_ids,
            language=body.language,
            explain=body.explain,
        )
        return await self._answer(body, retrieval, body.explain, request)

    async def explanations(self, body: ExplanationRequest, request: Request) -> Response:
        """Explain the caller's own items: the same evidence, policy, cache and events as a
        recommendation, for items chosen elsewhere."""
        retrieval = RetrievalRequest(
            k=len(body.item_ids),
            user_id=body.user_id,
            history=_history(body),
            language=body.language,
            item_ids=body.item_ids,
        )
        return await self._answer(body, retrieval, True, request)

    async def _answer(
        self,
        body: RecommendationRequest | ExplanationRequest,
        retrieval: RetrievalRequest,
        explain: bool,
        request: Request,
    ) -> Response:
        """Items, then their explanations: as one JSON body, or as server-sent events."""
        start = time.perf_counter()
        result = await self._retrieve(retrieval)
        catalog, policy = await self.builds.get(result.data_hash)
        retrieved = time.perf_counter()
        metrics.STAGE_SECONDS.labels(stage="retrieve").observe(retrieved - start)
        deadline_s = self.settings.explain.deadline_s
        if body.deadline_ms is not None:
            deadline_s = min(deadline_s, body.deadline_ms / 1000)
        head = {
            "request_id": uuid.uuid4().hex,
            "user_id": body.user_id,
            "retriever": catalog.info,
            "llm": {"model": self.model_id, "dtype": self.llm_info["dtype"]},
        }
        wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        explanations = policy.explain_all(result.tasks, deadline_s) if explain else None
        return await Answer(head, result, explanations, start, retrieved).response(wants_stream)

    async def item(self, item_id: str) -> CatalogItem:
        try:
            found = await self.retriever.item.remote(item_id)
        except BackPressureError:
            raise self._retriever_overloaded() from None
        if found is None:
            raise ApiError(404, "unknown_item", f"item_id {item_id!r} is not in the catalog")
        return CatalogItem(**found)

    async def livez(self) -> Response:
        """200 while this process serves HTTP; no RPC, so a probe flood costs nothing."""
        return JSONResponse({"status": "ok"})

    async def readyz(self) -> Response:
        """The last background readiness check: 503 with the reason when it failed or is stale."""
        readiness = self.readiness.status()
        return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503)

    async def healthz(self) -> Response:
        """Readiness (as /readyz, from the background check) with the serving details."""
        readiness = self.readiness.status()
        return JSONResponse(
            {
                **readiness.as_json(),
                "retriever": self.retriever_info,
                "llm": {"model": self.model_id, **self.llm_info, "warm_up": self.warm_up},
                "explanation_cache": {
                    "entries": len(self.policy.cache),
                    "size": self.policy.cache.size,
                },
                "admission": {
                    "queue": self.admission.queue(),
                    "calls_per_second": round(self.admission.throughput, 3),
                },
            },
            status_code=200 if readiness.ready else 503,
        )

    async def rollout(self, request: Request) -> Response:
        """Move every replica to a build and wait until they all serve it (`serve.admin`)."""
        return await admin.rollout(self.settings, self.registry, await request.body())

    async def rollout_state(self, request: Request) -> Response:
        return JSONResponse(await self.registry.status.remote())

    async def prometheus(self) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
