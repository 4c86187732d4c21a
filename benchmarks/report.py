"""What one benchmark run leaves behind: results.json, report.md and the plots.

`benchmarks.run` measures; this module only writes what it measured, so a report can be redrawn
from a results.json without running anything.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_outputs(
    results: dict, sweep: dict, streamed: dict, out: Path, bare: dict | None = None
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    levels = sorted(sweep)
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(
        levels, [sweep[c]["request_throughput"] for c in levels], marker="o", label="recsplain"
    )
    if bare:
        floor = sorted(bare)
        axis.plot(
            floor,
            [bare[c]["request_throughput"] for c in floor],
            marker="s",
            linestyle="--",
            label="bare Ray Serve app",
        )
        axis.legend(fontsize=7)
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


def _yes(flag: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[flag]


def report(results: dict) -> str:
    stage, recommend = results["llm_stage"], results["recommend_only"]
    stream, prefix = results["explain_stream"], results["prefix_caching"]
    versus, explained = results["recommend_vs_bare"], results["explained"]
    cancel, m = results["cancel_storm"], results["machine"]
    k = explained["k"]
    rows = [
        ("served / seed output tokens/s (goal >= 8)", stage["served_vs_seed"]),
        ("served / vLLM offline output tokens/s (goal >= 0.85)", stage["served_vs_vllm"]),
        ("prefix caching on / off output tokens/s", prefix["gain"]),
        (
            f"recommend only: req/s at concurrency {recommend['concurrency']} (goal >= 300)",
            recommend["requests_per_s"],
        ),
        ("recommend only: p99 ms (goal < 50)", recommend["p99_ms"]),
        *(
            (
                f"recommend only / bare Ray Serve app, req/s at concurrency {level} "
                f"(goal >= {versus['goal']})",
                row["ratio"],
            )
            for level, row in versus["levels"].items()
        ),
        ("explain k, streamed: req/s", stream["requests_per_s"]),
        (
            "explain k, streamed: TTFT p50 / p99 ms",
            f"{stream['ttft_p50_ms']} / {stream['ttft_p99_ms']}",
        ),
        ("explain k, streamed: template share", stream["template_share"]),
        *(
            (
                f"explained k={k}, concurrency {level}: first explanation p50 / p99 ms",
                f"{explained[f'ttft_c{level}_p50_ms']} / {explained[f'ttft_c{level}_p99_ms']}",
            )
            for level in explained["levels"]
        ),
        (f"explained k={k}: verified LLM explanations/s", explained["llm_explanations_per_s"]),
        (f"explained k={k}: LLM share", explained["llm_share"]),
        (f"explained k={k}: cache hit rate", explained["cache_hit_rate"]),
        (f"explained k={k}: template reasons", _counts(explained["template_reasons"])),
        (
            f"cancel storm ({cancel['requests']} x k={cancel['k']}, deadline "
            f"{cancel['deadline_ms']} ms): seconds to recovery",
            _recovery(cancel),
        ),
        *(
            (
                f"POST /v1/explanations, k={results['own_list']['k']}, concurrency {level}: "
                "explanations/s; LLM share",
                f"{row['explanations_per_s']}; {row['llm_share']}",
            )
            for level, row in results.get("own_list", {}).get("levels", {}).items()
        ),
        (
            "cancel storm: storm responses p50 / max ms; their template reasons",
            f"{cancel.get('storm_p50_ms')} / {cancel.get('storm_max_ms')}; "
            f"{_counts(cancel.get('storm_template_reasons') or {})}",
        ),
    ]
    if versus["levels"]:
        rows.insert(
            5 + len(versus["levels"]),
            (
                f"recommend only / bare: lowest ratio, goal >= {versus['goal']} met",
                f"{versus['min_ratio']}, {_yes(versus['goal_met'])}",
            ),
        )
    flags = " ".join(m.get("cpu_flags") or []) or "none of the relevant ones"
    lines = [
        f"# recsplain benchmark ({results['git_sha'] or 'no git'})",
        "",
        f"Machine: {m.get('cpu_model') or m['cpu']} ({m['cpu']}), {m['cores']} cores, "
        f"{m['ram_gb']} GiB, GPU: {m['gpu'] or 'none'}; ISA flags: {flags}"
        + (f" (ONEDNN_MAX_CPU_ISA={m['isa_cap']})" if m.get("isa_cap") else "")
        + f"; native bf16: {_yes(m.get('native_bf16'))}.",
        "",
        f"Engine dtype {m.get('engine_dtype')} (config {m.get('config_dtype')}, accelerator "
        f"{m.get('accelerator')}); seed HF generate in {stage.get('seed_dtype')} on "
        f"{stage.get('seed_device')}, vLLM offline in {stage.get('vllm_offline_dtype')}; "
        f"model {stage['model']}, {stage['prompts']} prompts, max_tokens {stage['max_tokens']}.",
        "",
        "| figure | value |",
        "| --- | ---: |",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
    ]
    if versus["levels"]:
        lines += [
            "Recommend only against a bare Ray Serve app (proxy -> FastAPI ingress -> one "
            "deployment returning a small dict), same Ray instance, proxy and client:",
            "",
            "| concurrency | recsplain req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms "
            "| ratio |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(
                f"| {level} | {row['recsplain']['requests_per_s']} | {row['recsplain']['p50_ms']} "
                f"| {row['recsplain']['p99_ms']} | {row['bare']['requests_per_s']} "
                f"| {row['bare']['p50_ms']} | {row['bare']['p99_ms']} | {row['ratio']} |"
                for level, row in versus["levels"].items()
            ),
            "",
        ]
    else:
        lines += ["The bare Ray Serve app was not measured (no /bare app at --url).", ""]
    return "\n".join(lines)


def _counts(counts: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def _recovery(cancel: dict) -> str:
    idle = f"idle probe {cancel['idle_probe_s']} s, bound {cancel['bound_s']} s"
    if cancel["recovered"]:
        return f"{cancel['recovery_s']} ({idle})"
    return f"not recovered within {cancel['max_wait_s']:g} s ({idle})"
