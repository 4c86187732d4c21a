"""Collaborative item factors from implicit feedback (ALS), and folding a new history into them."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from retrieval.config import ALSConfig

log = logging.getLogger(__name__)


def fit_als(user_items: sp.csr_matrix, config: ALSConfig) -> tuple[np.ndarray, np.ndarray]:
    """Train ALS on a users x items confidence matrix; return (user_factors, item_factors).

    Items without interactions keep zero factors, so they score nothing from this part.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    # implicit runs its own threads; a multi-threaded BLAS underneath only oversubscribes.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=config.alpha,
            iterations=config.iterations,
            random_state=config.seed,
        )
        model.fit(user_items, show_progress=False)
    item_factors = np.asarray(model.item_factors, dtype=np.float32)
    item_factors[np.asarray(user_items.sum(axis=0)).ravel() == 0] = 0.0
    return np.asarray(model.user_factors, dtype=np.float32), item_factors


def fold_in(
    item_factors: np.ndarray,
    gram: np.ndarray,
    items: np.ndarray,
    weights: np.ndarray,
    config: ALSConfig,
) -> np.ndarray:
    """The ALS user factor that best explains one history, solved exactly.

    This is the same least-squares step ALS takes for a user, so a stored user and an anonymous
    one with the same history get the same vector. `gram` is item_factors.T @ item_factors.
    """
    factors = item_factors[items]
    confidence = 1.0 + config.alpha * weights
    lhs = gram + (factors.T * (confidence - 1.0)) @ factors
    lhs += config.regularization * np.eye(gram.shape[0], dtype=np.float32)
    rhs = factors.T @ confidence
    return np.linalg.solve(lhs, rhs).astype(np.float32)
