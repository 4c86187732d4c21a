"""`make bench-smoke`'s code path, so the benchmarks can't rot: real engines, tiny sizes.

It runs in two subprocesses: the stage before any app (the seed's HF model and vLLM's offline
engine) before the served-app tests start theirs, so only one vLLM engine lives at a time; then
the rest against the session's app, whose start it shares (about 90 s on 2 cores) instead of
starting its own as `make bench-smoke` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from serve.config import PROJECT_ROOT
from serve.model_prep import SMOLLM2, SMOLLM2_DIR_NAME, prepare_model

CONTRACT = {
    "llm_stage": {
        "seed_tokens_per_s",
        "vllm_offline_tokens_per_s",
        "served_tokens_per_s",
        "served_vs_seed",
        "served_vs_vllm",
        "model",
        "prompts",
        "max_tokens",
        "seed_dtype",
        "seed_device",
        "vllm_offline_dtype",
    },
    "recommend_only": {"requests_per_s", "p50_ms", "p99_ms", "concurrency"},
    "explain_stream": {
        "requests_per_s",
        "ttft_p50_ms",
        "ttft_p99_ms",
        "e2e_p99_ms",
        "template_share",
        "llm_explanations_per_s",
        "llm_share",
        "template_reasons",
        "cache_hit_rate",
    },
    "prefix_caching": {"on_tokens_per_s", "off_tokens_per_s", "gain", "dtype"},
    "machine": {
        "cpu",
        "cores",
        "ram_gb",
        "gpu",
        "cpu_model",
        "cpu_flags",
        "native_bf16",
        "engine_dtype",
    },
    # k=3 explained, streamed, at concurrency 1 and 4
    "explained": {
        "k",
        "ttft_c1_p50_ms",
        "ttft_c1_p99_ms",
        "ttft_c4_p50_ms",
        "ttft_c4_p99_ms",
        "llm_explanations_per_s",
        "llm_share",
        "template_reasons",
        "cache_hit_rate",
        "levels",
    },
    "recommend_vs_bare": {"goal", "levels", "ratio_c1", "ratio_c16", "min_ratio", "goal_met"},
    "own_list": {"k", "levels"},
    "cancel_storm": {
        "requests",
        "idle_probe_s",
        "bound_s",
        "recovered",
        "recovery_s",
        "max_wait_s",
        "probes",
    },
}


@pytest.fixture(scope="session")
def bench_offline(tmp_path_factory, injected_artifacts) -> Path:
    """`benchmarks.run --smoke --offline-only`, in its own process: offline.json."""
    prepare_model(SMOLLM2, PROJECT_ROOT / "models" / SMOLLM2_DIR_NAME)
    folder = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--offline-only", "--out", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RECSPLAIN_ARTIFACTS": str(injected_artifacts)},
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder / "offline.json"


def test_the_stage_before_the_app_measures_the_seed_and_both_offline_runs(bench_offline):
    figures = json.loads(bench_offline.read_text())
    assert figures["retrieval"]
    runs = figures["llm"]
    for name in ("seed", "prefix", "no_prefix"):
        assert runs[name]["output_tokens"] > 0 and runs[name]["seconds"] > 0, name
    assert runs["seed"]["dtype"] == runs["prefix"]["dtype"] == runs["no_prefix"]["dtype"]


def test_bench_smoke_writes_the_results_contract(
    tmp_path, bench_offline, injected_artifacts, service
):
    from ray import serve

    from benchmarks import bare_app
    from serve.config import load_settings

    bare_app.deploy(load_settings(), service)  # beside the session's app, as the bench does
    out = tmp_path / "results"
    command = [sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out)]
    command += ["--url", service, "--offline", str(bench_offline)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "RECSPLAIN_ARTIFACTS": str(injected_artifacts)},
            cwd=PROJECT_ROOT,
        )
    finally:
        serve.delete(bare_app.APP_NAME)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    for section, keys in CONTRACT.items():
        assert keys <= set(results[section]), section
    assert results["git_sha"] and results["retrieval"]
    phases = results["phase_seconds"]
    print("bench smoke phases (s):", phases)
    assert {"llm_stage", "explain_stream", "cancel_storm"} <= set(phases), phases
    stage = results["llm_stage"]
    assert stage["seed_tokens_per_s"] > 0 and stage["served_tokens_per_s"] > 0
    assert results["recommend_only"]["requests_per_s"] > 0
    assert results["explain_stream"]["ttft_p50_ms"] is not None
    machine = results["machine"]
    assert machine["engine_dtype"] in ("float32", "bfloat16") and machine["cpu_model"]
    # the dtype rule on both sides of the LLM-stage comparison
    assert stage["seed_dtype"] == stage["vllm_offline_dtype"] == machine["engine_dtype"]
    explained = results["explained"]
    assert explained["k"] == 3 and set(explained["levels"]) == {"1", "4"}
    assert explained["ttft_c1_p50_ms"] is not None and explained["ttft_c4_p99_ms"] is not None
    assert 0 <= explained["llm_share"] <= 1 and 0 <= explained["cache_hit_rate"] <= 1
    # SmolLM2's share says little (the verifier refuses most of it), but the LLM must answer:
    # a broken LLM path shows as llm_error templates.
    reasons = explained["template_reasons"]
    assert not reasons.get("llm_error"), reasons
    own = results["own_list"]["levels"]["1"]
    assert own["completed"] == 1 and own["explanations"] == explained["k"], own
    assert "POST /v1/explanations" in (out / "report.md").read_text()
    versus = results["recommend_vs_bare"]
    assert versus["measured"] and versus["ratio_c1"] > 0 and versus["ratio_c16"] > 0
    storm = results["cancel_storm"]
    assert storm["idle_probe_s"] > 0 and storm["storm_statuses"] == {"200": storm["requests"]}
    assert storm["recovered"] is (storm["recovery_s"] is not None)
    for name in ("report.md", "throughput_vs_concurrency.png", "latency_cdf.png", "llm_stage.png"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "served / seed" in report and machine["cpu_model"] in report
    assert "recommend only / bare Ray Serve app" in report and "seconds to recovery" in report
