"""The synthetic music generator: deterministic, hetrec-shaped, and the shipped copy matches it."""

from __future__ import annotations

import shlex
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from benchmarks.synthetic import ARTISTS_FILE, INTERACTIONS_FILE, SyntheticConfig, app, generate

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "synthetic-music"
SMALL = SyntheticConfig(artists=2000, users=300, seed=3)


def read_dat(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False)


def test_same_seed_same_data_other_seed_other_data():
    interactions, artists = generate(SMALL)
    again = generate(SMALL)
    assert interactions.equals(again[0]) and artists.equals(again[1])
    other = generate(SyntheticConfig(artists=2000, users=300, seed=4))
    assert not interactions.equals(other[0])


def test_rows_are_sorted_unique_pairs_of_positive_counts():
    interactions, artists = generate(SMALL)
    assert interactions.columns == ["userID", "artistID", "weight"]
    assert interactions.equals(interactions.sort("userID", "artistID"))
    assert not interactions.select("userID", "artistID").is_duplicated().any()
    assert interactions["weight"].min() >= 1
    assert interactions["weight"].max() > 10_000  # heavy-tailed
    per_user = interactions.group_by("userID").len()["len"]
    assert per_user.min() >= SMALL.min_activity and per_user.max() <= SMALL.max_activity
    assert interactions["artistID"].is_in(artists["id"].implode()).all()


def test_names_are_unique_and_some_need_unquoted_reading():
    _, artists = generate(SMALL)
    names = artists["name"]
    assert names.n_unique() == artists.height
    assert names.str.starts_with('"').any()
    assert (~names.str.contains(r"^[\x00-\x7f]*$")).any()
    assert not names.str.contains("[\t\n]").any()
    assert artists["genres"].str.len_chars().min() > 0  # every artist has a genre


def test_from_a_target_interaction_count():
    interactions, _ = generate(SyntheticConfig(artists=500, users=None, interactions=5000))
    assert 4500 <= interactions.height <= 5050


def test_shipped_files_match_the_command_in_their_readme(tmp_path):
    command = next(
        line.strip()
        for line in (SHIPPED / "README.md").read_text().splitlines()
        if "-m benchmarks.synthetic" in line
    )
    arguments = shlex.split(command.split("-m benchmarks.synthetic", 1)[1])
    assert arguments[0] == "data/synthetic-music"
    result = CliRunner().invoke(app, [str(tmp_path), *arguments[1:]])
    assert result.exit_code == 0, result.output
    for name in (INTERACTIONS_FILE, ARTISTS_FILE):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    artists = read_dat(SHIPPED / ARTISTS_FILE)
    assert artists.columns == ["id", "name", "genres", "tags"]
    assert artists["name"].str.starts_with('"').sum() >= 10
