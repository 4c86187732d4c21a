"""Choosing the served model on the user's own data, on a validation split carved from train.

Defaults tuned on MovieLens lost to popularity on a game log, so every build chooses: the hybrid
(ALS + content + popularity, its query-time weights searched one at a time on one fitted
model), and the item-item models (EASE, cosine neighbours) with 1s or feedback weights and a
popularity blend. Each item-item candidate's scores are computed once and every blend is ranked
from them, so the whole search costs a few model fits. The best validation NDCG@k wins; the
record of every score goes into the manifest. The test split is never seen here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from tqdm import tqdm

from retrieval.baselines import top_k_unseen
from retrieval.config import ModelConfig, RetrievalConfig
from retrieval.itemitem import ItemItem, popularity_scores
from retrieval.matrix import item_positions, liked_matrix, user_item_matrix
from retrieval.metrics import ranking_metrics
from retrieval.recommender import Query, Recommender
from retrieval.split import Split

log = logging.getLogger(__name__)

BATCH = 256
# The hybrid's query-time weights, searched one at a time (coordinate search).
HYBRID_SEARCH: list[tuple[str, list[float]]] = [
    ("content_weight", [0.0, 0.3, 0.6, 1.0]),
    ("popularity_weight", [0.0, 0.1, 0.2, 0.4, 0.8, 1.6]),
    ("recency_half_life", [3.0, 10.0, 1000.0]),
]
EASE_LAMBDAS = [25.0, 100.0, 400.0, 1600.0]
ITEMKNN_NEIGHBORS = [50, 200]
# Added to item-item scores scaled to a maximum of 1; 4 is nearly popularity with ties broken.
BLENDS = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 4.0]


@dataclass
class Validation:
    """The carved split as matrices: train over all its users, and the evaluated users' rows."""

    split: Split
    items: pl.DataFrame
    likes: sp.csr_matrix  # every train user x catalog, 1 per liked item
    weights: sp.csr_matrix  # the same cells holding feedback weights
    users: list[str]  # evaluated users (with a liked test item)
    rows: np.ndarray  # their rows in `likes`
    seen: sp.csr_matrix  # evaluated users x catalog: anything in their train part
    relevant: list[set[int]]

    @classmethod
    def of(cls, split: Split, items: pl.DataFrame) -> Validation:
        positions = item_positions(items)
        everyone, likes = liked_matrix(split.train, positions)
        tested = split.test.filter(pl.col("positive"))
        users = sorted(set(tested["user_id"].to_list()) & set(everyone))
        relevant: dict[str, set[int]] = {user: set() for user in users}
        for user, item in tested.select("user_id", "item_id").iter_rows():
            if user in relevant:
                relevant[user].add(positions[item])
        row_of = {user: row for row, user in enumerate(everyone)}
        return cls(
            split=split,
            items=items,
            likes=likes,
            weights=liked_matrix(split.train, positions, "weight")[1],
            users=users,
            rows=np.array([row_of[user] for user in users], dtype=np.int64),
            seen=user_item_matrix(split.train, users, positions),
            relevant=[relevant[user] for user in users],
        )


