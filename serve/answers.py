"""How one answer leaves the ingress: items, then their explanations, as one JSON body or as
server-sent events (`recommendations`, one `explanation` per item as it is ready, `done`).

Both `/v1/recommendations` and `/v1/explanations` answer through here, so their shapes and
timings cannot drift apart.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass

from fastapi.responses import JSONResponse, Response, StreamingResponse

from serve import metrics
from serve.api import ExplanationOut, RecommendationResponse
from serve.explain.explanation import Explanation
from serve.retriever import RetrievalResult


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _explanation_json(explanation: Explanation) -> dict:
    return ExplanationOut.model_validate(asdict(explanation)).model_dump(mode="json")


@dataclass
class Answer:
    """One request's retrieved items and, when asked for, its explanations as they finish."""

    head: dict  # request_id, user_id, retriever, llm
    result: RetrievalResult
    explanations: AsyncIterator[tuple[int, Explanation]] | None
    start: float  # perf_counter at the request's start
    retrieved: float  # perf_counter when retrieval returned

    async def response(self, stream: bool) -> Response:
        if stream:
            return StreamingResponse(
                self._events(),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return JSONResponse(await self._body())

    async def _body(self) -> dict:
        items = [dict(item, explanation=None) for item in self.result.items]
        if self.explanations is not None:
            async for index, explanation in self.explanations:
                items[index]["explanation"] = _explanation_json(explanation)
        response = RecommendationResponse.model_validate(
            {**self.head, "items": items, "timings_ms": self._timings()}
        )
        return response.model_dump(mode="json")

    async def _events(self) -> AsyncIterator[str]:
        items = [dict(item, explanation=None) for item in self.result.items]
        retrieve_ms = _ms(self.retrieved - self.start)
        yield _sse(
            "recommendations",
            {**self.head, "items": items, "timings_ms": {"retrieve": retrieve_ms}},
        )
        if self.explanations is not None:
            async for index, explanation in self.explanations:
                item = self.result.items[index]
                yield _sse(
                    "explanation",
                    {
                        "rank": item["rank"],
                        "item_id": item["item_id"],
                        "explanation": _explanation_json(explanation),
                    },
                )
        yield _sse("done", {"request_id": self.head["request_id"], "timings_ms": self._timings()})

    def _timings(self) -> dict[str, float]:
        now = time.perf_counter()
        metrics.STAGE_SECONDS.labels(stage="explain").observe(now - self.retrieved)
        metrics.STAGE_SECONDS.labels(stage="total").observe(now - self.start)
        return {
            "retrieve": _ms(self.retrieved - self.start),
            "explain": _ms(now - self.retrieved),
            "total": _ms(now - self.start),
        }
