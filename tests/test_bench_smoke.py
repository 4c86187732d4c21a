"""`make bench-smoke`'s code path, so the benchmarks can't rot: real engines, tiny sizes.

It runs in a subprocess before the served-app tests, so only one vLLM engine lives at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
    },
    "recommend_only": {"requests_per_s", "p50_ms", "p99_ms", "concurrency"},
    "explain_stream": {
        "requests_per_s",
        "ttft_p50_ms",
        "ttft_p99_ms",
        "e2e_p99_ms",
        "template_share",
    },
    "prefix_caching": {"on_tokens_per_s", "off_tokens_per_s", "gain"},
    "machine": {"cpu", "cores", "ram_gb", "gpu"},
}


def test_bench_smoke_writes_the_results_contract(tmp_path, default_artifacts):
    prepare_model(SMOLLM2, PROJECT_ROOT / "models" / SMOLLM2_DIR_NAME)
    out = tmp_path / "results"
    env = {**os.environ, "RECSPLAIN_ARTIFACTS": str(default_artifacts[0])}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    for section, keys in CONTRACT.items():
        assert keys <= set(results[section]), section
    assert results["git_sha"] and results["retrieval"]
    stage = results["llm_stage"]
    assert stage["seed_tokens_per_s"] > 0 and stage["served_tokens_per_s"] > 0
    assert results["recommend_only"]["requests_per_s"] > 0
    assert results["explain_stream"]["ttft_p50_ms"] is not None
    for name in ("report.md", "throughput_vs_concurrency.png", "latency_cdf.png", "llm_stage.png"):
        assert (out / name).stat().st_size > 0, name
    assert "served / seed" in (out / "report.md").read_text()
