"""Top-k ranking metrics, averaged over users with at least one relevant item.

Recall@k divides the hits by min(k, number of relevant items), so a user with 40 relevant test
items can still reach 1.0 (as in Liang et al., 2018). NDCG@k uses binary relevance and the same
ideal cut-off. Coverage@k is the share of the catalog that appears in anyone's top-k.
"""

from __future__ import annotations

import numpy as np


def recall_at_k(recommended: list[list[int]], relevant: list[set[int]], k: int) -> float:
    values = [
        len(set(items[:k]) & truth) / min(k, len(truth))
        for items, truth in zip(recommended, relevant, strict=True)
        if truth
    ]
    return float(np.mean(values)) if values else 0.0


def ndcg_per_user(recommended: list[list[int]], relevant: list[set[int]], k: int) -> np.ndarray:
    """Each user's NDCG@k (users without a relevant item left out): paired comparisons of two
    rankers need the per-user values, not only their mean."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for items, truth in zip(recommended, relevant, strict=True):
        if not truth:
            continue
        gains = np.array([item in truth for item in items[:k]], dtype=float)
        dcg = float(gains @ discounts[: len(gains)])
        ideal = float(discounts[: min(k, len(truth))].sum())
        values.append(dcg / ideal)
    return np.array(values, dtype=float)


def ndcg_at_k(recommended: list[list[int]], relevant: list[set[int]], k: int) -> float:
    values = ndcg_per_user(recommended, relevant, k)
    return float(values.mean()) if values.size else 0.0


def coverage_at_k(recommended: list[list[int]], n_items: int, k: int) -> float:
    shown = {item for items in recommended for item in items[:k]}
    return len(shown) / n_items if n_items else 0.0


def ranking_metrics(
    recommended: list[list[int]], relevant: list[set[int]], n_items: int, k: int
) -> dict[str, float]:
    return {
        f"recall@{k}": recall_at_k(recommended, relevant, k),
        f"ndcg@{k}": ndcg_at_k(recommended, relevant, k),
        f"coverage@{k}": coverage_at_k(recommended, n_items, k),
    }
