"""The recsplain benchmark suite: every figure is a ratio against a baseline from the same run.

    python -m benchmarks.run            # full CPU suite (`make bench`, ~30 min on 2 cores)
    python -m benchmarks.run --smoke    # the same code on tiny sizes (`make bench-smoke`)

Writes benchmarks/results/<timestamp>-<host>/ with results.json (a stable contract: add keys,
never rename), report.md and PNG plots (`benchmarks/report.py`). Engines run one at a time:
the offline ones (the seed's HF model, then vLLM's engine) in their own process first, then
the served app in this one.

Against the served app: the LLM stage, recommend-only closed loop (each level also against a
bare Ray Serve app of the same shape behind the same proxy, `benchmarks/bare_app.py`), explained
and streamed traffic (time to the first explanation at concurrency 1 and 4, verified LLM
explanations/s, LLM share, template reasons, cache hit rate), Poisson arrivals, and last the
cancel storm (`benchmarks/storm.py`).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated

import typer

from benchmarks import llm_stage, loadgen, own_list, storm
from benchmarks import retrieval as retrieval_bench
from benchmarks.report import report, write_outputs

app = typer.Typer(add_completion=False)
RESULTS = Path("benchmarks/results")
OFFLINE_FILE = "offline.json"  # `--offline-only`'s output


@dataclass(frozen=True)
class Plan:
    """Sizes of one run; `smoke` exercises every code path in a few minutes."""

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
    explained_levels: tuple[int, ...] = (1, 4)  # concurrencies of the k=3 explained runs
    explained_k: int = 3
    explained_seconds: float = 60
    explained_requests: int = 30  # per level, at least one per client
    bare_levels: tuple[int, ...] = (1, 16)  # measured against the bare app, with the sweep
    storm_requests: int = 4
    storm_idle_probes: int = 3
    storm_max_wait_s: float = 120
    own_list_levels: tuple[int, ...] = (1, 4, 16)  # POST /v1/explanations, a caller's lists
    own_list_per_client: int = 2
    own_list_warmup: int = 1  # unmeasured requests per level
    warm_up: bool = True  # the app warms its engine before ready, as `make serve` does
    explain_warmup: int = 2  # unmeasured requests before the streamed explain run
    # every explained request's deadline_ms; None: the configured one (what users get)
    explain_deadline_ms: int | None = None

    @property
    def recommend_levels(self) -> tuple[int, ...]:
        return tuple(sorted({*self.sweep, *self.bare_levels}))


FULL = Plan(
    (10_000, 100_000, 1_000_000), 200, 6, 5, 48, (1, 4, 16, 64), 15, 3000, 4, 120, 40, 100.0
)
SMOKE = Plan(
    (2_000,),
    20,
    1,
    2,
    16,
    (1, 4),
    2,
    40,
    2,
    20,
    2,
    20.0,
    explained_seconds=5,
    explained_requests=1,  # concurrency 4 still sends 4
    storm_requests=2,
    storm_idle_probes=1,
    storm_max_wait_s=20,
    own_list_levels=(1,),
    own_list_per_client=1,
    own_list_warmup=0,  # the engine is warm from the explained runs; one k=3 request is 18 s
    warm_up=False,  # test_serving checks the warm-up; the smoke checks code paths
    explain_warmup=0,  # the LLM stage just ran on the engine; a warm-up cost 20 s of SmolLM2
    # The smoke checks code paths, not shares: at the configured 45 s its explained phases took
    # 17-52 s each on SmolLM2 (a k=3 request with retries is ~20 s on 2 cores).
    explain_deadline_ms=8_000,
)
BARE_GOAL = 0.9  # recommend-only req/s against the bare app, at every measured concurrency


def machine(settings=None) -> dict:
    """The machine, its CPU's ISA as the engine sees it, and the dtype the engine runs in."""
    import psutil

    from serve.config import load_settings
    from serve.hardware import cpu_info

    settings = settings or load_settings()
    cpu = cpu_info().as_dict()

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
        "cpu_model": cpu["model"],
        "cpu_flags": cpu["flags"],
        "isa_cap": cpu["isa_cap"],
        "native_bf16": cpu["native_bf16"],
        "accelerator": settings.llm.accelerator,
        "config_dtype": str(settings.llm.engine_kwargs.get("dtype", "auto")),
        "engine_dtype": llm_stage.engine_dtype(settings),
    }


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None


def git_sha() -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


@cache
def population() -> tuple[list[str], list[list[str]]]:
    """The stored users, and the last 5 items of the first 100 (the anonymous histories)."""
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings

    recommender, _ = load_recommender(load_settings().artifacts_path())
    return population_of(recommender)


