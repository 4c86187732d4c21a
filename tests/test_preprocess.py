import polars as pl
import pytest

from retrieval.config import FeedbackConfig, PreprocessConfig
from retrieval.preprocess import preprocess

RATINGS = FeedbackConfig(kind="explicit", scale=(0.5, 5.0))
COUNTS = FeedbackConfig(kind="implicit")

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
    frame = preprocess(interactions([*duplicates, ("u1", "m2", 3.0, 5)]), config(), RATINGS)
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
    frame = preprocess(raw, config(min_user_interactions=2, min_item_interactions=2), RATINGS)
    assert frame.select(KEY).rows() == [("u1", "m1"), ("u1", "m2"), ("u3", "m2"), ("u3", "m1")]
    assert frame.group_by("user_id").len()["len"].min() >= 2
    assert frame.group_by("item_id").len()["len"].min() >= 2


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(3.5, [False, True, True]), (None, [True, True, True])],
)
def test_positive_flag(threshold, expected):
    raw = interactions([("u1", "m1", 3.0, 1), ("u1", "m2", 3.5, 2), ("u1", "m3", 4.0, 3)])
    frame = preprocess(raw, config(positive_threshold=threshold), RATINGS)
    assert frame["positive"].to_list() == expected


def test_auto_positive_threshold_follows_the_feedback_kind():
    raw = interactions([("u1", "m1", 3.0, 1), ("u1", "m2", 3.5, 2), ("u1", "m3", 4.0, 3)])
    assert preprocess(raw, config(), RATINGS)["positive"].to_list() == [False, True, True]
    on_ten = FeedbackConfig(kind="explicit", scale=(1.0, 10.0))
    raw = interactions([("u1", "m1", 6.0, 1), ("u1", "m2", 7.0, 2), ("u1", "m3", 10.0, 3)])
    assert preprocess(raw, config(), on_ten)["positive"].to_list() == [False, True, True]
    raw = interactions([("u1", "m1", 1.0, 1), ("u1", "m2", 350000.0, 2)])
    assert preprocess(raw, config(), COUNTS)["positive"].to_list() == [True, True]


def test_repeated_counts_add_up_and_weigh_by_their_log():
    """Two rows of plays of one artist are one interaction with their sum; a 10,000-play
    artist does not outweigh a 10-play one a thousand times."""
    raw = interactions(
        [
            ("u1", "a1", 4.0, 0),
            ("u1", "a2", 1e4, 1),
            ("u1", "a1", 6.0, 2),
            ("u2", "a1", 1, 3),
            ("u2", "a2", 1, 4),
        ]
    )
    frame = preprocess(raw, config(), COUNTS)
    by_pair = {(u, i): (r, w) for u, i, r, w in frame.select(*KEY, "rating", "weight").rows()}
    assert by_pair[("u1", "a1")][0] == 10.0
    ratio = by_pair[("u1", "a2")][1] / by_pair[("u1", "a1")][1]
    assert 3.5 < ratio < 4.5, ratio  # log1p(10000) / log1p(10)
