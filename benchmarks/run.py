"""The recsplain benchmark suite: every figure is a ratio against a baseline from the same run.

    python -m benchmarks.run            # full CPU suite (`make bench`, < ~20 min on 2 cores)
    python -m benchmarks.run --smoke    # the same code on tiny sizes (`make bench-smoke`)

Writes benchmarks/results/<timestamp>-<host>/ with results.json (a stable contract: add keys,
never rename), report.md and PNG plots. Engines run one at a time: the offline ones in their
own processes first, then the served app in this one.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from benchmarks import llm_stage, loadgen
from benchmarks import retrieval as retrieval_bench

app = typer.Typer(add_completion=False)
RESULTS = Path("benchmarks/results")


@dataclass(frozen=True)
class Plan:
    """Sizes of one run; `smoke` exercises every code path in about two minutes."""

    retrieval_sizes: tuple[int, ...]
    retrieval_queries: int
    llm_users: int
    k: int
    max_tokens: int
    sweep: tuple[int, ...]
    sweep_seconds: float
    sweep_requests: int
    explain_concurrency: int
    explain_seconds: float
    explain_requests: int
    rate: float  # Poisson arrivals per second for the open-loop recommend-only run


FULL = Plan(
    (10_000, 100_000, 1_000_000), 200, 6, 5, 48, (1, 4, 16, 64), 15, 3000, 4, 120, 40, 100.0
)
SMOKE = Plan((2_000,), 20, 1, 2, 16, (1, 4), 2, 40, 2, 20, 2, 20.0)


def machine() -> dict:
    import psutil

    gpu = (
        subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        if _has("nvidia-smi")
        else None
    )
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": gpu.stdout.strip() if gpu and gpu.returncode == 0 else None,
        "host": socket.gethostname(),
    }


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None


def git_sha() -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def traffic(k: int, explain: bool, stream: bool) -> list[dict]:
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings

    recommender, _ = load_recommender(load_settings().artifacts_path())
    users = list(recommender.histories)
    histories = [
        [recommender.item_ids[i] for i in recommender.histories[u].items[-5:]] for u in users[:100]
    ]
    return loadgen.request_mix(users, histories, k, explain, stream)


def token_counter(model: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def run_suite(plan: Plan, out: Path, url: str | None = None) -> dict:
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config

    settings = load_settings()
    model = settings.llm.resolved_source()
    results: dict = {"machine": machine(), "git_sha": git_sha(), "plan": vars(plan)}
    microbenchmark = retrieval_bench.run(list(plan.retrieval_sizes), plan.retrieval_queries)
    results["retrieval"] = microbenchmark["rows"]
    results["retrieval_goal_met"] = microbenchmark["goal_met"]
    args = (plan.llm_users, plan.k, plan.max_tokens)
    offline = llm_stage.in_subprocess("vllm-prefix", model, *args)
    no_prefix = llm_stage.in_subprocess("vllm-no-prefix", model, *args)
    seed = llm_stage.in_subprocess("seed", model, *args)
    started = url is None
    if started:
        url = start_local(
            app_args(serve_config(CONFIG_FILE)), "127.0.0.1", 8123, replica_logs=False
        )
    try:
        prompts = llm_stage.explanation_prompts(plan.llm_users, plan.k)
        served = asyncio.run(
            llm_stage.served_generate(url, settings.llm.model_id, prompts, plan.max_tokens)
        )
        count = token_counter(model)
        recommend = traffic(10, explain=False, stream=False)
        sweep = {
            concurrency: asyncio.run(
                loadgen.run_concurrency(
                    url, recommend, concurrency, plan.sweep_seconds, plan.sweep_requests
                )
            ).summary()
            for concurrency in plan.sweep
        }
        explain = traffic(plan.k, explain=True, stream=True)
        streamed = asyncio.run(
            loadgen.run_concurrency(
                url,
                explain,
                plan.explain_concurrency,
                plan.explain_seconds,
                plan.explain_requests,
                count_tokens=count,
            )
        ).summary()
        arrivals = asyncio.run(
            loadgen.run_rate(
                url, recommend, plan.rate, 1.0, plan.sweep_seconds, plan.sweep_requests
            )
        ).summary()
    finally:
        if started:
            stop_local()
    tps = {
        name: r["output_tokens"] / r["seconds"]
        for name, r in {
            "seed": seed,
            "offline": offline,
            "served": served,
            "no_prefix": no_prefix,
        }.items()
    }
    best = max(sweep, key=lambda c: sweep[c]["request_throughput"])
    results["llm_stage"] = {
        "seed_tokens_per_s": round(tps["seed"], 2),
        "vllm_offline_tokens_per_s": round(tps["offline"], 2),
        "served_tokens_per_s": round(tps["served"], 2),
        "served_vs_seed": ratio(tps["served"], tps["seed"]),
        "served_vs_vllm": ratio(tps["served"], tps["offline"]),
        "model": settings.llm.model_source,
        "prompts": len(prompts),
        "max_tokens": plan.max_tokens,
    }
    results["recommend_only"] = {
        "requests_per_s": sweep[best]["request_throughput"],
        "p50_ms": sweep[best]["median_e2el_ms"],
        "p99_ms": sweep[best]["p99_e2el_ms"],
        "concurrency": best,
        "sweep": {str(c): _without_raw(s) for c, s in sweep.items()},
        "poisson": _without_raw(arrivals),
    }
    results["explain_stream"] = {
        "requests_per_s": streamed["request_throughput"],
        "ttft_p50_ms": streamed["median_ttft_ms"],
        "ttft_p99_ms": streamed["p99_ttft_ms"],
        "e2e_p99_ms": streamed["p99_e2el_ms"],
        "template_share": streamed["template_share"],
        "detail": _without_raw(streamed),
    }
    results["prefix_caching"] = {
        "on_tokens_per_s": round(tps["offline"], 2),
        "off_tokens_per_s": round(tps["no_prefix"], 2),
        "gain": ratio(tps["offline"], tps["no_prefix"]),
    }
    write_outputs(results, sweep, streamed, out)
    return results


def _without_raw(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "e2el_ms"}


def write_outputs(results: dict, sweep: dict, streamed: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    levels = sorted(sweep)
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(levels, [sweep[c]["request_throughput"] for c in levels], marker="o")
    axis.set(
        xscale="log",
        xlabel="concurrency",
        ylabel="requests/s",
        title="Recommend only: throughput vs concurrency",
    )
    figure.tight_layout()
    figure.savefig(out / "throughput_vs_concurrency.png", dpi=120)
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label, values in [
        *((f"recommend c={c}", sweep[c]["e2el_ms"]) for c in levels),
        ("explain k stream", streamed["e2el_ms"]),
    ]:
        if values:
            axis.plot(np.sort(values), np.linspace(0, 1, len(values)), label=label)
    axis.set(
        xscale="log",
        xlabel="end-to-end latency (ms)",
        ylabel="share of requests",
        title="Latency CDF",
    )
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "latency_cdf.png", dpi=120)
    stage = results["llm_stage"]
    figure, axis = plt.subplots(figsize=(5, 3.5))
    names = ["seed HF generate", "vLLM offline", "served"]
    values = [
        stage["seed_tokens_per_s"],
        stage["vllm_offline_tokens_per_s"],
        stage["served_tokens_per_s"],
    ]
    axis.bar(names, values)
    axis.set(ylabel="output tokens/s", title=f"LLM stage ({stage['model']})")
    figure.tight_layout()
    figure.savefig(out / "llm_stage.png", dpi=120)
    (out / "report.md").write_text(report(results))


def report(results: dict) -> str:
    stage, recommend = results["llm_stage"], results["recommend_only"]
    stream, prefix = results["explain_stream"], results["prefix_caching"]
    m = results["machine"]
    rows = [
        ("served / seed output tokens/s (goal >= 8)", stage["served_vs_seed"]),
        ("served / vLLM offline output tokens/s (goal >= 0.85)", stage["served_vs_vllm"]),
        ("prefix caching on / off output tokens/s", prefix["gain"]),
        (
            f"recommend only: req/s at concurrency {recommend['concurrency']} (goal >= 300)",
            recommend["requests_per_s"],
        ),
        ("recommend only: p99 ms (goal < 50)", recommend["p99_ms"]),
        ("explain k, streamed: req/s", stream["requests_per_s"]),
        (
            "explain k, streamed: TTFT p50 / p99 ms",
            f"{stream['ttft_p50_ms']} / {stream['ttft_p99_ms']}",
        ),
        ("explain k, streamed: template share", stream["template_share"]),
    ]
    lines = [
        f"# recsplain benchmark ({results['git_sha'] or 'no git'})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GiB, GPU: {m['gpu'] or 'none'}; "
        f"model {stage['model']}, {stage['prompts']} prompts, max_tokens {stage['max_tokens']}.",
        "",
        "| figure | value |",
        "| --- | ---: |",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
    ]
    return "\n".join(lines)


@app.command()
def main(
    smoke: Annotated[bool, typer.Option(help="tiny sizes, every code path")] = False,
    out: Annotated[Path | None, typer.Option(help="results folder")] = None,
    url: Annotated[
        str | None, typer.Option(help="a running recsplain (same model); default: start one")
    ] = None,
) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out or RESULTS / f"{stamp}-{socket.gethostname()}"
    start = time.perf_counter()
    results = run_suite(SMOKE if smoke else FULL, folder, url)
    print(report(results))
    print(f"wrote {folder} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
