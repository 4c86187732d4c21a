"""The issue's targets, asserted on the embedded default data through the real CLI."""

import json

import pytest
from typer.testing import CliRunner

from serve.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "results.json"
    result = runner.invoke(app, ["evaluate", "--json", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text()), result.output


def test_report_has_the_documented_shape(report):
    data, output = report
    assert data["k"] == 10
    assert set(data["models"]) == {"popularity", "itemknn", "ease", "als", "content", "served"}
    for metrics in data["models"].values():
        assert set(metrics) == {"recall@10", "ndcg@10", "coverage@10"}
        assert all(0.0 <= value <= 1.0 for value in metrics.values())
    assert data["protocol"]["users_evaluated"] > 600
    assert "served" in output and "ndcg@10" in output


def test_served_beats_ease_and_one_and_a_half_times_popularity(report):
    models = report[0]["models"]
    served = models["served"]["ndcg@10"]
    assert served >= models["ease"]["ndcg@10"]
    assert served >= 1.5 * models["popularity"]["ndcg@10"]


def test_build_manifest_carries_the_same_served_holdout_metrics(report, default_artifacts):
    _, manifest = default_artifacts
    served = report[0]["models"]["served"]
    assert manifest["metrics"]["ndcg@10"] == pytest.approx(served["ndcg@10"])


def test_recommend_cli_prints_a_table_for_a_user_and_a_history(default_artifacts):
    out = str(default_artifacts[0])
    by_user = runner.invoke(app, ["recommend", "--artifacts", out, "--user", "1", "-k", "3"])
    assert by_user.exit_code == 0 and "rank" in by_user.output and "evidence" in by_user.output
    by_history = runner.invoke(app, ["recommend", "--artifacts", out, "--history", "318,296"])
    assert by_history.exit_code == 0 and "sim " in by_history.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--user", "nobody"], "pass --history"),
        (["--history", "318,bogus"], "unknown item ids: bogus"),
        ([], "exactly one of --user and --history"),
    ],
)
def test_recommend_cli_bad_input_is_a_clear_error(default_artifacts, arguments, message):
    result = runner.invoke(app, ["recommend", "--artifacts", str(default_artifacts[0]), *arguments])
    assert result.exit_code == 2 and message in result.output


def test_build_cli_names_the_bad_file(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,oops,5\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,A (2000),Drama\n")
    result = runner.invoke(app, ["build", "--data", str(tmp_path), "--out", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert "ratings.csv row 1 (line 2), column 'rating'" in result.output
