"""The served recommender: from a stored user or an anonymous history to top-k items with evidence.

This is exactly what the HTTP server and `recsplain evaluate`'s `served` model run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl
import scipy.sparse as sp

from retrieval.config import FeedbackConfig, RetrievalConfig
from retrieval.evidence import (
    EvidenceItem,
    evidence_positions,
    rating_or_none,
    shared_labels,
    top_share,
)
from retrieval.feedback import positive_threshold, value_problem, weights
from retrieval.hybrid import History, ItemSpace, fit_item_space, liked_weight, user_vectors
from retrieval.index import VectorIndex
from retrieval.itemitem import ItemItem
from retrieval.matrix import item_positions, liked_matrix

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
    # Only items chosen elsewhere (`describe`) can be: an explanation must not call it new.
    in_history: bool = False


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
        item_item: ItemItem | None = None,
    ):
        if (item_item is None) != (config.model.kind == "hybrid"):
            raise ValueError(
                f"model {config.model.kind!r} needs item-item weights exactly when "
                "it is not the hybrid"
            )
        self.item_item = item_item
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
        # Who liked what, by item: the collaborative evidence ("38% of the people who ...").
        self.likers = liked_matrix(interactions, self.positions)[1].tocsc()

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
        item_item = None
        if config.model.kind != "hybrid":
            values = "weight" if config.model.values == "weight" else None
            _, matrix = liked_matrix(interactions, item_positions(items), values)
            item_item = ItemItem.fit(matrix, space.popularity, config.model)
        return cls(items, space, index, interactions, config, item_item)

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
        """Top-k unseen items for each query: one batched index search for the hybrid, exact
        item-item scores otherwise."""
        excluded = [
            set(query.history.items.tolist())
            | {self.positions[i] for i in query.exclude_item_ids if i in self.positions}
            for query in queries
        ]
        if self.item_item is None:
            vectors = user_vectors(self.space, [query.history for query in queries], self.config)
            scores, ids = self.index.search(vectors, k, excluded)
        else:
            scores, ids = self._item_item_top(queries, k, excluded)
        return [
            self._ranked(query, [int(i) for i in row_ids if i >= 0], row_scores, with_evidence)
            for query, row_scores, row_ids in zip(queries, scores, ids, strict=True)
        ]

    def describe(self, query: Query, item_ids: list[str]) -> list[Recommendation]:
        """Score and evidence for items chosen elsewhere (a caller's own list, a table of pairs),
        in the caller's order; an item the history holds is marked, and is not its own evidence."""
        unknown = [item_id for item_id in item_ids if item_id not in self.positions]
        if unknown:
            raise UnknownItemsError(unknown)
        positions = [self.positions[item_id] for item_id in item_ids]
        if self.item_item is not None:
            scores = self.item_item.scores(self._liked_rows([query]))[0, positions]
        else:
            vector = user_vectors(self.space, [query.history], self.config)[0]
            scores = self.item_vectors[positions] @ vector
        described = self._ranked(query, positions, scores, True)
        seen = set(query.history.items.tolist())
        for recommendation, position in zip(described, positions, strict=True):
            recommendation.in_history = position in seen
        return described

    def _liked_rows(self, queries: list[Query]) -> sp.csr_matrix:
        """Each query's liked items as a catalog-wide row: 1s, or feedback weights."""
        by_weight = self.config.model.values == "weight"
        liked = liked_weight(self.config) if by_weight else 1.0
        rows, cols, data = [], [], []
        for row, query in enumerate(queries):
            history = query.history
            used = np.flatnonzero(history.positive)
            values = np.where(np.isnan(history.weights[used]), liked, history.weights[used])
            rows += [row] * len(used)
            cols += history.items[used].tolist()
            data += (values if by_weight else np.ones(len(used))).tolist()
        matrix = sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), (rows, cols)),
            shape=(len(queries), len(self.item_ids)),
        )
        if not by_weight:  # an item liked twice is liked once
            matrix.data = np.minimum(matrix.data, 1.0)
        return matrix

    def _item_item_top(
        self, queries: list[Query], k: int, excluded: list[set[int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k of the item-item scores, excluded items never among them (-1 pads)."""
        scores = self.item_item.scores(self._liked_rows(queries))
        k = min(k, scores.shape[1])
        top_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        top_ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, skip in enumerate(excluded):
            if skip:
                scores[row, list(skip)] = -np.inf
            best = np.argpartition(-scores[row], k - 1)[:k]
            best = best[np.argsort(-scores[row, best], kind="stable")]
            best = best[np.isfinite(scores[row, best])]
            top_ids[row, : len(best)], top_scores[row, : len(best)] = best, scores[row, best]
        return top_scores, top_ids

    def also_share(self, liked: int, other: int) -> float | None:
        """Of the users who liked catalog position `liked`, the share who also liked `other`,
        to two places; None when nobody stored liked it."""
        column = self.likers.indices[self.likers.indptr[liked] : self.likers.indptr[liked + 1]]
        if column.size == 0:
            return None
        others = self.likers.indices[self.likers.indptr[other] : self.likers.indptr[other + 1]]
        return round(
            float(np.intersect1d(column, others, assume_unique=True).size / column.size), 2
        )

    def _ranked(
        self, query: Query, positions: list[int], scores, with_evidence: bool
    ) -> list[Recommendation]:
        evidence = (
            evidence_positions(
                self.similarity_vectors,
                query.history,
                positions,
                self.config.evidence,
                None if self.item_item is None else self.item_item.pull,
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
                also_share=self.also_share(item, position),
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


def rank_users(recommender: Recommender, users: list[str], k: int, batch: int = 256):
    """Each stored user's top-k catalog positions, as served (no evidence): how evaluation and
    model selection score the recommender."""
    ranked: list[list[int]] = []
    for start in range(0, len(users), batch):
        queries = [Query(recommender.user_history(user)) for user in users[start : start + batch]]
        for recs in recommender.recommend(queries, k, with_evidence=False):
            ranked.append([recommender.positions[rec.item_id] for rec in recs])
    return ranked
