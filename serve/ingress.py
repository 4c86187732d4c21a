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
    RecommendationRequest,
    RecommendationResponse,
    error_body,
    install_error_handlers,
)
from serve.config import RecsplainSettings
from serve.explainer import Explainer, grounding_verifier
from serve.explanation import Explanation
from serve.middleware import BearerToken, BodyLimit, RequestMetrics
from serve.retriever import RetrievalRequest, RetrievalResult

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
    body = asdict(explanation)
    body["cited_item_ids"] = list(explanation.cited_item_ids)
    return body


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
        verifier = grounding_verifier(
            await retriever.titles.remote(), self.settings.explain.max_chars
        )
        self.explainer = Explainer(verifier, self.settings.explain, self._generate)
        self.retriever_info = await retriever.info.remote()

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
        try:
            async for response in self.llm_stream.chat.remote(request):
                if isinstance(response, list):
                    response = response[0]
                if isinstance(response, ErrorResponse):
                    raise RuntimeError(response.error.message)
                return response.choices[0].message.content or ""
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
        if result.error:
            raise ApiError(*result.error)
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
            "llm": {"model": self.model_id},
        }
        wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        explanations = (
            self.explainer.explain_all(result.tasks, deadline_s) if body.explain else None
        )
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
        return JSONResponse({**head, "items": items, "timings_ms": self._timings(start, retrieved)})

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
            await asyncio.wait_for(self.retriever.info.remote(), timeout=5)
            await asyncio.wait_for(self.llm.check_health.remote(), timeout=10)
        except Exception as exc:
            log.warning("health check failed: %s: %s", type(exc).__name__, exc)
            return JSONResponse(
                {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
            )
        return JSONResponse(
            {"status": "ok", "retriever": self.retriever_info, "llm": {"model": self.model_id}}
        )

    async def prometheus(self) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
