"""From raw interactions to clean, chronologically ordered training data and a temporal split."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import polars as pl

from retrieval.config import PreprocessConfig

log = logging.getLogger(__name__)


@dataclass
class Split:
    """Per user, `test` holds the latest interactions; none of them precedes any in `train`."""

    train: pl.DataFrame
    test: pl.DataFrame


def preprocess(interactions: pl.DataFrame, config: PreprocessConfig) -> pl.DataFrame:
    """Deduplicate, mark positives, apply the minimum counts, and order by user and time.

    Duplicates of a (user, item) pair keep the latest one: a re-rating replaces the old opinion.
    The minimum counts are applied until they hold together, since dropping items can push a
    user under the minimum and the other way round.
    """
    frame = interactions.with_row_index("_order")
    before = frame.height
    frame = frame.sort("timestamp", "_order").unique(
        subset=["user_id", "item_id"], keep="last", maintain_order=True
    )
    if frame.height < before:
        log.info("dropped %d duplicate interactions (kept the latest)", before - frame.height)
    threshold = config.positive_threshold
    frame = frame.with_columns(
        positive=pl.lit(True) if threshold is None else pl.col("rating") >= threshold
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


def temporal_split(interactions: pl.DataFrame, test_fraction: float) -> Split:
    """Put each user's last `test_fraction` of interactions (at least one) into test.

    `interactions` must be ordered by user and time, as `preprocess` leaves it.
    """
    frame = interactions.with_columns(
        position=pl.int_range(pl.len()).over("user_id"),
        count=pl.len().over("user_id"),
    )
    test_size = (pl.col("count") * test_fraction).floor().clip(lower_bound=1)
    is_test = pl.col("position") >= pl.col("count") - test_size
    frame = frame.with_columns(is_test=is_test)
    drop = ["position", "count", "is_test"]
    return Split(
        train=frame.filter(~pl.col("is_test")).drop(drop),
        test=frame.filter(pl.col("is_test")).drop(drop),
    )
