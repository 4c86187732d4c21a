"""Strong, simple baselines the served model is judged against.

Each scorer is fitted on a binary users x items matrix of train positives and returns dense
scores for a batch of user rows; `top_k_unseen` turns scores into a full-catalog ranking.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve

from retrieval.als import fit_als
from retrieval.config import ALSConfig


class Popularity:
    def __init__(self, positives: sp.csr_matrix):
        self.counts = np.asarray(positives.sum(axis=0), dtype=np.float32).ravel()

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(rows), 1))


class ItemKNN:
    """Item-based neighbours by cosine similarity, keeping each item's `neighbors` best."""

    def __init__(self, positives: sp.csr_matrix, neighbors: int):
        self.positives = positives
        norms = np.sqrt(np.asarray(positives.multiply(positives).sum(axis=0)).ravel())
        normalized = positives.multiply(1.0 / np.maximum(norms, 1e-12)).tocsc()
        similarity = (normalized.T @ normalized).toarray().astype(np.float32)
        np.fill_diagonal(similarity, 0.0)
        if neighbors < similarity.shape[0]:
            cutoff = -np.partition(-similarity, neighbors - 1, axis=0)[neighbors - 1]
            similarity[similarity < cutoff[None, :]] = 0.0
        self.similarity = similarity

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.positives[rows] @ self.similarity)


class EASE:
    """Steck (2019): B = I - P / diag(P), P = (X'X + lambda I)^-1, over items seen in train."""

    def __init__(self, positives: sp.csr_matrix, regularization: float):
        self.positives = positives
        self.active = np.flatnonzero(np.asarray(positives.sum(axis=0)).ravel() > 0)
        active = positives[:, self.active]
        gram = (active.T @ active).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += regularization
        inverse = cho_solve(cho_factor(gram, overwrite_a=True), np.eye(len(gram)))
        weights = -inverse / np.diag(inverse)[None, :]
        np.fill_diagonal(weights, 0.0)
        self.weights = weights.astype(np.float32)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), self.positives.shape[1]), dtype=np.float32)
        out[:, self.active] = self.positives[rows][:, self.active] @ self.weights
        return out


class ALS:
    """Plain ALS user and item factors, without the hybrid's folding-in and weighting."""

    def __init__(self, confidences: sp.csr_matrix, config: ALSConfig):
        self.user_factors, self.item_factors = fit_als(confidences, config)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors[rows] @ self.item_factors.T


class Content:
    """Cosine between the mean content vector of the user's positives and every item."""

    def __init__(self, positives: sp.csr_matrix, content: np.ndarray):
        self.positives = positives
        self.content = content

    def scores(self, rows: np.ndarray) -> np.ndarray:
        profiles = np.asarray(self.positives[rows] @ self.content)
        profiles /= np.maximum(np.linalg.norm(profiles, axis=1, keepdims=True), 1e-12)
        return profiles @ self.content.T


def top_k_unseen(scores: np.ndarray, seen: sp.csr_matrix, k: int) -> list[list[int]]:
    """Best k items per row, never one of the row's `seen` items; ties break by item order."""
    scores = scores.astype(np.float32, copy=True)
    scores[seen.nonzero()] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    ranked = np.take_along_axis(top, order, axis=1)
    return [
        [int(item) for item in items if np.isfinite(row[item])]
        for items, row in zip(ranked, scores, strict=True)
    ]
