"""explain-batch at scale on one machine: the Ray Data job against the single-process path on the
same pairs, then a large job killed twice and resumed.

1. `--compare N`: the first N pairs explained by the single-process path (every task in flight at
   once on vLLM's async engine through the policy, as `--precompute` runs), then by the Ray Data
   job (`recsplain explain-batch`, a local Ray). Same machine, model and settings, one after the
   other; each path's command timed end to end, engine start included.
2. `--pairs P`: `recsplain sample-pairs` writes P pairs; the job runs in its own process; when
   its first part lands, the explain stage's actor is killed (Ray restarts it, engine and all,
   and redoes its block); at `--kill-at` of the rows, the whole job. Started again with the same
   output, it resumes; the output must hold every input row exactly once.

    python -m benchmarks.batch_job main --pairs 10000 --compare 500 \
        --json benchmarks/results/batch-job.json

The model is the configured one (RECSPLAIN_LLM__MODEL_SOURCE overrides it); the result names it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from benchmarks.cluster import MARK, marked, stop

app = typer.Typer(add_completion=False)
CLI = [sys.executable, "-m", "serve.cli"]


def single_process(pairs: Path) -> dict:
    """The pairs through `explain_tasks` in this process (run in a subprocess by `main`)."""
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings
    from serve.explain.batch import build_tasks, explain_tasks, read_pairs
    from serve.explain.tasks import TaskFactory

    settings = load_settings()
    recommender, manifest = load_recommender(settings.artifacts_path())
    tasks, _ = build_tasks(read_pairs(pairs), TaskFactory(recommender))
    explanations, _, seconds = explain_tasks(
        settings, recommender, manifest, [t for t in tasks if t is not None]
    )
    llm = sum(e.source == "llm" for e in explanations)
    return {"rows": len(explanations), "explain_seconds": round(seconds, 1), "llm": llm}


def _timed(command: list[str], env: dict) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=7200)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-3000:]}")
    return done, time.perf_counter() - start


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def compare(pairs: Path, folder: Path, env: dict) -> dict:
    base, base_s = _timed(
        [sys.executable, "-m", "benchmarks.batch_job", "baseline", str(pairs)], env
    )
    baseline = _last_json(base.stdout)
    job, job_s = _timed(
        [*CLI, "explain-batch", "--in", str(pairs), "--out", str(folder / "c.parquet")], env
    )
    summary = _last_json(job.stdout)
    explained = summary["written"] - summary["errors"]
    rows = {
        "single_process": {
            "rows": baseline["rows"],
            "wall_s": round(base_s, 1),
            "rows_per_s": round(baseline["rows"] / base_s, 3),
            "explain_only_rows_per_s": round(baseline["rows"] / baseline["explain_seconds"], 3),
            "llm_share": round(baseline["llm"] / max(1, baseline["rows"]), 3),
        },
        "ray_data": {
            "rows": explained,
            "wall_s": round(job_s, 1),
            "rows_per_s": round(explained / job_s, 3),
            "llm_share": summary["llm_share"],
            "template_reasons": summary["template_reasons"],
        },
    }
    rows["ray_data_vs_single_process"] = round(
        rows["ray_data"]["rows_per_s"] / rows["single_process"]["rows_per_s"], 3
    )
    return rows


def killed_and_resumed(pairs: Path, folder: Path, env: dict, kill_at: float) -> dict:
    """The job killed twice (the explain actor, then the driver) and run again to the end."""
    out = folder / "explained.parquet"
    parts = folder / "explained.parquet.parts"
    total = pl.read_csv(pairs, infer_schema=False).height
    mark = env[MARK]
    command = [*CLI, "explain-batch", "--in", str(pairs), "--out", str(out)]

    def written() -> int:
        return sum(pl.read_parquet(p, columns=["row"]).height for p in parts.glob("part-*.parquet"))

    def wait(condition, what: str, timeout: float = 7200) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            time.sleep(1)

    start = time.perf_counter()
    first = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    events: dict = {}
    try:
        wait(lambda: parts.is_dir() and written() > 0, "the first part")
        [actor] = marked(mark, "ExplainStage")
        actor.kill()
        events["actor_killed_after_rows"] = written()
        events["actor_killed_at_s"] = round(time.perf_counter() - start, 1)
        wait(lambda: written() >= kill_at * total, "the kill point")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(60)
    finally:
        stop(mark)  # the local Ray the killed driver started, and its engine
    events["job_killed_after_rows"] = written()
    events["job_killed_at_s"] = round(time.perf_counter() - start, 1)
    done, resumed_s = _timed(command, env)
    summary = _last_json(done.stdout)
    result = pl.read_parquet(out)
    source = pl.read_csv(pairs, infer_schema=False)
    exactly_once = result.select("user_id", "item_id").equals(source.select("user_id", "item_id"))
    return {
        "rows": total,
        **events,
        "resumed": summary,
        "resumed_wall_s": round(resumed_s, 1),
        "total_wall_s": round(time.perf_counter() - start, 1),
        "output_rows": result.height,
        "every_row_once_in_order": exactly_once,
        "errors": int(result["error"].is_not_null().sum()),
        "llm_share": round(float((result["source"] == "llm").mean()), 3),
    }


@app.command()
def baseline(pairs: Path) -> None:
    """The single-process path on `pairs`; prints its figures as JSON (for `main`)."""
    print(json.dumps(single_process(pairs)))


@app.command()
def main(
    pairs: Annotated[int, typer.Option(help="rows of the killed-and-resumed job")] = 10_000,
    compare_rows: Annotated[int, typer.Option("--compare", help="rows of the comparison")] = 500,
    kill_at: Annotated[float, typer.Option(help="share of rows written when the job dies")] = 0.5,
    json_out: Annotated[Path, typer.Option("--json")] = Path("benchmarks/results/batch-job.json"),
) -> None:
    from benchmarks.run import git_sha, machine
    from serve.config import load_settings

    folder = Path(tempfile.mkdtemp(prefix="batch-job-"))
    env = {**os.environ, MARK: os.urandom(8).hex(), "HF_HUB_OFFLINE": "1"}
    k = 3
    table = folder / "pairs.csv"
    subprocess.run(
        [*CLI, "sample-pairs", "--out", str(table), "--users", str(-(-pairs // k)), "--k", str(k)],
        env=env,
        check=True,
        capture_output=True,
    )
    rows = pl.read_csv(table, infer_schema=False).head(pairs)
    rows.write_csv(table)
    rows.head(compare_rows).write_csv(folder / "compare.csv")
    settings = load_settings()
    figures: dict = {
        "machine": machine(settings),
        "git_sha": git_sha(),
        "model": settings.llm.model_source,
        "batch": settings.batch.model_dump(),
    }
    figures["compare"] = compare(folder / "compare.csv", folder, env)
    print(json.dumps(figures["compare"]))
    figures["killed_and_resumed"] = killed_and_resumed(table, folder, env, kill_at)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures["killed_and_resumed"]))


if __name__ == "__main__":
    app()
