import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from retrieval.config import DEFAULT_DATA_DIR, DataConfig, FeedbackConfig, PreprocessConfig
from retrieval.data import load_dataset
from retrieval.preprocess import preprocess
from retrieval.split import Split, SplitError, holdout_split
from serve.cli import app

KEY = ["user_id", "item_id"]
EXPLICIT = FeedbackConfig(kind="explicit", scale=(0.5, 5.0))


def interactions(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    """Rows of (user_id, item_id, rating, timestamp), in file order."""
    return pl.DataFrame(rows, schema=["user_id", "item_id", "rating", "timestamp"], orient="row")


def sorted_by_user_then_item(counts: dict[str, int]) -> pl.DataFrame:
    """A file without timestamps, listed by user then item id: the timestamp is the file order."""
    rows = [(user, f"{item:03d}") for user, n in counts.items() for item in range(n)]
    frame = pl.DataFrame(rows, schema=KEY, orient="row")
    return frame.with_columns(
        rating=pl.lit(1.0), timestamp=pl.int_range(pl.len()), positive=pl.lit(True)
    )


def split(frame: pl.DataFrame, has_timestamps: bool = False, **config) -> Split:
    return holdout_split(frame, PreprocessConfig(**config), has_timestamps)


def pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select(KEY).iter_rows())


def test_auto_is_temporal_with_timestamps_and_random_without():
    frame = sorted_by_user_then_item({"a": 10, "b": 20})
    timed = split(frame, has_timestamps=True)
    untimed = split(frame, has_timestamps=False)
    assert timed.strategy == "temporal"
    assert timed.description == "temporal per user: last 10% (at least 1) to test"
    assert untimed.strategy == "random"
    assert untimed.description == (
        "random per user (seed 42): 10% (at least 1) to test; the data has no timestamps"
    )


@pytest.mark.parametrize(
    ("strategy", "has_timestamps"), [("temporal", False), ("file_order", True)]
)
def test_a_split_the_data_cannot_give_is_an_error_naming_the_setting(strategy, has_timestamps):
    frame = sorted_by_user_then_item({"a": 10})
    with pytest.raises(SplitError, match=r"preprocess\.split") as info:
        split(frame, has_timestamps, split=strategy)
    assert isinstance(info.value, ValueError)


def test_temporal_without_timestamps_fails_the_cli_before_embedding(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "interactions.csv").write_text("user_id,item_id\nu1,m1\nu1,m2\nu2,m1\nu2,m2\n")
    (data / "items.csv").write_text("item_id,title,genres\nm1,One,Drama\nm2,Two,Comedy\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        "data: {layout: generic, interactions: {rating: null, timestamp: null}}\n"
        "preprocess: {split: temporal}\n"
    )
    arguments = ["--data", str(data), "--config", str(config), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, ["build", *arguments])
    assert result.exit_code == 2, result.output
    assert "preprocess.split" in result.output and "'random'" in result.output


@pytest.mark.parametrize(
    ("strategy", "has_timestamps"),
    [("temporal", True), ("random", True), ("random", False), ("file_order", False)],
)
@pytest.mark.parametrize("fraction", [0.1, 0.3])
def test_each_user_gets_the_fraction_at_least_one_and_keeps_some_train(
    strategy, has_timestamps, fraction
):
    counts = {"a": 2, "b": 3, "c": 9, "d": 10, "e": 11, "f": 25}
    frame = sorted_by_user_then_item(counts)
    result = split(frame, has_timestamps, split=strategy, test_fraction=fraction)
    assert result.strategy == strategy
    assert_frame_equal(pl.concat([result.train, result.test]).sort(KEY), frame.sort(KEY))
    assert not pairs(result.train) & pairs(result.test)
    test_sizes = dict(result.test.group_by("user_id").len().iter_rows())
    train_sizes = dict(result.train.group_by("user_id").len().iter_rows())
    for user, n in counts.items():
        assert test_sizes[user] == max(1, math.floor(fraction * n)), user
        assert train_sizes[user] >= 1, user


def test_a_user_with_one_interaction_keeps_it_in_train():
    """As in a validation split carved from train: a user with no history is not tested."""
    frame = sorted_by_user_then_item({"a": 1, "b": 4})
    for strategy in ("random", "file_order", "leave_one_out"):
        result = split(frame, split=strategy)
        assert "a" in result.train["user_id"].to_list(), strategy
        assert "a" not in result.test["user_id"].to_list(), strategy


