"""The Ingress deployment: the recsplain HTTP API, plus the model's OpenAI-compatible routes.

It extends Ray Serve LLM's `OpenAiIngress`, so `/v1/chat/completions` and `/v1/models` are served
by Ray's own router on the same port, and calls the Retriever and the LLM through handles.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from ray.llm._internal.serve.core.configs.openai_api_models import OpenAIHTTPException
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle
from ray.serve.llm.ingress import OpenAiIngress
from ray.serve.llm.openai_api_models import ChatCompletionRequest, ErrorResponse

from serve import metrics
from serve.api import (
    ApiError,
    CatalogItem,
    ExplanationOut,
    RecommendationRequest,
    RecommendationResponse,
    error_body,
    install_error_handlers,
)
from serve.config import RecsplainSettings
from serve.explain.admission import Admission
from serve.explain.cache import ExplanationCache, Namespace
from serve.explain.explanation import Explanation
from serve.explain.policy import ExplanationPolicy, grounding_verifier
from serve.middleware import BearerToken, BodyLimit, RequestMetrics
from serve.retriever import RetrievalFailure, RetrievalRequest, RetrievalResult

log = logging.getLogger(__name__)

app = FastAPI(
    title="recsplain",
    description="Personalized recommendations, each with a grounded explanation.",
    version="0.1.0",
)
install_error_handlers(app)
app.add_middleware(BodyLimit)
app.add_middleware(BearerToken)
app.add_middleware(RequestMetrics)


@app.exception_handler(OpenAIHTTPException)
async def _openai_error(request: Request, exc: OpenAIHTTPException):
    return JSONResponse(error_body(exc.type, exc.message), exc.status_code)


ENDPOINTS = {
    "recommendations": lambda app: app.post(
        "/v1/recommendations",
        response_model=RecommendationResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    ),
    "item": lambda app: app.get("/v1/items/{item_id}", response_model=CatalogItem),
    "healthz": lambda app: app.get("/healthz"),
    "prometheus": lambda app: app.get("/metrics"),
    "models": lambda app: app.get("/v1/models"),
    "model_data": lambda app: app.get("/v1/models/{model:path}"),
    "chat": lambda app: app.post("/v1/chat/completions"),
    "completions": lambda app: app.post("/v1/completions"),
}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _explanation_json(explanation: Explanation) -> dict:
    return ExplanationOut.model_validate(asdict(explanation)).model_dump(mode="json")


# How a retriever failure reads to the client.
FAILURES = {
    RetrievalFailure.UNKNOWN_USER: (
        404,
        "unknown_user",
        "user_id {user_id!r} is not known; send `history` (a list of liked item ids) instead",
    ),
    RetrievalFailure.UNKNOWN_ITEMS: (422, "unknown_items", "history: unknown item ids {item_ids}"),
    RetrievalFailure.INVALID_VALUES: (422, "invalid_request", "{problems}"),
}


class RecsplainIngress(OpenAiIngress):
    async def __init__(
        self,
        llm_deployments: dict[str, DeploymentHandle],
        model_cards: dict,
        retriever: DeploymentHandle,
        settings: dict,
    ):
        super().__init__(llm_deployments=llm_deployments, model_cards=model_cards)
        self.settings = RecsplainSettings(**settings)
        self.model_id = self.settings.llm.model_id
        self.llm = llm_deployments[self.model_id]
        self.llm_stream = self.llm.options(stream=True)
        self.retriever = retriever
        app.state.max_body_bytes = self.settings.api.max_body_bytes
        explain = self.settings.explain
        vocabulary = await retriever.vocabulary.remote()
        verifier = grounding_verifier(
            await retriever.titles.remote(), explain.max_chars, vocabulary
        )
        self.retriever_info = await retriever.info.remote()
        self.llm_info = await self.llm.engine_info.remote()
        cache = ExplanationCache(
            Namespace.of(self.settings, self.retriever_info["data_hash"], vocabulary),
            explain.cache_size,
        )
        if explain.cache_file is not None:
            cache_file = self.settings.resolve(explain.cache_file)
            if cache_file.is_file():
                cache.load(cache_file)
            else:
                log.warning("no precomputed explanations at %s; starting cold", cache_file)
        self.admission = Admission(
            explain.expected_call_s, explain.max_llm_calls_per_request, explain.admission
        )
        self.policy = ExplanationPolicy(verifier, explain, self._generate, cache, self.admission)
        self._load_poller = asyncio.create_task(self._poll_engine_load())

    async def _poll_engine_load(self) -> None:
        """Keep admission control's view of the engine's queue fresh."""
        while True:
            try:
                load = await asyncio.wait_for(
                    self.llm.engine_load.remote(), timeout=max(5.0, self.settings.llm.load_poll_s)
                )
                self.admission.observe_engine(load["unfinished_requests"])
            except Exception as exc:  # the engine restarting must not stop the poller
                log.debug("engine load poll failed: %s: %s", type(exc).__name__, exc)
                self.admission.observe_engine(0)  # a stale queue would refuse every call
            metrics.LLM_QUEUE.set(self.admission.queue())
            metrics.LLM_THROUGHPUT.set(self.admission.throughput)
            await asyncio.sleep(self.settings.llm.load_poll_s)

    async def _generate(self, messages: list[dict], schema: dict) -> str:
        request = ChatCompletionRequest(
            model=self.model_id,
            messages=messages,
            max_tokens=self.settings.explain.max_tokens,
            temperature=self.settings.explain.temperature,
            stream=False,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "explanation", "schema": schema},
            },
        )
        start = time.perf_counter()
        response = self.llm_stream.chat.remote(request)
        try:
            async for chunk in response:
                if isinstance(chunk, list):
                    chunk = chunk[0]
                if isinstance(chunk, ErrorResponse):
                    raise RuntimeError(chunk.error.message)
                return chunk.choices[0].message.content or ""
        except asyncio.CancelledError:
            # Cancelling the local await leaves the replica generating; this aborts the request
            # inside the engine (Ray cancels the replica's task, vLLM aborts the sequence).
            response.cancel()
            raise
        except BackPressureError:
            metrics.QUEUE_REJECTIONS.labels(deployment="llm").inc()
            raise
        finally:
            metrics.STAGE_SECONDS.labels(stage="llm_call").observe(time.perf_counter() - start)
        raise RuntimeError("the LLM returned no response")

    async def _retrieve(self, body: RecommendationRequest) -> RetrievalResult:
        request = RetrievalRequest(
            k=body.k,
            user_id=body.user_id,
            history=[(e.item_id, e.rating) for e in body.history] if body.history else None,
            exclude_item_ids=body.exclude_item_ids,
            language=body.language,
            explain=body.explain,
        )
        try:
            result: RetrievalResult = await self.retriever.recommend.remote(request)
        except BackPressureError:
            metrics.QUEUE_REJECTIONS.labels(deployment="retriever").inc()
            raise ApiError(
                503,
                "overloaded",
                "the retriever queue is full; retry later",
                {"Retry-After": str(self.settings.api.retry_after_s)},
            ) from None
        if result.failure is not None:
            status, code, message = FAILURES[result.failure]
            raise ApiError(status, code, message.format(**result.failure_details))
        return result

    async def recommendations(self, body: RecommendationRequest, request: Request) -> Response:
        start = time.perf_counter()
        result = await self._retrieve(body)
        retrieved = time.perf_counter()
        metrics.STAGE_SECONDS.labels(stage="retrieve").observe(retrieved - start)
        deadline_s = self.settings.explain.deadline_s
        if body.deadline_ms is not None:
            deadline_s = min(deadline_s, body.deadline_ms / 1000)
        head = {
            "request_id": uuid.uuid4().hex,
            "user_id": body.user_id,
            "retriever": self.retriever_info,
            "llm": {"model": self.model_id, "dtype": self.llm_info["dtype"]},
        }
        wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        explanations = self.policy.explain_all(result.tasks, deadline_s) if body.explain else None
        if wants_stream:
            return StreamingResponse(
                self._events(head, result, explanations, start, retrieved),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        items = [dict(item, explanation=None) for item in result.items]
        if explanations is not None:
            async for index, explanation in explanations:
                items[index]["explanation"] = _explanation_json(explanation)
        response = RecommendationResponse.model_validate(
            {**head, "items": items, "timings_ms": self._timings(start, retrieved)}
        )
        return JSONResponse(response.model_dump(mode="json"))

    async def _events(
        self,
        head: dict,
        result: RetrievalResult,
        explanations: AsyncIterator[tuple[int, Explanation]] | None,
        start: float,
        retrieved: float,
    ) -> AsyncIterator[str]:
        items = [dict(item, explanation=None) for item in result.items]
        yield _sse(
            "recommendations",
            {**head, "items": items, "timings_ms": {"retrieve": _ms(retrieved - start)}},
        )
        if explanations is not None:
            async for index, explanation in explanations:
                item = result.items[index]
                yield _sse(
                    "explanation",
                    {
                        "rank": item["rank"],
                        "item_id": item["item_id"],
                        "explanation": _explanation_json(explanation),
                    },
                )
        yield _sse(
            "done",
            {"request_id": head["request_id"], "timings_ms": self._timings(start, retrieved)},
        )

    def _timings(self, start: float, retrieved: float) -> dict[str, float]:
        now = time.perf_counter()
        metrics.STAGE_SECONDS.labels(stage="explain").observe(now - retrieved)
        metrics.STAGE_SECONDS.labels(stage="total").observe(now - start)
        return {
            "retrieve": _ms(retrieved - start),
            "explain": _ms(now - retrieved),
            "total": _ms(now - start),
        }

    async def item(self, item_id: str) -> CatalogItem:
        found = await self.retriever.item.remote(item_id)
        if found is None:
            raise ApiError(404, "unknown_item", f"item_id {item_id!r} is not in the catalog")
        return CatalogItem(**found)

    async def healthz(self) -> Response:
        """200 only when the index answers and the LLM engine reports healthy."""
        try:
            timeout = self.settings.api.health_timeout_s
            await asyncio.wait_for(self.retriever.info.remote(), timeout=timeout)
            await asyncio.wait_for(self.llm.check_health.remote(), timeout=timeout)
        except Exception as exc:
            log.warning("health check failed: %s: %s", type(exc).__name__, exc)
            return JSONResponse(
                {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
            )
        return JSONResponse(
            {
                "status": "ok",
                "retriever": self.retriever_info,
                "llm": {"model": self.model_id, **self.llm_info},
                "explanation_cache": {
                    "entries": len(self.policy.cache),
                    "size": self.policy.cache.size,
                },
                "admission": {
                    "queue": self.admission.queue(),
                    "calls_per_second": round(self.admission.throughput, 3),
                },
            }
        )

    async def prometheus(self) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
