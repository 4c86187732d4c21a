"""Item-item models as served: EASE or cosine-neighbour weights, scored exactly.

On real logs the item-item baselines beat ALS (a game log: EASE 0.274 NDCG@10, ALS 0.155), so
they are served models too, not only yardsticks. The weights are learnt by the baselines' own
code (`retrieval.baselines`): row i says what liking item i adds to every other item. A user's
scores are their liked items' rows summed, scaled to a maximum of 1, plus a popularity blend.

EASE's weights are dense, and pruning them costs: on MovieLens keeping each item's 256 (or even
3072 of 8.4k) strongest weights lost 2-2.5% NDCG@10 against the baseline. So where the items
seen in train fit `ModelConfig.max_weights_mb` as a dense float32 block, EASE is served whole
and scores exactly as the baseline; above that each item keeps as many of its strongest weights
as fit the budget. ItemKNN is sparse by construction. Either way what is stored is what was
evaluated; the limit is learning EASE (see `ModelConfig.ease_max_items`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from retrieval import baselines
from retrieval.config import ModelConfig

MB = 1 << 20


@dataclass
class ItemItem:
    """`weights`: a catalog x catalog CSR matrix, or a dense block whose rows and columns are
    the catalog positions `active` (None for CSR); `popularity`: log popularity scaled to 0-1."""

    weights: sp.csr_matrix | np.ndarray
    popularity: np.ndarray
    popularity_blend: float
    active: np.ndarray | None = None

    @classmethod
    def fit(cls, matrix: sp.csr_matrix, popularity: np.ndarray, config: ModelConfig) -> ItemItem:
        """Learn from a users x catalog matrix of liked items (1s, or feedback weights)."""
        weights, active = learn_weights(matrix, config)
        return cls(weights, popularity, config.popularity_blend, active)

    @cached_property
    def _block_index(self) -> np.ndarray:
        """Catalog position -> row of the dense block (-1: not in it); made once, not per call
        of `pull`, which runs for every explained recommendation."""
        index = np.full(len(self.popularity), -1, dtype=np.int64)
        index[self.active] = np.arange(len(self.active))
        return index

    def raw_scores(self, users: sp.csr_matrix) -> np.ndarray:
        """Item-item scores of a batch of user rows, each scaled to a maximum of 1."""
        if self.active is None:
            scores = np.asarray((users @ self.weights).todense(), dtype=np.float32)
        else:
            scores = np.zeros(users.shape, dtype=np.float32)
            scores[:, self.active] = users[:, self.active] @ self.weights
        top = scores.max(axis=1, keepdims=True)
        return scores / np.where(top > 0, top, 1.0)

    def scores(self, users: sp.csr_matrix) -> np.ndarray:
        return self.raw_scores(users) + self.popularity_blend * self.popularity[None, :]

    def pull(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """len(sources) x len(targets): what liking each source (a catalog position) adds to
        each target's score; the evidence of an item-item recommendation is its strongest."""
        sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, np.int64)
        if self.active is None:
            return np.asarray(self.weights[sources][:, targets].todense(), dtype=np.float32)
        rows, columns = self._block_index[sources], self._block_index[targets]
        out = self.weights[np.ix_(np.maximum(rows, 0), np.maximum(columns, 0))].copy()
        out[rows < 0, :] = 0.0
        out[:, columns < 0] = 0.0
        return out


def learn_weights(
    matrix: sp.csr_matrix, config: ModelConfig
) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray | None]:
    """The weights of `config.kind` learnt on `matrix`: a catalog x catalog CSR matrix and
    None, or EASE's dense block and the catalog positions of its rows and columns."""
    count = matrix.shape[1]
    if config.kind == "ease":
        model = baselines.EASE(matrix, config.ease_lambda)
        active = model.active
        budget = config.max_weights_mb * MB
        if len(active) ** 2 * 4 <= budget:
            return model.weights, active
        # CSR costs 8 bytes a weight (value and column).
        keep = max(1, budget // (8 * len(active)))
        learnt = sp.csr_matrix(_top_per_row(model.weights, keep))
    elif config.kind == "itemknn":
        model = baselines.ItemKNN(matrix, config.itemknn_neighbors)
        # Already sparse: each item keeps its `itemknn_neighbors` most similar.
        active, learnt = model.active, model.similarity.tocsr()
    else:
        raise ValueError(f"{config.kind!r} is not an item-item model")
    coo = learnt.tocoo()
    weights = sp.csr_matrix(
        (coo.data.astype(np.float32), (active[coo.row], active[coo.col])), shape=(count, count)
    )
    return weights, None


def _top_per_row(dense: np.ndarray, keep: int) -> np.ndarray:
    """`dense` with all but each row's `keep` largest weights in magnitude set to 0: EASE's
    negative weights carry signal (dropping them cost 8% NDCG@10 on the music catalog)."""
    out = dense.astype(np.float32, copy=True)
    if keep < out.shape[1]:
        size = np.abs(out)
        cutoff = -np.partition(-size, keep - 1, axis=1)[:, keep - 1 : keep]
        out[size < cutoff] = 0.0
    return out


def popularity_scores(matrix: sp.csr_matrix) -> np.ndarray:
    """log(1 + users who liked the item), scaled to 0-1: the blend's popularity."""
    counts = np.asarray((matrix > 0).sum(axis=0), dtype=np.float32).ravel()
    return (np.log1p(counts) / max(float(np.log1p(counts.max(initial=0))), 1e-12)).astype(
        np.float32
    )