def test_random_split_is_deterministic_for_a_seed_and_changes_with_it():
    frame = sorted_by_user_then_item({f"u{user}": 20 for user in range(10)})
    first = pairs(split(frame, seed=42).test)
    assert pairs(split(frame, seed=42).test) == first
    assert pairs(split(frame, seed=7).test) != first
    assert split(frame, seed=7).description.startswith("random per user (seed 7)")


def test_random_split_does_not_depend_on_the_row_order():
    frame = sorted_by_user_then_item({f"u{user}": 20 for user in range(10)})
    reordered = frame.sort("user_id", "item_id", descending=[False, True])
    assert pairs(split(reordered).test) == pairs(split(frame).test)


def test_without_timestamps_the_test_items_are_not_the_highest_ids():
    """A cut in file order tests each user's highest item ids here; the default does not."""
    counts = {f"u{user:02d}": 20 for user in range(30)}
    frame = sorted_by_user_then_item(counts)
    highest = {(user, f"{item:03d}") for user, n in counts.items() for item in (n - 2, n - 1)}
    assert pairs(split(frame, split="file_order").test) == highest
    tested = split(frame).test
    assert tested.height == len(highest)
    assert len(pairs(tested) & highest) < len(highest) / 4


def test_leave_one_out_with_timestamps_holds_out_each_users_latest():
    rows = [("a", "m1", 4.0, 30), ("a", "m2", 4.0, 10), ("a", "m3", 4.0, 20)]
    rows += [("b", "m1", 4.0, 5), ("b", "m3", 4.0, 7)]
    frame = preprocess(interactions(rows), PreprocessConfig(), EXPLICIT)
    result = split(frame, has_timestamps=True, split="leave_one_out")
    assert result.test.select(KEY).sort(KEY).rows() == [("a", "m1"), ("b", "m3")]
    assert result.train.height == 3
    assert "the latest interaction" in result.description


def test_leave_one_out_without_timestamps_holds_out_one_seeded_random_interaction():
    counts = {f"u{user:02d}": 10 for user in range(20)}
    frame = sorted_by_user_then_item(counts)
    result = split(frame, split="leave_one_out")
    assert result.test["user_id"].value_counts()["count"].to_list() == [1] * len(counts)
    assert pairs(split(frame, split="leave_one_out").test) == pairs(result.test)
    last_in_file = {(user, f"{n - 1:03d}") for user, n in counts.items()}
    assert pairs(result.test) != last_in_file
    assert "seed 42" in result.description and "no timestamps" in result.description


def assert_leak_free_split(frame: pl.DataFrame, test_fraction: float) -> Split:
    result = split(frame, has_timestamps=True, split="temporal", test_fraction=test_fraction)
    order = [*KEY, "timestamp"]
    assert_frame_equal(pl.concat([result.train, result.test]).sort(order), frame.sort(order))
    assert result.train.join(result.test, on=KEY).height == 0

    per_user = (
        frame.group_by("user_id")
        .len("n")
        .join(result.train.group_by("user_id").agg(train_max=pl.max("timestamp")), on="user_id")
        .join(
            result.test.group_by("user_id").agg(test_min=pl.min("timestamp"), test_n=pl.len()),
            on="user_id",
        )
    )
    assert per_user.height == frame["user_id"].n_unique()
    for user in per_user.iter_rows(named=True):
        assert user["train_max"] <= user["test_min"], user
        assert user["test_n"] == max(1, math.floor(test_fraction * user["n"])), user
    return result


def test_temporal_split_on_the_default_dataset_does_not_leak():
    config = PreprocessConfig()
    dataset = load_dataset(DataConfig(path=DEFAULT_DATA_DIR))
    assert dataset.has_timestamps
    frame = preprocess(dataset.interactions, config, dataset.feedback)
    assert_leak_free_split(frame, config.test_fraction)


def test_temporal_split_with_tied_timestamps():
    """Ties are broken by file order, so the split is still a clean cut in time."""
    rows = [("a", f"m{i}", 4.0, 5) for i in range(10)]  # one timestamp for all ten
    rows += [("b", "m1", 4.0, 9), ("b", "m2", 4.0, 1), ("b", "m3", 4.0, 9)]
    frame = preprocess(interactions(rows), PreprocessConfig(), EXPLICIT)
    test = assert_leak_free_split(frame, 0.1).test
    assert test.select(KEY).rows() == [("a", "m9"), ("b", "m3")]
