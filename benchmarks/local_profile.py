"""The lean local profile, measured: the bench's LLM stage (the real explanation prompts, all in
flight at once, greedy, `max_tokens` each) on vLLM's offline engine, then on the served app
under each variant, one after the other in one run on the same machine; a variant named twice
runs twice, and its figure is the mean.

A variant is a set of environment overrides for the served app (`off`: `local.lean` false;
`lean`: the defaults; `lean-4096`: also the chunked-prefill budget the offline engine uses by
default, 4096 tokens where the served engine gets 2048; `lean-nice0`: Ray's workers start at
niceness 0 instead of 15, so the engine runs ahead of the rest). Each served figure is its first
pass over the prompts after a one-prompt warm-up, as the offline engine's, so both start with only
the shared prefix cached.

    python -m benchmarks.local_profile --json benchmarks/results/local-profile.json
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from benchmarks import llm_stage
from benchmarks.loadgen import api_headers

app = typer.Typer(add_completion=False)
VARIANTS = {
    "off": {"RECSPLAIN_LOCAL__LEAN": "false"},
    "lean": {},
    "lean-4096": {"RECSPLAIN_LLM__ENGINE_KWARGS__MAX_NUM_BATCHED_TOKENS": "4096"},
    # Ray starts its workers at 0 instead of 15, so the sweep can put all but the engine behind it
    "lean-nice0": {"RAY_worker_niceness": "0"},
}


def served(variant: str, conversations: list[list[dict]], max_tokens: int) -> dict:
    """One variant's app: started, measured, stopped; its environment restored."""
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config
    from serve.local_profile import CONTROL_LOOP_ENV

    overrides = VARIANTS[variant]
    saved = {key: os.environ.get(key) for key in [*overrides, CONTROL_LOOP_ENV]}
    os.environ.update(overrides)
    try:
        url = start_local(
            app_args(serve_config(CONFIG_FILE)), "127.0.0.1", 8125, replica_logs=False
        )
        try:
            model_id = load_settings().llm.model_id
            return asyncio.run(
                llm_stage.served_generate(url, model_id, conversations, max_tokens, api_headers())
            )
        finally:
            stop_local()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@app.command()
def main(
    users: int = 6,
    k: int = 5,
    max_tokens: int = 48,
    variants: Annotated[str, typer.Option(help="comma-separated, of " + ",".join(VARIANTS))] = (
        ",".join(VARIANTS)
    ),
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    offline_out: Annotated[Path | None, typer.Option("--offline-out", hidden=True)] = None,
) -> None:
    from benchmarks.run import machine
    from serve.config import load_settings

    model = load_settings().llm.resolved_source()
    conversations = llm_stage.explanation_prompts(users, k)
    if offline_out:  # the child: vLLM's offline engine needs a process of its own
        result = llm_stage.offline_generate(model, conversations, max_tokens, no_prefix=False)
        offline_out.write_text(json.dumps(result["prefix"]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "offline.json"
        command = [sys.executable, "-m", "benchmarks.local_profile", "--users", str(users)]
        command += ["--k", str(k), "--max-tokens", str(max_tokens), "--offline-out", str(out)]
        subprocess.run(command, check=True)
        offline = json.loads(out.read_text())
    offline_rate = offline["output_tokens"] / offline["seconds"]
    runs: list[dict] = []
    for variant in variants.split(","):  # a variant named twice runs twice, in that order
        run = {"variant": variant, **served(variant, conversations, max_tokens)}
        run["tokens_per_s"] = round(run["output_tokens"] / run["seconds"], 2)
        runs.append(run)
        print(run, flush=True)
    rates: dict[str, list[float]] = {}
    for run in runs:
        rates.setdefault(run["variant"], []).append(run["tokens_per_s"])
    result = {
        "machine": machine(),
        "model": model,
        "prompts": len(conversations),
        "max_tokens": max_tokens,
        "variants": {name: VARIANTS[name] for name in rates},
        "offline": {**offline, "tokens_per_s": round(offline_rate, 2)},
        "served": runs,
        "tokens_per_s": {name: round(statistics.mean(r), 2) for name, r in rates.items()},
        "vs_offline": {
            name: round(statistics.mean(r) / offline_rate, 3) for name, r in rates.items()
        },
    }
    print(json.dumps({key: result[key] for key in ("tokens_per_s", "vs_offline")}, indent=2))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
