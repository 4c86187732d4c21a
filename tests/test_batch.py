"""explain-batch on Ray Data, end to end: the CLI in its own process against a real two-node Ray
cluster on this machine (a head that holds the LLM, a worker for the CPU stage), vLLM's engine
on SmolLM2 and the server's explanation policy, on a catalog the demo is not: the shipped music
example (play counts of artists, no genres), whose explanations must speak of artists and plays.

The job's driver is killed halfway; started again with the same output, it resumes, and every
input row is in the output exactly once. (A stage's actor killed mid-job, which Ray restarts,
costs one more engine start: `benchmarks/batch_job.py` does it, on 10,000 pairs.) It runs before
the served app starts (conftest), so one engine runs at a time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
import yaml

from benchmarks.cluster import local_cluster
from retrieval.recommender import Query
from serve.config import CONFIG_FILE, PROJECT_ROOT, serve_config
from serve.model_prep import SMOLLM2, SMOLLM2_DIR_NAME, prepare_model

MOVIE_WORDS = re.compile(r"\b(?:movies?|films?|watched|rated|stars?)\b|\d+(?:[.,]\d+)?/\d+", re.I)


@pytest.fixture
def two_nodes():
    """A head with the `llm_node` resource and a worker node with `cpu_pool`, 1 CPU each."""
    head = {"num_cpus": 1, "resources": {"llm_node": 1}}
    with local_cluster(head, [{"num_cpus": 1, "resources": {"cpu_pool": 1}}]) as (env, _):
        yield env


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def test_the_job_uses_both_nodes_and_resumes_after_a_kill_writing_each_row_once(
    tmp_path, music_artifacts, two_nodes
):
    from retrieval.artifacts import load_recommender

    env = two_nodes
    prepare_model(SMOLLM2, PROJECT_ROOT / "models" / SMOLLM2_DIR_NAME)
    artifacts, _ = music_artifacts
    rec, _ = load_recommender(artifacts)
    users = list(rec.histories)
    pairs = [
        (user, found.item_id)
        for user in users[:4]  # 8 pairs and 2 bad rows: 5 blocks of 2, killed after the first
        for found in rec.recommend([Query(rec.user_history(user))], 2)[0]
    ]
    rows = pl.DataFrame(
        {
            "user_id": [u for u, _ in pairs] + ["no-such-user", users[0]],
            "item_id": [i for _, i in pairs] + [pairs[0][1], "no-such-item"],
        }
    )
    rows.write_csv(tmp_path / "pairs.csv")
    config = serve_config(CONFIG_FILE)
    config["applications"][0]["args"]["artifacts"] = str(artifacts)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "explained.parquet"
    parts = tmp_path / "explained.parquet.parts"
    command = [
        sys.executable,
        "-m",
        "serve.cli",
        "explain-batch",
        "--in",
        str(tmp_path / "pairs.csv"),
    ]
    command += ["--out", str(out), "--config", str(tmp_path / "config.yaml")]
    env = {
        **env,
        "RECSPLAIN_BATCH__BATCH_SIZE": "2",
        "RECSPLAIN_BATCH__STAGE_RESOURCES": json.dumps(
            {"evidence": {"cpu_pool": 1}, "explain": {"llm_node": 1}}
        ),
    }

    def written() -> int:
        return len(list(parts.glob("part-*.parquet")))

    first = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: written() >= 1, 600, "a part")
        os.killpg(first.pid, signal.SIGKILL)  # the driver, halfway
        first.wait(60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    kept = sum(pl.read_parquet(part).height for part in parts.glob("part-*.parquet"))
    assert 0 < kept < rows.height, "killed halfway"

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == kept and summary["written"] == rows.height - kept
    assert summary["rows"] == rows.height
    # The stages ran on both nodes: evidence where the LLM is not.
    assert summary["nodes"]["evidence"].keys().isdisjoint(summary["nodes"]["explain"]), summary

    result = pl.read_parquet(out)
    assert not parts.exists()
    assert result.select("user_id", "item_id").equals(rows), "every row once, in input order"
    good, bad = result.head(len(pairs)), result.tail(2)
    assert good["error"].is_null().all() and good["explanation"].is_not_null().all()
    assert set(good["source"].to_list()) <= {"llm", "template"}
    for source, reason in good.select("source", "reason").iter_rows():
        assert (reason is None) == (source == "llm"), "every template says why"
    for item_id, text, source, cited in good.select(
        "item_id", "explanation", "source", "cited_item_ids"
    ).iter_rows():
        assert not MOVIE_WORDS.search(text), text  # no ratings, no movies, no "13883/5"
        assert cited, text
        if source == "template":
            # In the catalog's words, naming the recommended artist (issue 15): "X is
            # recommended because you played Y and both artists have ...", or "... and 38% of
            # the people who played it also played X".
            title = rec.titles[rec.positions[item_id]]
            assert "played" in text and title in text, text
            assert "artists" in text or "%" in text, text
    assert bad["explanation"].is_null().all()
    assert bad["error"].to_list() == [
        "unknown user_id 'no-such-user'",
        "unknown item_id 'no-such-item'",
    ]


def test_parts_of_another_job_are_never_mixed_in(tmp_path, default_artifacts):
    """Resuming trusts the parts only when they were written for this input and build."""
    from serve.config import RecsplainSettings
    from serve.explain.pipeline import StaleParts, run_job

    pl.DataFrame({"user_id": ["1"], "item_id": ["318"]}).write_csv(tmp_path / "a.csv")
    parts = tmp_path / "out.parquet.parts"
    parts.mkdir()
    (parts / "job.json").write_text(
        json.dumps({"input": "other.csv", "rows": 5, "input_hash": "0", "data_hash": "x"})
    )
    settings = RecsplainSettings(artifacts=default_artifacts[0])
    with pytest.raises(StaleParts, match="parts of another job"):
        run_job(str(tmp_path / "a.csv"), tmp_path / "out.parquet", settings, progress=False)
