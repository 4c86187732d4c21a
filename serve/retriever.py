"""The Retriever deployment: the FAISS recommender behind a batched Ray Serve method."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ray import serve

from retrieval.artifacts import load_recommender
from retrieval.recommender import (
    InvalidValuesError,
    Query,
    Recommendation,
    UnknownItemsError,
    UnknownUserError,
)
from serve.explain.explanation import ExplainTask
from serve.explain.tasks import TaskFactory
from serve.explain.vocabulary import Vocabulary

log = logging.getLogger(__name__)


@dataclass
class RetrievalRequest:
    k: int
    user_id: str | None = None
    history: list[tuple[str, float | None]] | None = None
    exclude_item_ids: list[str] = field(default_factory=list)
    language: str = "en"
    explain: bool = True  # recommend-only requests need no explanation tasks


class RetrievalFailure(StrEnum):
    """Why a request cannot be answered; the ingress decides how that reads over HTTP."""

    UNKNOWN_USER = "unknown_user"
    UNKNOWN_ITEMS = "unknown_items"
    INVALID_VALUES = "invalid_values"


@dataclass
class RetrievalResult:
    """Items as the API shows them, one ExplainTask per item; or why there are none."""

    items: list[dict] = field(default_factory=list)
    tasks: list[ExplainTask] = field(default_factory=list)
    failure: RetrievalFailure | None = None
    failure_details: dict = field(default_factory=dict)


class Retriever:
    def __init__(self, artifacts: str, max_batch_size: int = 32, batch_wait_timeout_s: float = 0.0):
        self.recommender, self.manifest = load_recommender(Path(artifacts))
        self.tasks = TaskFactory(self.recommender)
        self.artifact = {
            "artifact": Path(artifacts).name,
            "created_at": self.manifest["created_at"],
            "data_hash": self.manifest["data_hash"],
            "catalog": self.tasks.vocabulary.describe(),
        }
        self.recommend.set_max_batch_size(max_batch_size)
        self.recommend.set_batch_wait_timeout_s(batch_wait_timeout_s)
        log.info("retriever loaded %s (%d items)", artifacts, self.recommender.items.height)

    def info(self) -> dict:
        return self.artifact

    def vocabulary(self) -> Vocabulary:
        """The catalog's words, for the ingress's prompts and verifier."""
        return self.tasks.vocabulary

    def titles(self) -> list[tuple[str, str]]:
        return list(zip(self.recommender.item_ids, self.recommender.titles, strict=True))

    def item(self, item_id: str) -> dict | None:
        if item_id not in self.recommender.positions:
            return None
        fact = self.tasks.fact(item_id)
        return {
            "item_id": item_id,
            "title": fact.title,
            "genres": list(fact.genres),
            "tags": list(fact.tags),
        }

    @serve.batch  # sizes set from the config in __init__
    async def recommend(self, requests: list[RetrievalRequest]) -> list[RetrievalResult]:
        """One FAISS search for every request in the batch that shares a k."""
        results: list[RetrievalResult | None] = [None] * len(requests)
        queries: dict[int, list[tuple[int, Query]]] = {}
        for index, request in enumerate(requests):
            try:
                queries.setdefault(request.k, []).append((index, self._query(request)))
            except UnknownUserError:
                results[index] = RetrievalResult(
                    failure=RetrievalFailure.UNKNOWN_USER,
                    failure_details={"user_id": request.user_id},
                )
            except UnknownItemsError as exc:
                results[index] = RetrievalResult(
                    failure=RetrievalFailure.UNKNOWN_ITEMS,
                    failure_details={"item_ids": exc.item_ids},
                )
            except InvalidValuesError as exc:
                results[index] = RetrievalResult(
                    failure=RetrievalFailure.INVALID_VALUES,
                    failure_details={
                        "problems": "; ".join(
                            f"history.{i}.rating: {why}" for i, why in exc.problems
                        )
                    },
                )
        for k, batch in queries.items():
            found = self.recommender.recommend([query for _, query in batch], k)
            for (index, _), recommendations in zip(batch, found, strict=True):
                results[index] = self._result(requests[index], recommendations)
        return results

    def _query(self, request: RetrievalRequest) -> Query:
        if request.user_id is not None:
            history = self.recommender.user_history(request.user_id)
        else:
            history = self.recommender.history_from_items(request.history or [])
        return Query(history, exclude_item_ids=request.exclude_item_ids)

    def _result(
        self, request: RetrievalRequest, recommendations: list[Recommendation]
    ) -> RetrievalResult:
        return RetrievalResult(
            items=[
                {
                    "rank": rec.rank,
                    "item_id": rec.item_id,
                    "title": rec.title,
                    "score": rec.score,
                    "evidence": [vars(e) for e in rec.evidence],
                    "shared_tags": rec.shared_tags,
                }
                for rec in recommendations
            ],
            tasks=[self.tasks.task(rec, request.language) for rec in recommendations]
            if request.explain
            else [],
        )
