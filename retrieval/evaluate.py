"""Offline evaluation: every model on the same temporal split, full-catalog ranking, seen excluded.

`served` is the `Recommender` the HTTP server runs, trained on the train split; the baselines
(popularity, itemknn, ease, als, content) see the same train positives. With `tune=True`,
hyperparameters are chosen on a validation split carved from train the same way, never on test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from retrieval import baselines
from retrieval.config import RetrievalConfig
from retrieval.content import embed_texts, item_texts
from retrieval.data import load_dataset
from retrieval.matrix import item_positions, user_item_matrix
from retrieval.metrics import ranking_metrics
from retrieval.preprocess import Split, preprocess, temporal_split
from retrieval.recommender import Query, Recommender

log = logging.getLogger(__name__)

MODELS = ("popularity", "itemknn", "ease", "als", "content", "served")
BATCH = 256


@dataclass
class EvalData:
    """A split turned into matrices over the catalog, plus who is evaluated on what."""

    split: Split
    items: pl.DataFrame
    users: list[str]
    positives: sp.csr_matrix
    confidences: sp.csr_matrix
    seen: sp.csr_matrix
    relevant: list[set[int]]

    @classmethod
    def from_split(cls, split: Split, items: pl.DataFrame) -> EvalData:
        positions = item_positions(items)
        test_positives = split.test.filter(pl.col("positive"))
        users = sorted(set(test_positives["user_id"].to_list()))
        relevant: dict[str, set[int]] = {user: set() for user in users}
        for user, item in test_positives.select("user_id", "item_id").iter_rows():
            relevant[user].add(positions[item])
        train_positives = split.train.filter(pl.col("positive"))
        return cls(
            split=split,
            items=items,
            users=users,
            positives=user_item_matrix(train_positives, users, positions),
            confidences=user_item_matrix(train_positives, users, positions, values="rating"),
            seen=user_item_matrix(split.train, users, positions),
            relevant=[relevant[user] for user in users],
        )


def rank_with_scorer(data: EvalData, scores: Callable[[np.ndarray], np.ndarray], k: int):
    ranked: list[list[int]] = []
    for start in range(0, len(data.users), BATCH):
        rows = np.arange(start, min(start + BATCH, len(data.users)))
        ranked += baselines.top_k_unseen(scores(rows), data.seen[rows], k)
    return ranked


def rank_with_recommender(recommender: Recommender, users: list[str], k: int) -> list[list[int]]:
    ranked: list[list[int]] = []
    for start in range(0, len(users), BATCH):
        queries = [Query(recommender.user_history(user)) for user in users[start : start + BATCH]]
        for recs in recommender.recommend(queries, k, with_evidence=False):
            ranked.append([recommender.positions[rec.item_id] for rec in recs])
    return ranked


def served_metrics(
    data: EvalData, content: np.ndarray, config: RetrievalConfig
) -> dict[str, float]:
    recommender = Recommender.fit(data.split.train, data.items, content, config)
    k = config.evaluation.k
    ranked = rank_with_recommender(recommender, data.users, k)
    return ranking_metrics(ranked, data.relevant, data.items.height, k)


def model_metrics(
    name: str, data: EvalData, content: np.ndarray, config: RetrievalConfig
) -> dict[str, float]:
    """Fit one named model on the train part of `data` and score it on its test part."""
    if name == "served":
        return served_metrics(data, content, config)
    scorer = {
        "popularity": lambda: baselines.Popularity(data.positives),
        "itemknn": lambda: baselines.ItemKNN(data.positives, config.evaluation.itemknn_neighbors),
        "ease": lambda: baselines.EASE(data.positives, config.evaluation.ease_lambda),
        "als": lambda: baselines.ALS(data.confidences, config.als),
        "content": lambda: baselines.Content(data.positives, content),
    }[name]()
    k = config.evaluation.k
    ranked = rank_with_scorer(data, scorer.scores, k)
    return ranking_metrics(ranked, data.relevant, data.items.height, k)


def evaluate(
    config: RetrievalConfig,
    models: tuple[str, ...] = MODELS,
    tune: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> dict:
    """Run the protocol and return the JSON-ready report."""
    from retrieval.tuning import tune_config

    dataset = load_dataset(config.data)
    interactions = preprocess(dataset.interactions, config.preprocess)
    split = temporal_split(interactions, config.preprocess.test_fraction)
    progress("embedding item text")
    content = embed_texts(item_texts(dataset.items, config.content.max_chars), config.content)
    tuned = None
    if tune:
        progress("tuning on the validation split")
        validation = temporal_split(split.train, config.preprocess.test_fraction)
        config, tuned = tune_config(EvalData.from_split(validation, dataset.items), content, config)
    data = EvalData.from_split(split, dataset.items)
    k = config.evaluation.k
    fraction = config.preprocess.test_fraction
    results = {}
    for name in models:
        progress(f"evaluating {name}")
        results[name] = model_metrics(name, data, content, config)
        log.info("%s: %s", name, results[name])
    return {
        "protocol": {
            "dataset": str(config.data.path),
            "data_hash": dataset.data_hash,
            "split": f"temporal per user: last {fraction:.0%} (at least 1) to test",
            "positive_threshold": config.preprocess.positive_threshold,
            "ranking": "full catalog, train items excluded",
            "catalog_items": dataset.items.height,
            "train_interactions": split.train.height,
            "test_interactions": split.test.height,
            "users_evaluated": len(data.users),
            "recall": "hits / min(k, relevant)",
            "tuning": "validation split carved from train" if tune else "config as given",
            "tuned": tuned,
            "data_warnings": dataset.warnings,
        },
        "k": k,
        "models": results,
    }
