import polars as pl
import pytest

from retrieval.config import PreprocessConfig
from retrieval.preprocess import preprocess

KEY = ["user_id", "item_id"]


def interactions(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    """Rows of (user_id, item_id, rating, timestamp), in file order."""
    return pl.DataFrame(rows, schema=["user_id", "item_id", "rating", "timestamp"], orient="row")


def config(**overrides) -> PreprocessConfig:
    return PreprocessConfig(**{"min_user_interactions": 2, **overrides})


@pytest.mark.parametrize(
    ("duplicates", "kept"),
    [
        ([("u1", "m1", 5.0, 20), ("u1", "m1", 2.0, 10)], (5.0, 20)),
        ([("u1", "m1", 2.0, 10), ("u1", "m1", 5.0, 20)], (5.0, 20)),
        ([("u1", "m1", 2.0, 10), ("u1", "m1", 5.0, 10)], (5.0, 10)),
    ],
    ids=["latest-first-in-file", "latest-last-in-file", "tie-keeps-last-in-file"],
)
def test_duplicate_pairs_keep_the_latest(duplicates, kept):
    frame = preprocess(interactions([*duplicates, ("u1", "m2", 3.0, 5)]), config())
    assert frame.height == 2
    row = frame.filter(pl.col("item_id") == "m1").row(0, named=True)
    assert (row["rating"], row["timestamp"]) == kept


def test_minimum_counts_are_applied_until_they_hold_together():
    """m3 is seen once; dropping it leaves u2 with one interaction, so u2 goes too."""
    raw = interactions(
        [
            ("u1", "m1", 4.0, 1),
            ("u1", "m2", 4.0, 2),
            ("u2", "m1", 4.0, 3),
            ("u2", "m3", 4.0, 4),
            ("u3", "m2", 4.0, 5),
            ("u3", "m1", 4.0, 6),
        ]
    )
    frame = preprocess(raw, config(min_user_interactions=2, min_item_interactions=2))
    assert frame.select(KEY).rows() == [("u1", "m1"), ("u1", "m2"), ("u3", "m2"), ("u3", "m1")]
    assert frame.group_by("user_id").len()["len"].min() >= 2
    assert frame.group_by("item_id").len()["len"].min() >= 2


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(3.5, [False, True, True]), (None, [True, True, True])],
)
def test_positive_flag(threshold, expected):
    raw = interactions([("u1", "m1", 3.0, 1), ("u1", "m2", 3.5, 2), ("u1", "m3", 4.0, 3)])
    frame = preprocess(raw, config(positive_threshold=threshold))
    assert frame["positive"].to_list() == expected
