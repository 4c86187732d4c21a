import json
import shutil

import pytest

from retrieval import artifacts
from retrieval.artifacts import ArtifactError, load_recommender, write_artifacts
from retrieval.build import STEPS
from retrieval.recommender import Query


def test_round_trip_gives_the_same_recommendations(
    default_artifacts, default_recommender, tmp_path
):
    copy = tmp_path / "copy"
    write_artifacts(default_recommender, copy, data_hash="h")
    reloaded, manifest = load_recommender(copy)
    histories = [Query(default_recommender.user_history(u)) for u in ["1", "15", "671"]]
    original = default_recommender.recommend(histories, 10)
    again = reloaded.recommend(histories, 10)
    assert [[r.item_id for r in recs] for recs in original] == [
        [r.item_id for r in recs] for recs in again
    ]
    assert manifest["counts"]["items"] == 9125 and manifest["data_hash"] == "h"


def test_manifest_records_what_a_build_needs(default_artifacts):
    _, manifest = default_artifacts
    for key in ("data_hash", "config", "versions", "created_at", "metrics", "files"):
        assert manifest[key]
    assert manifest["versions"]["faiss-cpu"] != "not installed"
    # MovieLens: inferred 0.5-5 ratings, and its layout says its items are movies.
    assert manifest["feedback"] == {"kind": "explicit", "scale": {"min": 0.5, "max": 5.0}}
    assert manifest["config"]["data"]["feedback"] == {"kind": "explicit", "scale": [0.5, 5.0]}
    assert manifest["domain"]["item"] == {"singular": "movie", "plural": "movies"}
    assert set(manifest["files"]) == {
        "index.faiss",
        "items.parquet",
        "embeddings.npz",
        "interactions.parquet",
        "itemitem.npz",
    }


def test_manifest_says_where_the_build_time_went(default_artifacts):
    out, manifest = default_artifacts
    assert list(manifest["timings"]) == list(STEPS)
    assert all(seconds >= 0 for seconds in manifest["timings"].values())
    written = json.loads((out / "manifest.json").read_text())["timings"]
    assert list(written) == list(STEPS[:-1])  # the write step cannot time itself in the file


@pytest.fixture
def artifact_copy(default_artifacts, tmp_path):
    copy = tmp_path / "art"
    # copyfile: a build's files are read-only, and these tests change their copies.
    shutil.copytree(default_artifacts[0], copy, copy_function=shutil.copyfile)
    return copy


def test_a_changed_file_fails_loading(artifact_copy):
    with (artifact_copy / "items.parquet").open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(ArtifactError, match=r"items\.parquet: checksum differs"):
        load_recommender(artifact_copy)


def test_a_missing_file_or_other_format_fails_loading(artifact_copy):
    manifest_path = artifact_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ArtifactError, match="format_version 99"):
        load_recommender(artifact_copy)
    manifest_path.write_text(json.dumps(manifest))
    (artifact_copy / "index.faiss").unlink()
    with pytest.raises(ArtifactError, match=r"index\.faiss is missing"):
        load_recommender(artifact_copy)


def test_an_unexpected_data_hash_fails_loading(artifact_copy):
    with pytest.raises(ArtifactError, match="expected abc"):
        load_recommender(artifact_copy, expected_data_hash="abc")


def test_a_directory_without_manifest_says_how_to_build(tmp_path):
    with pytest.raises(ArtifactError, match="recsplain build"):
        load_recommender(tmp_path)


def test_a_failed_write_leaves_the_previous_build_untouched(
    default_recommender, artifact_copy, monkeypatch
):
    before = (artifact_copy / "manifest.json").read_text()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        write_artifacts(default_recommender, artifact_copy)
    fresh_target = artifact_copy.parent / "never-written"
    with pytest.raises(OSError, match="disk full"):
        write_artifacts(default_recommender, fresh_target)
    assert (artifact_copy / "manifest.json").read_text() == before
    assert not fresh_target.exists()
    assert sorted(p.name for p in artifact_copy.parent.iterdir()) == ["art"]
    monkeypatch.undo()
    load_recommender(artifact_copy)