def population_of(recommender) -> tuple[list[str], list[list[str]]]:
    """`population` of an already loaded recommender (the tests' session build)."""
    users = list(recommender.histories)
    histories = [
        [recommender.item_ids[i] for i in recommender.histories[u].items[-5:]] for u in users[:100]
    ]
    return users, histories


def traffic(
    k: int, explain: bool, stream: bool, seed: int = 0, deadline_ms: int | None = None
) -> list[dict]:
    """The load generator's user mix; each explained run gets its own seed, so no run replays
    another's sequence (a replay would be all cache hits)."""
    users, histories = population()
    return loadgen.request_mix(
        users, histories, k, explain, stream, seed=seed, deadline_ms=deadline_ms
    )


def token_counter(model: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator is not None and denominator else None


def latency_row(summary: dict) -> dict:
    return {
        "requests_per_s": summary["request_throughput"],
        "p50_ms": summary["median_e2el_ms"],
        "p99_ms": summary["p99_e2el_ms"],
    }


def versus_bare(sweep: dict[int, dict], bare: dict[int, dict] | None, goal: float) -> dict:
    """Recommend-only against the bare app at each concurrency both were measured at: req/s,
    p50 and p99 of both and the req/s ratio; the goal is met when every ratio reaches it."""
    result: dict = {"goal": goal, "levels": {}}
    for level in sorted(set(sweep) & set(bare or {})):
        ours, floor = latency_row(sweep[level]), latency_row(bare[level])
        result["levels"][str(level)] = {
            "recsplain": ours,
            "bare": floor,
            "ratio": ratio(ours["requests_per_s"], floor["requests_per_s"]),
        }
    ratios = [row["ratio"] for row in result["levels"].values() if row["ratio"] is not None]
    for level in sweep:
        result[f"ratio_c{level}"] = result["levels"].get(str(level), {}).get("ratio")
    result["min_ratio"] = min(ratios) if ratios else None
    result["goal_met"] = all(r >= goal for r in ratios) if ratios else None
    return result


def explained_section(k: int, levels: dict[int, dict]) -> dict:
    """The k=3 explained runs: time to the first `explanation` event at each concurrency, and
    the explanation figures over all of them."""
    result: dict = {"k": k}
    for level, summary in levels.items():
        result[f"ttft_c{level}_p50_ms"] = summary["median_ttft_ms"]
        result[f"ttft_c{level}_p99_ms"] = summary["p99_ttft_ms"]
    result.update(loadgen.combine(list(levels.values())))
    result["levels"] = {str(level): _without_raw(s) for level, s in levels.items()}
    return result


def offline_stage(plan: Plan) -> dict:
    """What runs before any app: the retrieval microbenchmark, and the LLM stage's seed and
    offline engine (in their own process, so their engine is gone before an app starts)."""
    from serve.config import load_settings

    model = load_settings().llm.resolved_source()
    microbenchmark = retrieval_bench.run(list(plan.retrieval_sizes), plan.retrieval_queries)
    runs = llm_stage.in_subprocess(model, plan.llm_users, plan.k, plan.max_tokens)
    return {
        "retrieval": microbenchmark["rows"],
        "retrieval_goal_met": microbenchmark["goal_met"],
        "llm": runs,
    }


class PhaseClock:
    """Seconds each phase of a run took, into results.json: where a run's time goes (the test
    suite runs the smoke plan, so its cost is read from here too)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 1)
            print(f"phase {name}: {self.seconds[name]} s", flush=True)


def run_suite(plan: Plan, out: Path, url: str | None = None, offline: dict | None = None) -> dict:
    """Measure everything; `offline` is `offline_stage`'s result when it ran earlier (the test
    suite runs it before its own app starts, then this against that app)."""
    from benchmarks import bare_app
    from retrieval.artifacts import load_recommender
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config

    settings = load_settings()
    model = settings.llm.resolved_source()
    results: dict = {"machine": machine(settings), "git_sha": git_sha(), "plan": vars(plan)}
    offline = offline or offline_stage(plan)
    results["retrieval"] = offline["retrieval"]
    results["retrieval_goal_met"] = offline["retrieval_goal_met"]
    seed, offline_runs, no_prefix = (offline["llm"][key] for key in ("seed", "prefix", "no_prefix"))
    headers = loadgen.api_headers()
    clock = PhaseClock()
    started = url is None
    if started:
        args = app_args(serve_config(CONFIG_FILE))
        args.setdefault("explain", {})["warm_up"] = plan.warm_up
        with clock("app_start"):
            url = start_local(args, "127.0.0.1", 8123, replica_logs=False)
    try:
        # The bare app shares recsplain's Ray instance and proxy; against a running recsplain
        # (--url) it is used only when one is deployed there at /bare.
        if started:
            bare_url = bare_app.deploy(settings, url)
        else:
            bare_url = url.rstrip("/") + bare_app.ROUTE_PREFIX
            bare_url = bare_url if bare_app.answers(bare_url) else None
        prompts = llm_stage.explanation_prompts(plan.llm_users, plan.k)
        with clock("llm_stage"):
            served = asyncio.run(
                llm_stage.served_generate(
                    url, settings.llm.model_id, prompts, plan.max_tokens, headers
                )
            )
        count = token_counter(model)
        recommend = traffic(10, explain=False, stream=False)

        def closed_loop(target: str, concurrency: int) -> dict:
            return asyncio.run(
                loadgen.run_concurrency(
                    target,
                    recommend,
                    concurrency,
                    plan.sweep_seconds,
                    plan.sweep_requests,
                    headers=headers,
                )
            ).summary()

        # Interleaved level by level, so both apps see the machine in the same state.
        sweep, bare_sweep = {}, {}
        with clock("recommend_sweep"):
            for concurrency in plan.recommend_levels:
                sweep[concurrency] = closed_loop(url, concurrency)
                if bare_url:
                    bare_sweep[concurrency] = closed_loop(bare_url, concurrency)

        def streamed_loop(
            mix: list[dict], concurrency: int, seconds: float, requests: int, warmup: int
        ) -> dict:
            return asyncio.run(
                loadgen.run_concurrency(
                    url,
                    mix,
                    concurrency,
                    seconds,
                    requests,
                    warmup=warmup,
                    count_tokens=count,
                    headers=headers,
                )
            ).summary()

        deadline_ms = plan.explain_deadline_ms
        explain = traffic(plan.k, explain=True, stream=True, deadline_ms=deadline_ms)
        with clock("explain_stream"):
            streamed = streamed_loop(
                explain,
                plan.explain_concurrency,
                plan.explain_seconds,
                plan.explain_requests,
                plan.explain_warmup,
            )
        explained_mixes = [explain]
        explained = {}
        for number, concurrency in enumerate(plan.explained_levels, 1):
            mix = traffic(plan.explained_k, True, True, seed=number, deadline_ms=deadline_ms)
            explained_mixes.append(mix)
            requests = max(plan.explained_requests, concurrency)
            with clock(f"explained_c{concurrency}"):  # no warm-up: the engine is warm from above
                explained[concurrency] = streamed_loop(
                    mix, concurrency, plan.explained_seconds, requests, 0
                )
        with clock("own_list"):
            own = own_list.measure(
                url,
                load_recommender(settings.artifacts_path())[0],
                plan.own_list_levels,
                plan.explained_k,
                plan.explained_seconds,
                plan.own_list_per_client,
                headers,
                plan.own_list_warmup,
                deadline_ms,
            )
        with clock("arrivals"):
            arrivals = asyncio.run(
                loadgen.run_rate(
                    url,
                    recommend,
                    plan.rate,
                    1.0,
                    plan.sweep_seconds,
                    plan.sweep_requests,
                    headers=headers,
                )
            ).summary()
        # Last: if the LLM never recovers, nothing else is measured on a busy engine.
        taken = {body["user_id"] for mix in explained_mixes for body in mix if "user_id" in body}
        with clock("cancel_storm"):
            cancel_storm = asyncio.run(
                storm.cancel_storm(
                    url,
                    settings.llm.model_id,
                    storm.fresh_users(population()[0], taken),
                    requests=plan.storm_requests,
                    idle_probes=plan.storm_idle_probes,
                    max_wait_s=plan.storm_max_wait_s,
                    headers=headers,
                )
            )
    finally:
        if started:
            stop_local()
    results["phase_seconds"] = clock.seconds
    measured = Measured(
        seed=seed,
        offline=offline_runs,
        no_prefix=no_prefix,
        served=served,
        prompts=len(prompts),
        sweep=sweep,
        bare_sweep=bare_sweep if bare_url else None,
        streamed=streamed,
        explained=explained,
        arrivals=arrivals,
        cancel_storm=cancel_storm,
        own_list=own,
    )
    results = assemble(results, plan, settings.llm.model_source, measured)
    write_outputs(results, sweep, streamed, out, bare_sweep)
    return results


@dataclass
class Measured:
    """Everything one run measured, before it becomes results.json."""

    seed: dict  # {output_tokens, seconds, dtype, device}
    offline: dict  # {output_tokens, seconds, dtype}
    no_prefix: dict
    served: dict  # {output_tokens, seconds}
    prompts: int
    sweep: dict[int, dict]  # load generator summaries by concurrency
    bare_sweep: dict[int, dict] | None  # None: the bare app was not measured
    streamed: dict
    explained: dict[int, dict]
    arrivals: dict
    cancel_storm: dict
    own_list: dict  # POST /v1/explanations by concurrency (benchmarks.own_list)


def assemble(results: dict, plan: Plan, model: str, m: Measured) -> dict:
    """The results contract from what was measured (keys are only ever added)."""
    tps = {
        name: r["output_tokens"] / r["seconds"]
        for name, r in {
            "seed": m.seed,
            "offline": m.offline,
            "served": m.served,
            "no_prefix": m.no_prefix,
        }.items()
    }
    sweep, streamed = m.sweep, m.streamed
    best = max(sweep, key=lambda c: sweep[c]["request_throughput"])
    results["llm_stage"] = {
        "seed_tokens_per_s": round(tps["seed"], 2),
        "vllm_offline_tokens_per_s": round(tps["offline"], 2),
        "served_tokens_per_s": round(tps["served"], 2),
        "served_vs_seed": ratio(tps["served"], tps["seed"]),
        "served_vs_vllm": ratio(tps["served"], tps["offline"]),
        "model": model,
        "prompts": m.prompts,
        "max_tokens": plan.max_tokens,
        "seed_dtype": m.seed.get("dtype"),
        "seed_device": m.seed.get("device"),
        "vllm_offline_dtype": m.offline.get("dtype"),
    }
    results["recommend_only"] = {
        "requests_per_s": sweep[best]["request_throughput"],
        "p50_ms": sweep[best]["median_e2el_ms"],
        "p99_ms": sweep[best]["p99_e2el_ms"],
        "concurrency": best,
        "sweep": {str(c): _without_raw(s) for c, s in sweep.items()},
        "poisson": _without_raw(m.arrivals),
    }
    results["recommend_vs_bare"] = {
        **versus_bare(sweep, m.bare_sweep, BARE_GOAL),
        "measured": m.bare_sweep is not None,
        "bare_sweep": {str(c): _without_raw(s) for c, s in (m.bare_sweep or {}).items()},
    }
    results["explain_stream"] = {
        "requests_per_s": streamed["request_throughput"],
        "ttft_p50_ms": streamed["median_ttft_ms"],
        "ttft_p99_ms": streamed["p99_ttft_ms"],
        "e2e_p99_ms": streamed["p99_e2el_ms"],
        "template_share": streamed["template_share"],
        **loadgen.combine([streamed]),
        "detail": _without_raw(streamed),
    }
    results["explained"] = explained_section(plan.explained_k, m.explained)
    results["cancel_storm"] = m.cancel_storm
    results["own_list"] = m.own_list
    results["prefix_caching"] = {
        "on_tokens_per_s": round(tps["offline"], 2),
        "off_tokens_per_s": round(tps["no_prefix"], 2),
        "gain": ratio(tps["offline"], tps["no_prefix"]),
        "dtype": m.offline.get("dtype"),
        "off_dtype": m.no_prefix.get("dtype"),
    }
    return results


def _without_raw(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "e2el_ms"}


@app.command()
def main(
    smoke: Annotated[bool, typer.Option(help="tiny sizes, every code path")] = False,
    out: Annotated[Path | None, typer.Option(help="results folder")] = None,
    url: Annotated[
        str | None, typer.Option(help="a running recsplain (same model); default: start one")
    ] = None,
    offline_only: Annotated[
        bool,
        typer.Option(help="run only the stage before any app and write OUT/offline.json"),
    ] = False,
    offline: Annotated[
        Path | None,
        typer.Option(help="an earlier --offline-only run's offline.json, instead of measuring"),
    ] = None,
) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out or RESULTS / f"{stamp}-{socket.gethostname()}"
    start = time.perf_counter()
    plan = SMOKE if smoke else FULL
    if offline_only:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / OFFLINE_FILE).write_text(json.dumps(offline_stage(plan), indent=2) + "\n")
        print(f"wrote {folder / OFFLINE_FILE} in {time.perf_counter() - start:.0f} s")
        return
    earlier = json.loads(offline.read_text()) if offline else None
    results = run_suite(plan, folder, url, earlier)
    print(report(results))
    print(f"wrote {folder} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
