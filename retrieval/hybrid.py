"""The hybrid model: item vectors from ALS, content and popularity, and user vectors from history.

Items are indexed as [cf | content | popularity]; a user queries with
[cf_weight * folded-in ALS factor | content_weight * history content centroid | popularity_weight],
so one inner product gives the weighted sum of the three scores, and the weights can change at
query time without rebuilding the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from retrieval.als import fit_als, fold_in
from retrieval.config import RetrievalConfig
from retrieval.feedback import positive_threshold, weights
from retrieval.matrix import item_positions, liked_matrix


@dataclass
class History:
    """One user's interactions in chronological order, as catalog positions.

    `ratings` are the values as given (a rating, a count, 1; NaN when a request gave none),
    `weights` what they say about taste (`retrieval.feedback.weights`; NaN where `ratings` is).
    """

    items: np.ndarray
    ratings: np.ndarray
    positive: np.ndarray
    weights: np.ndarray


@dataclass
class ItemSpace:
    cf: np.ndarray
    content: np.ndarray
    popularity: np.ndarray
    gram: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.gram = self.cf.T @ self.cf

    @property
    def dim(self) -> int:
        """Width of the index layout: cf factors, content embedding, popularity."""
        return self.cf.shape[1] + self.content.shape[1] + 1

    def index_vectors(self) -> np.ndarray:
        return np.ascontiguousarray(
            np.hstack([self.cf, self.content, self.popularity[:, None]]), dtype=np.float32
        )

    def similarity_vectors(self) -> np.ndarray:
        """Unit vectors mixing behaviour and content, for picking evidence items."""
        cf = _unit_rows(self.cf)
        return _unit_rows(np.hstack([cf, self.content]))


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def fit_item_space(
    interactions: pl.DataFrame, items: pl.DataFrame, content: np.ndarray, config: RetrievalConfig
) -> ItemSpace:
    """Train the behavioural part on positive interactions and attach the content vectors."""
    positions = item_positions(items)
    _, user_items = liked_matrix(interactions, positions, "weight")
    _, cf = fit_als(user_items, config.als)
    counts = np.asarray((user_items > 0).sum(axis=0), dtype=np.float32).ravel()
    popularity = np.log1p(counts) / max(np.log1p(counts.max()), 1e-12)
    return ItemSpace(cf=cf, content=content, popularity=popularity.astype(np.float32))


def history_weights(history: History, config: RetrievalConfig, liked: float) -> np.ndarray:
    """Feedback weight times recency for each positive interaction; zero for the others.

    Recency halves every `recency_half_life` interactions back from the latest one. A liked item
    without a value (NaN) weighs `liked` (see `liked_weight`).
    """
    age = np.arange(len(history.items))[::-1].astype(np.float32)
    recency = 0.5 ** (age / config.hybrid.recency_half_life)
    taste = np.where(np.isnan(history.weights), liked, history.weights)
    return np.where(history.positive, taste * recency, 0.0).astype(np.float32)


def liked_weight(config: RetrievalConfig) -> float:
    """The weight of an item a request says was liked without giving a value: that of a value
    at the positive threshold (3.5 of 5 stars), one play, or a binary 1."""
    feedback = config.data.feedback
    threshold = positive_threshold(feedback, config.preprocess.positive_threshold)
    value = max(threshold or 1.0, 1.0) if feedback.kind != "explicit" else (threshold or 1.0)
    return float(weights(feedback, np.array([value]))[0])


def user_vectors(space: ItemSpace, histories: list[History], config: RetrievalConfig) -> np.ndarray:
    """One query vector per history, in the layout of `ItemSpace.index_vectors`."""
    hybrid = config.hybrid
    queries = np.zeros((len(histories), space.dim), dtype=np.float32)
    liked = liked_weight(config)  # once per batch, not once per history
    for row, history in enumerate(histories):
        taste = history_weights(history, config, liked)
        used = taste > 0
        if used.any():
            items, item_weights = history.items[used], taste[used]
            cf = fold_in(space.cf, space.gram, items, item_weights, config.als)
            centroid = item_weights @ space.content[items]
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            queries[row, : cf.shape[0]] = hybrid.cf_weight * cf
            queries[row, cf.shape[0] : -1] = hybrid.content_weight * centroid
        queries[row, -1] = hybrid.popularity_weight
    return queries