def choose_model(
    config: RetrievalConfig, validation: Validation, content: np.ndarray, progress: bool = True
) -> tuple[RetrievalConfig, dict]:
    """The config to serve, and a JSON-ready record: each candidate's validation NDCG@k, the
    winner, and the seconds the search took."""
    started = time.perf_counter()
    metric = f"ndcg@{config.evaluation.k}"
    scores: dict[str, float] = {}
    best: tuple[float, RetrievalConfig] | None = None
    with tqdm(desc="choose model", unit="fit", disable=not progress) as bar:
        for name, candidate, score in _candidates(config, validation, content, metric):
            scores[name] = round(score, 5)
            if best is None or score > best[0]:
                best = (score, candidate)
            bar.update()
            bar.set_postfix_str(f"best {metric} {best[0]:.4f}")
    chosen = best[1]
    winner = max(scores, key=scores.get)
    log.info("served model: %s (validation %s %.4f)", winner, metric, scores[winner])
    record = {
        "protocol": f"validation split carved from train: {validation.split.description}",
        "chosen": winner,
        "model": chosen.model.model_dump(mode="json"),
        "hybrid": chosen.hybrid.model_dump(mode="json"),
        f"validation_{metric}": scores[winner],
        "candidates": scores,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return chosen, record


def _candidates(
    config: RetrievalConfig, validation: Validation, content: np.ndarray, metric: str
) -> Iterator[tuple[str, RetrievalConfig, float]]:
    yield from _hybrids(config, validation, content, metric)
    active = int((np.asarray(validation.likes.sum(axis=0)).ravel() > 0).sum())
    grids: list[tuple[str, str, list]] = []
    if active <= config.model.ease_max_items:
        grids.append(("ease", "ease_lambda", EASE_LAMBDAS))
    else:
        log.info("EASE skipped: %d items seen in train > model.ease_max_items", active)
    grids.append(("itemknn", "itemknn_neighbors", ITEMKNN_NEIGHBORS))
    values = ["binary"] if config.data.feedback.kind == "binary" else ["binary", "weight"]
    for kind, field, grid in grids:
        # 1s or weights at the grid's middle value first, then the grid with the better one:
        # len(grid) + 1 fits instead of twice the grid.
        middle = grid[len(grid) // 2]
        best: tuple[float, str] | None = None
        for value in values:
            model = config.model.model_copy(update={"kind": kind, "values": value, field: middle})
            for name, candidate, score in _item_item(config, model, validation, metric):
                yield name, candidate, score
                if best is None or score > best[0]:
                    best = (score, value)
        for setting in grid:
            if setting == middle:
                continue
            model = config.model.model_copy(
                update={"kind": kind, "values": best[1], field: setting}
            )
            yield from _item_item(config, model, validation, metric)


def _hybrids(
    config: RetrievalConfig, validation: Validation, content: np.ndarray, metric: str
) -> Iterator[tuple[str, RetrievalConfig, float]]:
    """The hybrid's weights change at query time, so one fitted model serves the whole search."""
    config = config.model_copy(update={"model": config.model.model_copy(update={"kind": "hybrid"})})
    recommender = Recommender.fit(validation.split.train, validation.items, content, config)
    best = _score_hybrid(recommender, config, validation, metric)
    yield _hybrid_name(config), config, best
    for field, grid in HYBRID_SEARCH:
        for value in grid:
            if value == getattr(config.hybrid, field):
                continue
            hybrid = config.hybrid.model_copy(update={field: value})
            candidate = config.model_copy(update={"hybrid": hybrid})
            score = _score_hybrid(recommender, candidate, validation, metric)
            yield _hybrid_name(candidate), candidate, score
            if score > best:
                best, config = score, candidate


def _score_hybrid(
    recommender: Recommender, config: RetrievalConfig, validation: Validation, metric: str
) -> float:
    recommender.config = config
    k = config.evaluation.k
    ranked: list[list[int]] = []
    for start in range(0, len(validation.users), BATCH):
        users = validation.users[start : start + BATCH]
        queries = [Query(recommender.user_history(user)) for user in users]
        for recs in recommender.recommend(queries, k, with_evidence=False):
            ranked.append([recommender.positions[rec.item_id] for rec in recs])
    return ranking_metrics(ranked, validation.relevant, validation.items.height, k)[metric]


def _item_item(
    config: RetrievalConfig, model: ModelConfig, validation: Validation, metric: str
) -> Iterator[tuple[str, RetrievalConfig, float]]:
    """One fit, then every popularity blend ranked from the same scores."""
    matrix = validation.weights if model.values == "weight" else validation.likes
    popularity = popularity_scores(validation.likes)
    item_item = ItemItem.fit(matrix, popularity, model)
    k = config.evaluation.k
    ranked: dict[float, list[list[int]]] = {blend: [] for blend in BLENDS}
    for start in range(0, len(validation.users), BATCH):
        rows = validation.rows[start : start + BATCH]
        raw = item_item.raw_scores(matrix[rows])
        seen = validation.seen[start : start + BATCH]
        for blend in BLENDS:
            ranked[blend] += top_k_unseen(raw + blend * popularity[None, :], seen, k)
    for blend in BLENDS:
        chosen = model.model_copy(update={"popularity_blend": blend})
        score = ranking_metrics(ranked[blend], validation.relevant, validation.items.height, k)
        yield _item_item_name(chosen), config.model_copy(update={"model": chosen}), score[metric]


def _hybrid_name(config: RetrievalConfig) -> str:
    hybrid = config.hybrid
    return (
        f"hybrid(content={hybrid.content_weight:g}, popularity={hybrid.popularity_weight:g}, "
        f"half_life={hybrid.recency_half_life:g})"
    )


def _item_item_name(model: ModelConfig) -> str:
    param = (
        f"lambda={model.ease_lambda:g}"
        if model.kind == "ease"
        else f"neighbors={model.itemknn_neighbors}"
    )
    return f"{model.kind}({param}, values={model.values}, popularity={model.popularity_blend:g})"
