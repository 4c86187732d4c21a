"""Per-user holdout splits: what each model trains on and what it is scored on.

With timestamps, `auto` holds out each user's latest interactions (temporal). Without them the
timestamp column is only the file order, and a cut in file order tests whatever the file puts
last: on a file sorted by user then item, each user's highest item ids, which no model can
predict. So `auto` then holds out a seeded random sample per user; `file_order` keeps the cut in
file order for a file known to be chronological.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from retrieval.config import PreprocessConfig


class SplitError(ValueError):
    """`preprocess.split` asks for an order the data does not have."""


@dataclass
class Split:
    """Each user's interactions cut into `train` and `test`, saying which `strategy` cut them.

    A user with two or more interactions has at least one on each side; a user with one (possible
    in a validation split carved from train) keeps it in train.
    """

    train: pl.DataFrame
    test: pl.DataFrame
    strategy: str
    description: str


def holdout_split(
    interactions: pl.DataFrame, config: PreprocessConfig, has_timestamps: bool
) -> Split:
    """Split as `config.split` says; `auto` is temporal with timestamps and random without.

    `interactions` must be ordered by user and time (file order without timestamps), as
    `preprocess` leaves it: temporal and file-order cuts take the order of the rows.
    """
    strategy = resolve_strategy(config, has_timestamps)
    if strategy == "random" or (strategy == "leave_one_out" and not has_timestamps):
        order = _random_keys(interactions, config.seed)
    else:
        order = pl.int_range(interactions.height, eager=True)
    if strategy == "leave_one_out":
        test_size = pl.lit(1)
    else:
        test_size = (pl.len().over("user_id") * config.test_fraction).floor()
    train, test = _cut(interactions.with_columns(_order=order), test_size)
    return Split(train, test, strategy, _describe(strategy, config, has_timestamps))


def resolve_strategy(config: PreprocessConfig, has_timestamps: bool) -> str:
    """The strategy `config.split` means for this data; an error if the data cannot give it."""
    if config.split == "auto":
        return "temporal" if has_timestamps else "random"
    if config.split == "temporal" and not has_timestamps:
        raise SplitError(
            "preprocess.split is 'temporal' but the data has no timestamps: use 'random' "
            "(or 'auto'), or 'file_order' if the file lists each user's interactions in time order"
        )
    if config.split == "file_order" and has_timestamps:
        raise SplitError(
            "preprocess.split is 'file_order' but the data has timestamps, which order it: use "
            "'temporal', or set data.interactions.timestamp to null to ignore them"
        )
    return config.split


def _cut(frame: pl.DataFrame, test_size: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per user, the `test_size` rows (at least 1, at most all but one) last by `_order`."""
    count = pl.len().over("user_id")
    size = pl.min_horizontal(test_size.clip(lower_bound=1), count - 1)
    is_test = pl.col("_order").rank("ordinal").over("user_id") > count - size
    frame = frame.with_columns(_test=is_test)
    drop = ["_order", "_test"]
    return frame.filter(~pl.col("_test")).drop(drop), frame.filter(pl.col("_test")).drop(drop)


def _random_keys(interactions: pl.DataFrame, seed: int) -> pl.Series:
    """A pseudo-random key per (user, item): a hash of the seed and the pair.

    A hash rather than a seeded generator, so that a pair's key depends neither on the row order
    nor on the other rows nor on library versions: the split is reproducible from data and seed.
    """
    pairs = zip(interactions["user_id"], interactions["item_id"], strict=True)
    return pl.Series(
        [_hash(f"{seed}\x1f{user}\x1f{item}") for user, item in pairs], dtype=pl.UInt64
    )


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _describe(strategy: str, config: PreprocessConfig, has_timestamps: bool) -> str:
    share = f"{config.test_fraction:.0%} (at least 1) to test"
    seeded = f"seed {config.seed}"
    if strategy == "leave_one_out":
        held_out = "the latest interaction" if has_timestamps else f"one random ({seeded})"
        text = f"leave one out per user: {held_out} to test"
    else:
        text = {
            "temporal": f"temporal per user: last {share}",
            "file_order": f"file order per user: last {share}",
            "random": f"random per user ({seeded}): {share}",
        }[strategy]
    return text if has_timestamps else f"{text}; the data has no timestamps"
