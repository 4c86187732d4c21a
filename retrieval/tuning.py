"""The baselines' hyperparameters, searched on a validation split one knob at a time.

The served model is chosen by `retrieval.selection`; the baselines it is compared with get the
same grids there, so that `served` is judged against tuned baselines, not default ones. The
caller says how a model is scored on validation, so the search knows no data or models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from retrieval.config import RetrievalConfig
from retrieval.selection import EASE_LAMBDAS, ITEMKNN_NEIGHBORS

log = logging.getLogger(__name__)

# (model scored, config section, field, grid)
SEARCH: list[tuple[str, str, str, list]] = [
    ("ease", "evaluation", "ease_lambda", EASE_LAMBDAS),
    ("itemknn", "evaluation", "itemknn_neighbors", ITEMKNN_NEIGHBORS),
]


def with_value(config: RetrievalConfig, section: str, field: str, value) -> RetrievalConfig:
    part = getattr(config, section).model_copy(update={field: value})
    return config.model_copy(update={section: part})


def tune_config(
    config: RetrievalConfig,
    validate: Callable[[str, RetrievalConfig], dict[str, float]],
    models: tuple[str, ...] = tuple({entry[0] for entry in SEARCH}),
) -> tuple[RetrievalConfig, dict[str, dict]]:
    """Return the tuned config and a record of every knob's scores on validation.

    `validate(model, candidate)` is the validation metrics of `model` fitted under `candidate`;
    only the knobs of `models` are searched.
    """
    metric = f"ndcg@{config.evaluation.k}"
    record: dict[str, dict] = {}
    for model, section, field, grid in SEARCH:
        if model not in models:
            continue
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
