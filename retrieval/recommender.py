"""The served recommender: from a stored user or an anonymous history to top-k items with evidence.

This is exactly what the HTTP server and `recsplain evaluate`'s `served` model run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from retrieval.config import FeedbackConfig, RetrievalConfig
from retrieval.evidence import (
    EvidenceItem,
    evidence_positions,
    rating_or_none,
    shared_labels,
    top_share,
)
from retrieval.feedback import positive_threshold, value_problem, weights
from retrieval.hybrid import History, ItemSpace, fit_item_space, user_vectors
from retrieval.index import VectorIndex
from retrieval.matrix import item_positions

log = logging.getLogger(__name__)


class UnknownUserError(KeyError):
    """The user has no stored history; the caller can send `history` instead."""


class InvalidValuesError(ValueError):
    """History values the catalog's feedback cannot have; `problems` are (entry index, why)."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__("; ".join(f"history[{index}]: {why}" for index, why in problems))
        self.problems = problems


class UnknownItemsError(ValueError):
    def __init__(self, item_ids: list[str]):
        super().__init__(f"unknown item ids: {', '.join(item_ids)}")
        self.item_ids = item_ids


@dataclass
class Recommendation:
    rank: int
    item_id: str
    title: str
    score: float
    evidence: list[EvidenceItem] = field(default_factory=list)
    shared_tags: list[str] = field(default_factory=list)


@dataclass
class Query:
    """One request: whose history, and which extra items must not come back."""

    history: History
    exclude_item_ids: list[str] = field(default_factory=list)


class Recommender:
    def __init__(
        self,
        items: pl.DataFrame,
        space: ItemSpace,
        index: VectorIndex,
        interactions: pl.DataFrame,
        config: RetrievalConfig,
    ):
        self.items = items
        self.space = space
        self.index = index
        self.interactions = interactions
        self.config = config
        self.item_ids: list[str] = items["item_id"].to_list()
        self.titles: list[str] = items["title"].to_list()
        self.labels: list[list[str]] = [
            genres + tags
            for genres, tags in zip(items["genres"].to_list(), items["tags"].to_list(), strict=True)
        ]
        self.positions = item_positions(items)
        self.similarity_vectors = space.similarity_vectors()
        self.histories = self._histories(interactions)

    @cached_property
    def item_vectors(self) -> np.ndarray:
        """The indexed vectors, kept only when `describe` scores chosen items."""
        return self.space.index_vectors()

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        items: pl.DataFrame,
        content: np.ndarray,
        config: RetrievalConfig,
    ) -> Recommender:
        """Train on preprocessed interactions and index the catalog."""
        space = fit_item_space(interactions, items, content, config)
        index = VectorIndex.build(space.index_vectors(), config.index)
        return cls(items, space, index, interactions, config)

    def _histories(self, interactions: pl.DataFrame) -> dict[str, History]:
        frame = interactions.with_columns(
            position=pl.col("item_id").replace_strict(self.positions, return_dtype=pl.Int64)
        )
        histories = {}
        for (user_id,), group in frame.group_by("user_id", maintain_order=True):
            histories[user_id] = History(
                items=group["position"].to_numpy(),
                ratings=group["rating"].to_numpy().astype(np.float32),
                positive=group["positive"].to_numpy(),
                weights=group["weight"].to_numpy().astype(np.float32),
            )
        return histories

    def user_history(self, user_id: str) -> History:
        try:
            return self.histories[user_id]
        except KeyError:
            raise UnknownUserError(user_id) from None

    @property
    def feedback(self) -> FeedbackConfig:
        """What the stored values mean (resolved at build time: never `auto`)."""
        return self.config.data.feedback

    def history_from_items(self, entries: list[tuple[str, float | None]]) -> History:
        """A history from (item_id, value or None) pairs in chronological order; a value is on
        the catalog's feedback scale (a rating, a count, 1).

        A missing value means "liked": it counts as a positive at the positive threshold.
        """
        unknown = [item_id for item_id, _ in entries if item_id not in self.positions]
        if unknown:
            raise UnknownItemsError(unknown)
        problems = [
            (index, problem)
            for index, (_, value) in enumerate(entries)
            if value is not None and (problem := value_problem(self.feedback, value))
        ]
        if problems:
            raise InvalidValuesError(problems)
        threshold = positive_threshold(self.feedback, self.config.preprocess.positive_threshold)
        ratings = np.array(
            [np.nan if rating is None else rating for _, rating in entries], dtype=np.float32
        )
        liked = np.isnan(ratings) | (True if threshold is None else ratings >= threshold)
        return History(
            items=np.array([self.positions[item_id] for item_id, _ in entries], dtype=np.int64),
            ratings=ratings,
            positive=liked,
            weights=weights(self.feedback, ratings),
        )

    def recommend(
        self, queries: list[Query], k: int, with_evidence: bool = True
    ) -> list[list[Recommendation]]:
        """Top-k unseen items for each query, in one batched index search."""
        vectors = user_vectors(self.space, [query.history for query in queries], self.config)
        excluded = [
            set(query.history.items.tolist())
            | {self.positions[i] for i in query.exclude_item_ids if i in self.positions}
            for query in queries
        ]
        scores, ids = self.index.search(vectors, k, excluded)
        return [
            self._ranked(query, [int(i) for i in row_ids if i >= 0], row_scores, with_evidence)
            for query, row_scores, row_ids in zip(queries, scores, ids, strict=True)
        ]

    def describe(self, query: Query, item_ids: list[str]) -> list[Recommendation]:
        """Score and evidence for items chosen elsewhere (e.g. a table of pairs to explain)."""
        unknown = [item_id for item_id in item_ids if item_id not in self.positions]
        if unknown:
            raise UnknownItemsError(unknown)
        positions = [self.positions[item_id] for item_id in item_ids]
        vector = user_vectors(self.space, [query.history], self.config)[0]
        return self._ranked(query, positions, self.item_vectors[positions] @ vector, True)

    def _ranked(
        self, query: Query, positions: list[int], scores, with_evidence: bool
    ) -> list[Recommendation]:
        evidence = (
            evidence_positions(
                self.similarity_vectors, query.history, positions, self.config.evidence
            )
            if with_evidence
            else [[] for _ in positions]
        )
        return [
            self._recommendation(rank, position, float(score), triples, query.history)
            for rank, (position, score, triples) in enumerate(
                zip(positions, scores, evidence, strict=False), start=1
            )
        ]

    def _recommendation(
        self,
        rank: int,
        position: int,
        score: float,
        triples: list[tuple[int, float, float]],
        history: History,
    ) -> Recommendation:
        evidence = [
            EvidenceItem(
                item_id=self.item_ids[item],
                title=self.titles[item],
                rating=rating_or_none(rating),
                similarity=round(similarity, 4),
                top_share=top_share(history, rating),
            )
            for item, rating, similarity in triples
        ]
        return Recommendation(
            rank=rank,
            item_id=self.item_ids[position],
            title=self.titles[position],
            score=round(score, 6),
            evidence=evidence,
            shared_tags=shared_labels(
                self.labels[position], [self.labels[item] for item, _, _ in triples]
            ),
        )
