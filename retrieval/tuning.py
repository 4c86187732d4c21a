"""Hyperparameter search on a validation split, one knob at a time (coordinate search).

Each knob is tried over its grid with the others held at their best value so far, optimizing
NDCG@k of the model that the knob belongs to. The plain `als` baseline
shares the ALS settings tuned for `served`. Cheap enough to run in `recsplain evaluate --tune`.
The caller says how a model is scored on validation, so the search knows no data or models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from retrieval.config import RetrievalConfig

log = logging.getLogger(__name__)

# (model scored, config section, field, grid)
SEARCH: list[tuple[str, str, str, list]] = [
    ("ease", "evaluation", "ease_lambda", [30.0, 100.0, 300.0, 1000.0]),
    ("itemknn", "evaluation", "itemknn_neighbors", [25, 50, 100, 200]),
    ("served", "als", "factors", [32, 64, 128]),
    ("served", "als", "regularization", [0.01, 0.05, 0.2, 1.0]),
    ("served", "als", "alpha", [0.5, 1.0, 2.0, 5.0]),
    ("served", "hybrid", "recency_half_life", [2.0, 3.0, 5.0, 10.0, 25.0, 1000.0]),
    ("served", "hybrid", "content_weight", [0.0, 0.3, 0.6, 1.0]),
    ("served", "hybrid", "popularity_weight", [0.0, 0.05, 0.1, 0.2, 0.4]),
]


def with_value(config: RetrievalConfig, section: str, field: str, value) -> RetrievalConfig:
    part = getattr(config, section).model_copy(update={field: value})
    return config.model_copy(update={section: part})


def tune_config(
    config: RetrievalConfig, validate: Callable[[str, RetrievalConfig], dict[str, float]]
) -> tuple[RetrievalConfig, dict[str, dict]]:
    """Return the tuned config and a record of every knob's scores on validation.

    `validate(model, candidate)` is the validation metrics of `model` fitted under `candidate`.
    """
    metric = f"ndcg@{config.evaluation.k}"
    record: dict[str, dict] = {}
    for model, section, field, grid in SEARCH:
        scores = {}
        for value in grid:
            candidate = with_value(config, section, field, value)
            scores[value] = validate(model, candidate)[metric]
        best = max(scores, key=scores.get)
        config = with_value(config, section, field, best)
        record[f"{section}.{field}"] = {
            "best": best,
            metric: {str(v): s for v, s in scores.items()},
        }
        log.info("tuned %s.%s = %s (%s %.4f)", section, field, best, metric, scores[best])
    return config, record
