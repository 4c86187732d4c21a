"""The Retriever deployment: the FAISS recommender behind a batched Ray Serve method."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ray import serve

from retrieval.artifacts import load_recommender
from retrieval.recommender import Query, Recommendation, UnknownItemsError, UnknownUserError
from serve.explanation import ExplainTask, Fact

log = logging.getLogger(__name__)


@dataclass
class RetrievalRequest:
    k: int
    user_id: str | None = None
    history: list[tuple[str, float | None]] | None = None
    exclude_item_ids: list[str] = field(default_factory=list)
    language: str = "en"


@dataclass
class RetrievalResult:
    """Items as the API shows them, one ExplainTask per item; or an error for the client."""

    items: list[dict] = field(default_factory=list)
    tasks: list[ExplainTask] = field(default_factory=list)
    error: tuple[int, str, str] | None = None  # (HTTP status, code, message)


class Retriever:
    def __init__(self, artifacts: str):
        self.recommender, self.manifest = load_recommender(Path(artifacts))
        items = self.recommender.items
        self.genres = [tuple(g) for g in items["genres"].to_list()]
        self.tags = [tuple(t) for t in items["tags"].to_list()]
        self.artifact = {
            "artifact": Path(artifacts).name,
            "created_at": self.manifest["created_at"],
            "data_hash": self.manifest["data_hash"],
        }
        log.info("retriever loaded %s (%d items)", artifacts, items.height)

    def info(self) -> dict:
        return self.artifact

    def titles(self) -> list[tuple[str, str]]:
        return list(zip(self.recommender.item_ids, self.recommender.titles, strict=True))

    def item(self, item_id: str) -> dict | None:
        position = self.recommender.positions.get(item_id)
        if position is None:
            return None
        return {
            "item_id": item_id,
            "title": self.recommender.titles[position],
            "genres": list(self.genres[position]),
            "tags": list(self.tags[position]),
        }

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    async def recommend(self, requests: list[RetrievalRequest]) -> list[RetrievalResult]:
        """One FAISS search for every request in the batch that shares a k."""
        results: list[RetrievalResult | None] = [None] * len(requests)
        queries: dict[int, list[tuple[int, Query]]] = {}
        for index, request in enumerate(requests):
            try:
                queries.setdefault(request.k, []).append((index, self._query(request)))
            except UnknownUserError:
                results[index] = RetrievalResult(
                    error=(404, "unknown_user", f"user_id {request.user_id!r} is not known; "
                           "send `history` (a list of liked item ids) instead")
                )
            except UnknownItemsError as exc:
                results[index] = RetrievalResult(
                    error=(422, "unknown_items", f"history: unknown item ids {exc.item_ids}")
                )
        for k, batch in queries.items():
            found = self.recommender.recommend([query for _, query in batch], k)
            for (index, query), recommendations in zip(batch, found, strict=True):
                results[index] = self._result(requests[index], query, recommendations)
        return results

    def _query(self, request: RetrievalRequest) -> Query:
        if request.user_id is not None:
            history = self.recommender.user_history(request.user_id)
        else:
            history = self.recommender.history_from_items(request.history or [])
        return Query(history, exclude_item_ids=request.exclude_item_ids)

    def _fact(self, item_id: str, rating: float | None = None, similarity: float | None = None):
        position = self.recommender.positions[item_id]
        return Fact(
            item_id=item_id,
            title=self.recommender.titles[position],
            genres=self.genres[position],
            tags=self.tags[position],
            rating=rating,
            similarity=similarity,
        )

    def _result(
        self, request: RetrievalRequest, query: Query, recommendations: list[Recommendation]
    ) -> RetrievalResult:
        history_ids = frozenset(self.recommender.item_ids[i] for i in query.history.items)
        items, tasks = [], []
        for rec in recommendations:
            items.append(
                {
                    "rank": rec.rank,
                    "item_id": rec.item_id,
                    "title": rec.title,
                    "score": rec.score,
                    "evidence": [vars(e) for e in rec.evidence],
                    "shared_tags": rec.shared_tags,
                }
            )
            tasks.append(
                ExplainTask(
                    recommended=self._fact(rec.item_id),
                    evidence=tuple(
                        self._fact(e.item_id, e.rating, e.similarity) for e in rec.evidence
                    ),
                    shared_tags=tuple(rec.shared_tags),
                    language=request.language,
                    history_item_ids=history_ids,
                )
            )
        return RetrievalResult(items=items, tasks=tasks)
