"""From raw interactions to clean, chronologically ordered data; `retrieval.split` splits it."""

from __future__ import annotations

import logging

import polars as pl

from retrieval.config import FeedbackConfig, PreprocessConfig
from retrieval.feedback import positive_threshold, weights

log = logging.getLogger(__name__)


def preprocess(
    interactions: pl.DataFrame, config: PreprocessConfig, feedback: FeedbackConfig
) -> pl.DataFrame:
    """Deduplicate, mark positives, weigh, apply the minimum counts, and order by user and time.

    Duplicates of a (user, item) pair: a re-rating replaces the old opinion (the latest is kept),
    while repeated counts add up (two rows of 10 plays are 20 plays). `weight` is what the value
    says about taste (see `retrieval.feedback.weights`). The minimum counts are applied until
    they hold together, since dropping items can push a user under the minimum and the other
    way round.
    """
    frame = interactions.with_row_index("_order")
    before = frame.height
    if feedback.kind == "implicit":
        frame = frame.group_by("user_id", "item_id", maintain_order=True).agg(
            pl.col("rating").sum(), pl.col("timestamp").max(), pl.col("_order").max()
        )
        merged = "summed the values of"
    else:
        frame = frame.sort("timestamp", "_order").unique(
            subset=["user_id", "item_id"], keep="last", maintain_order=True
        )
        merged = "dropped"
    if frame.height < before:
        log.info(
            "%s %d duplicate interactions (%s feedback)",
            merged,
            before - frame.height,
            feedback.kind,
        )
    threshold = positive_threshold(feedback, config.positive_threshold)
    frame = frame.with_columns(
        positive=pl.lit(True) if threshold is None else pl.col("rating") >= threshold,
        weight=pl.Series(weights(feedback, frame["rating"].to_numpy()), dtype=pl.Float32),
    )
    while True:
        size = frame.height
        frame = frame.filter(
            (pl.len().over("user_id") >= config.min_user_interactions)
            & (pl.len().over("item_id") >= config.min_item_interactions)
        )
        if frame.height == size:
            break
    if frame.height < before:
        log.info("kept %d of %d interactions after preprocessing", frame.height, before)
    return frame.sort("user_id", "timestamp", "_order").drop("_order")
