"""Offline evaluation: every model on the same holdout split, full-catalog ranking, seen excluded.

`served` is the `Recommender` the HTTP server runs, trained on the train split; the baselines
(popularity, itemknn, ease, als, content) learn from the same train positives of every user,
evaluated or not. Each model is an entry
of `MODELS` that fits on train and ranks. With `tune=True` (the default, as in `recsplain
build`) the served model is chosen exactly as a build chooses it (`retrieval.selection`), and
the baselines' knobs are tuned, both on a validation split carved from train the same way
(`retrieval.split`), never on test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from retrieval import baselines
from retrieval.config import RetrievalConfig
from retrieval.content import embed_texts, item_texts
from retrieval.data import load_dataset
from retrieval.feedback import describe as describe_feedback
from retrieval.feedback import positive_threshold
from retrieval.matrix import item_positions, user_item_matrix
from retrieval.metrics import ranking_metrics
from retrieval.preprocess import preprocess
from retrieval.recommender import Recommender, rank_users
from retrieval.selection import Validation, choose_model
from retrieval.split import Split, holdout_split
from retrieval.tuning import tune_config

log = logging.getLogger(__name__)

BATCH = 256


@dataclass
class EvalData:
    """A split turned into matrices over the catalog, plus who is evaluated on what."""

    split: Split
    items: pl.DataFrame
    users: list[str]  # evaluated: with a liked test item
    positives: sp.csr_matrix  # every train user: the evaluated users' rows first
    confidences: sp.csr_matrix
    seen: sp.csr_matrix  # evaluated users only
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
        # The baselines learn from every train user, as the served model does; the evaluated
        # users come first, so their rows are 0..len(users)-1.
        evaluated = set(users)
        learners = users + [
            user
            for user in train_positives["user_id"].unique(maintain_order=True).to_list()
            if user not in evaluated
        ]
        return cls(
            split=split,
            items=items,
            users=users,
            positives=user_item_matrix(train_positives, learners, positions),
            confidences=user_item_matrix(train_positives, learners, positions, values="weight"),
            seen=user_item_matrix(split.train, users, positions),
            relevant=[relevant[user] for user in users],
        )


def rank_with_scorer(data: EvalData, scores: Callable[[np.ndarray], np.ndarray], k: int):
    ranked: list[list[int]] = []
    for start in range(0, len(data.users), BATCH):
        rows = np.arange(start, min(start + BATCH, len(data.users)))
        ranked += baselines.top_k_unseen(scores(rows), data.seen[rows], k)
    return ranked


# Fits a model on the train part of the data (with the item content embeddings at hand) and
# returns each evaluated user's top-k catalog positions.
Ranker = Callable[[EvalData, np.ndarray, RetrievalConfig], list[list[int]]]
Scores = Callable[[np.ndarray], np.ndarray]  # user rows -> scores over the catalog


def rank_served(data: EvalData, content: np.ndarray, config: RetrievalConfig) -> list[list[int]]:
    """The `Recommender` the server runs, fitted on train and queried with each user's history."""
    recommender = Recommender.fit(data.split.train, data.items, content, config)
    return rank_users(recommender, data.users, config.evaluation.k)


def scoring(fit: Callable[[EvalData, np.ndarray, RetrievalConfig], Scores]) -> Ranker:
    """A `Ranker` for a model that scores the whole catalog for a batch of user rows."""

    def rank(data: EvalData, content: np.ndarray, config: RetrievalConfig) -> list[list[int]]:
        return rank_with_scorer(data, fit(data, content, config), config.evaluation.k)

    return rank


MODELS: dict[str, Ranker] = {
    "popularity": scoring(lambda data, _, config: baselines.Popularity(data.positives).scores),
    "itemknn": scoring(
        lambda data, _, config: (
            baselines.ItemKNN(data.positives, config.evaluation.itemknn_neighbors).scores
        )
    ),
    "ease": scoring(
        lambda data, _, config: baselines.EASE(data.positives, config.evaluation.ease_lambda).scores
    ),
    "als": scoring(lambda data, _, config: baselines.ALS(data.confidences, config.als).scores),
    "content": scoring(lambda data, content, _: baselines.Content(data.positives, content).scores),
    "served": rank_served,
}


def model_metrics(
    name: str, data: EvalData, content: np.ndarray, config: RetrievalConfig
) -> dict[str, float]:
    """Fit the model registered as `name` on the train part of `data`; score it on the test part."""
    k = config.evaluation.k
    ranked = MODELS[name](data, content, config)
    return ranking_metrics(ranked, data.relevant, data.items.height, k)


def evaluate(
    config: RetrievalConfig,
    models: tuple[str, ...] = tuple(MODELS),
    tune: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> dict:
    """Run the protocol and return the JSON-ready report."""
    dataset = load_dataset(config.data)
    config = config.for_dataset(dataset.feedback, dataset.domain)
    interactions = preprocess(dataset.interactions, config.preprocess, dataset.feedback)
    split = holdout_split(interactions, config.preprocess, dataset.has_timestamps)
    progress("embedding item text")
    content = embed_texts(item_texts(dataset.items, config.content.max_chars), config.content)
    tuned = selection = None
    started = time.perf_counter()
    if tune:
        carved = holdout_split(split.train, config.preprocess, dataset.has_timestamps)
        if "served" in models:
            progress("choosing the served model on the validation split")
            config, selection = choose_model(
                config, Validation.of(carved, dataset.items), content, progress=False
            )
        progress("tuning the baselines on the validation split")
        validation = EvalData.from_split(carved, dataset.items)
        config, tuned = tune_config(
            config,
            lambda name, candidate: model_metrics(name, validation, content, candidate),
            models,
        )
    tuning_seconds = round(time.perf_counter() - started, 1)
    data = EvalData.from_split(split, dataset.items)
    k = config.evaluation.k
    results = {}
    for name in models:
        progress(f"evaluating {name}")
        results[name] = model_metrics(name, data, content, config)
        log.info("%s: %s", name, results[name])
    return {
        "protocol": {
            "dataset": str(config.data.path),
            "data_hash": dataset.data_hash,
            "split": split.description,
            "split_strategy": split.strategy,
            "feedback": describe_feedback(dataset.feedback),
            "positive_threshold": positive_threshold(
                dataset.feedback, config.preprocess.positive_threshold
            ),
            "ranking": "full catalog, train items excluded",
            "catalog_items": dataset.items.height,
            "train_interactions": split.train.height,
            "test_interactions": split.test.height,
            "users_evaluated": len(data.users),
            "recall": "hits / min(k, relevant)",
            "tuning": "validation split carved from train the same way"
            if tune
            else "config as given",
            "tuned": tuned,
            "selection": selection,
            "tuning_seconds": tuning_seconds,
            "data_warnings": dataset.warnings,
        },
        "k": k,
        "models": results,
    }
