"""`recsplain verifier-eval`: anyone's labelled corpus through the production verifier (issue 19,
item 8). The shipped corpora go through the same code in tests/test_verifier_corpus.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from serve.cli import app
from serve.config import PROJECT_ROOT
from serve.explain.verifier_eval import CorpusError, catalogs_for, load_corpus

runner = CliRunner()


def _case(case_id: str, label: str, text: str, **extra) -> dict:
    """A case of a catalog the corpus alone describes: a shop's products, titles only."""
    return {
        "id": case_id, "label": label, "category": "test", "language": "en", "text": text,
        "catalog": "my-shop",
        "recommended": {"item_id": "p2", "title": "Trail Runner Shoe", "genres": [], "tags": []},
        "evidence": [
            {"item_id": "p1", "title": "Rain Jacket", "genres": [], "tags": [], "rating": 5},
            {"item_id": "p3", "title": "Wool Socks", "genres": [], "tags": []},
        ],
        "shared_tags": [], **extra,
    }  # fmt: skip


GOOD = "You rated Rain Jacket 5/5, so Trail Runner Shoe may suit you too."
BAD = "Wool Socks won an award at the Paris fair; visit shop dot com for details."


def _write(tmp_path, cases) -> str:
    """The corpus file, as the command line takes it."""
    path = tmp_path / "corpus.yaml"
    path.write_text(yaml.safe_dump(cases, allow_unicode=True))
    return str(path)


def test_verdicts_as_json_lines_with_the_summary_last(tmp_path):
    corpus = _write(tmp_path, [_case("g1", "good", GOOD), _case("b1", "bad", BAD, why="made up")])
    out = tmp_path / "out" / "verdicts.jsonl"
    result = runner.invoke(app, ["verifier-eval", corpus, "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line.get("id") for line in lines[:2]] == ["g1", "b1"]
    good, bad, summary = lines
    assert good["accepted"] and good["correct"] and good["reason"] is None
    assert not bad["accepted"] and bad["correct"] and bad["reason"]
    assert summary["summary"] and summary["mode"] == "rules"
    assert summary["cases"] == {"good": 1, "bad": 1}
    assert summary["rejection"]["recall"] == 1.0
    assert summary["rejection"]["good_rejected_rate"] == 0.0
    assert "recall 1.0" in result.output


def test_stdout_and_closed_mode(tmp_path):
    corpus = _write(tmp_path, [_case("g1", "good", GOOD)])
    result = runner.invoke(app, ["verifier-eval", corpus, "--mode", "closed"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["mode"] == "closed" and summary["cases"] == {"good": 1, "bad": 0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": ["a", "b"]}, "field category"),
        ({"language": "it"}, "field language"),
        ({"recommended": {"item_id": "p2"}}, "field recommended.title"),
        ({"evidence": []}, "field evidence"),
        ({"vocabulary": {"scale": [1, 10], "unit": "stars"}}, "field vocabulary.unit"),
        ({"vocabulary": {"scale": {"low": 1, "high": 10}}}, "field vocabulary.scale"),
        ({"vocabulary": {"kind": "graded"}}, "field vocabulary.kind"),
    ],
)
def test_a_bad_case_names_the_file_the_case_and_the_field(tmp_path, change, field):
    corpus = _write(tmp_path, [_case("g1", "good", GOOD), _case("g2", "good", GOOD, **change)])
    with pytest.raises(CorpusError) as raised:
        load_corpus(tmp_path / "corpus.yaml")
    message = str(raised.value)
    assert message.startswith(f"{corpus}: case 2 (id g2): {field}"), message
    result = runner.invoke(app, ["verifier-eval", corpus])
    assert result.exit_code == 2 and "case 2 (id g2)" in " ".join(result.output.split())


def test_a_scale_as_a_pair_or_as_min_and_max_means_the_same(tmp_path):
    """Both spellings of a 1-10 scale give the same verdicts (the mapping crashed the run with
    "unhashable type: 'dict'" before)."""
    text = "You rated Rain Jacket 9/10, so Trail Runner Shoe may suit you too."
    verdicts = []
    for scale in ([1, 10], {"min": 1, "max": 10}):
        vocabulary = {"kind": "explicit", "scale": scale}
        case = _case("g1", "good", text, vocabulary=vocabulary)
        case["evidence"][0]["rating"] = 9
        result = runner.invoke(app, ["verifier-eval", _write(tmp_path, [case])])
        assert result.exit_code == 0, result.output
        verdicts.append(json.loads(result.stdout.strip().splitlines()[0]))
    assert verdicts[0] == verdicts[1] and verdicts[0]["accepted"], verdicts


def test_bad_options_are_refused(tmp_path):
    corpus = _write(tmp_path, [_case("g1", "good", GOOD)])
    assert runner.invoke(app, ["verifier-eval", corpus, "--mode", "open"]).exit_code == 2
    assert runner.invoke(app, ["verifier-eval", corpus, "--catalog", "x"]).exit_code == 2
    missing = runner.invoke(app, ["verifier-eval", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml" in "".join(missing.output.split())


def test_a_catalog_from_your_own_config(tmp_path, monkeypatch):
    """`--catalog NAME=CONFIG.yaml` reads the catalog from data: its every title is known to the
    verifier (here the synthetic artists), and its vocabulary is the build's (play counts)."""
    monkeypatch.chdir(PROJECT_ROOT)  # the shipped config's data path is relative to the repo
    music = [
        {
            "id": "m1", "label": "good", "category": "test", "language": "en",
            "catalog": "mine", "text": "x", "shared_tags": [],
            "recommended": {"item_id": "2", "title": "x", "genres": [], "tags": []},
            "evidence": [{"item_id": "1", "title": "y", "genres": [], "tags": []}],
        }
    ]  # fmt: skip
    config = PROJECT_ROOT / "data" / "configs" / "synthetic-music.yaml"
    catalogs = catalogs_for(load_corpus(Path(_write(tmp_path, music))), {"mine": config})
    assert len(catalogs["mine"].items) == 4000
    assert catalogs["mine"].vocabulary.kind == "implicit"
    assert catalogs["mine"].vocabulary.item == "artist"
    shop = catalogs_for(load_corpus(Path(_write(tmp_path, [_case("g1", "good", GOOD)]))))
    assert set(shop["my-shop"].items) == {"p1", "p2", "p3"}
    assert not shop["my-shop"].vocabulary.labelled
