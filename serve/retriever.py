"""The Retriever deployment: the FAISS recommender behind a batched Ray Serve method.

It serves the build the artifact registry names (serve/rollout.py) and follows its roll-outs:
a new build is loaded beside the old one and swapped in by one assignment, while each batch
keeps the build it started with.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ray import serve
from ray.serve.handle import DeploymentHandle

from retrieval.artifacts import load_recommender, read_manifest
from retrieval.recommender import (
    InvalidValuesError,
    Query,
    Recommendation,
    Recommender,
    UnknownItemsError,
    UnknownUserError,
)
from serve.config import RolloutSettings
from serve.explain.catalog import build_info
from serve.explain.explanation import ExplainTask
from serve.explain.tasks import TaskFactory
from serve.rollout import Build, BuildFollower

log = logging.getLogger(__name__)


@dataclass
class RetrievalRequest:
    k: int
    user_id: str | None = None
    history: list[tuple[str, float | None]] | None = None
    exclude_item_ids: list[str] = field(default_factory=list)
    language: str = "en"
    explain: bool = True  # recommend-only requests need no explanation tasks
    # The caller's own items to explain (POST /v1/explanations), in its order: no search.
    item_ids: list[str] | None = None


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
    data_hash: str = ""  # the build that computed it: the ingress verifies with its catalog


@dataclass(frozen=True)
class LoadedBuild:
    """One build in memory; replaced as a whole, never changed."""

    recommender: Recommender
    tasks: TaskFactory
    info: dict

    @classmethod
    def load(cls, build: Build) -> LoadedBuild:
        """Blocking (checksums, FAISS index): run it off the event loop."""
        path = Path(build.path)
        recommender, manifest = load_recommender(path, expected_data_hash=build.data_hash)
        tasks = TaskFactory(recommender)
        return cls(recommender, tasks, build_info(path, manifest, tasks.vocabulary))


class Retriever:
    async def __init__(
        self,
        artifacts: str,
        max_batch_size: int = 32,
        batch_wait_timeout_s: float = 0.0,
        registry: DeploymentHandle | None = None,
        rollout: dict | None = None,
    ):
        """Load the registry's current build (`artifacts`, the start-up config, without one)."""
        self.recommend.set_max_batch_size(max_batch_size)
        self.recommend.set_batch_wait_timeout_s(batch_wait_timeout_s)
        self.build: LoadedBuild
        if registry is None:
            self.build = await asyncio.to_thread(LoadedBuild.load, Build(0, artifacts, ""))
        else:
            settings = RolloutSettings(**(rollout or {}))
            self.follower = BuildFollower(registry, "retriever", settings.poll_s, self._load)
            manifest = await asyncio.to_thread(read_manifest, Path(artifacts))
            await self.follower.start(fallback=Build(0, artifacts, manifest["data_hash"]))
            self._follow = asyncio.create_task(self.follower.run())

    async def _load(self, build: Build) -> None:
        loaded = await asyncio.to_thread(LoadedBuild.load, build)
        self.build = loaded  # requests that hold the previous one finish on it
        log.info("retriever serves %s (%d items)", build.path, loaded.recommender.items.height)

    def info(self) -> dict:
        return self.build.info

    def item(self, item_id: str) -> dict | None:
        build = self.build
        if item_id not in build.recommender.positions:
            return None
        fact = build.tasks.fact(item_id)
        return {
            "item_id": item_id,
            "title": fact.title,
            "genres": list(fact.genres),
            "tags": list(fact.tags),
        }

    @serve.batch  # sizes set from the config in __init__
    async def recommend(self, requests: list[RetrievalRequest]) -> list[RetrievalResult]:
        """One FAISS search for every request in the batch that shares a k, all on one build; a
        caller's own items (`item_ids`) are scored and given evidence without a search."""
        build = self.build
        results: list[RetrievalResult | None] = [None] * len(requests)
        queries: dict[int, list[tuple[int, Query]]] = {}
        for index, request in enumerate(requests):
            try:
                query = _query(build, request)
            except UnknownUserError:
                results[index] = RetrievalResult(
                    failure=RetrievalFailure.UNKNOWN_USER,
                    failure_details={"user_id": request.user_id},
                )
            except UnknownItemsError as exc:
                results[index] = _unknown_items("history", exc)
            except InvalidValuesError as exc:
                results[index] = RetrievalResult(
                    failure=RetrievalFailure.INVALID_VALUES,
                    failure_details={
                        "problems": "; ".join(
                            f"history.{i}.rating: {why}" for i, why in exc.problems
                        )
                    },
                )
            else:
                if request.item_ids is None:
                    queries.setdefault(request.k, []).append((index, query))
                else:
                    results[index] = _described(build, request, query, request.item_ids)
        for k, batch in queries.items():
            found = build.recommender.recommend([query for _, query in batch], k)
            for (index, _), recommendations in zip(batch, found, strict=True):
                results[index] = _result(build, requests[index], recommendations)
        for result in results:
            result.data_hash = build.info["data_hash"]
        return results


def _query(build: LoadedBuild, request: RetrievalRequest) -> Query:
    if request.user_id is not None:
        history = build.recommender.user_history(request.user_id)
    else:
        history = build.recommender.history_from_items(request.history or [])
    return Query(history, exclude_item_ids=request.exclude_item_ids)


def _unknown_items(field: str, error: UnknownItemsError) -> RetrievalResult:
    return RetrievalResult(
        failure=RetrievalFailure.UNKNOWN_ITEMS,
        failure_details={"field": field, "item_ids": error.item_ids},
    )


def _described(
    build: LoadedBuild, request: RetrievalRequest, query: Query, item_ids: list[str]
) -> RetrievalResult:
    """The caller's items with their evidence, in its order (`rank` is that order)."""
    try:
        described = build.recommender.describe(query, item_ids)
    except UnknownItemsError as exc:
        return _unknown_items("item_ids", exc)
    return _result(build, request, described)


def _result(
    build: LoadedBuild, request: RetrievalRequest, recommendations: list[Recommendation]
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
                "in_history": rec.in_history,
            }
            for rec in recommendations
        ],
        tasks=[build.tasks.task(rec, request.language) for rec in recommendations]
        if request.explain
        else [],
    )
