"""Which model should `make serve` default to: verified LLM explanations per minute and LLM share.

Each model explains the top-k of N users, one user at a time (concurrency 1, as a user of the
demo sees it), through the server's own policy (prompts, verifier, strict retry, templates) on
vLLM's async engine with the configured engine settings (`dtype: auto` resolved for this CPU).
The cache is off, so every user costs what a cold request costs. Each model runs in its own
process, one engine at a time.

    python -m benchmarks.explainer_models --model models/SmolLM2-135M-Instruct \\
        --model models/Qwen2.5-Coder-0.5B-Instruct --users 10 --k 3 --json out.json
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from serve.hardware import cpu_info

app = typer.Typer(add_completion=False)
# Environment variables that change the engine; recorded with each result.
SETTING_PREFIXES = ("RECSPLAIN_", "VLLM_CPU_", "ONEDNN_", "ATEN_CPU_")


def measure(model: str, users: int, k: int, language: str) -> dict:
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings
    from serve.explain.batch import AsyncEngine, offline_policy, top_k_tasks
    from serve.explain.tasks import TaskFactory

    settings = load_settings()
    settings.llm.model_source = model
    recommender, manifest = load_recommender(settings.artifacts_path())
    factory = TaskFactory(recommender)
    started = time.perf_counter()
    engine = AsyncEngine(settings)
    startup_s = time.perf_counter() - started
    policy = offline_policy(settings, recommender, manifest, engine, cache_size=0)  # all cold

    async def one_user(tasks) -> tuple[list, float, float]:
        start = time.perf_counter()
        first = None
        explanations = []
        async for _, explanation in policy.explain_all(tasks, deadline_s=600):
            first = first or time.perf_counter() - start
            explanations.append(explanation)
        return explanations, first, time.perf_counter() - start

    async def all_users() -> list:
        # One warm-up user, not counted: it pays for compiling the grammar and warming caches.
        await one_user(top_k_tasks(recommender, factory, k, language, 1))
        user_tasks = top_k_tasks(recommender, factory, k, language, users + 1)[k:]
        return [await one_user(user_tasks[i : i + k]) for i in range(0, len(user_tasks), k)]

    try:
        start = time.perf_counter()
        results = asyncio.run(all_users())
        seconds = time.perf_counter() - start
    finally:
        engine.shutdown()
    explanations = [e for found, _, _ in results for e in found]
    llm = sum(e.source == "llm" for e in explanations)
    return {
        "model": model,
        "dtype": engine.dtype,
        "settings": {
            key: value for key, value in os.environ.items() if key.startswith(SETTING_PREFIXES)
        },
        "engine_startup_s": round(startup_s, 1),
        "users": users,
        "k": k,
        "language": language,
        "explanations": len(explanations),
        "llm_share": round(llm / len(explanations), 3),
        "verified_llm_per_minute": round(60 * llm / seconds, 2),
        "seconds_per_request_p50": round(statistics.median(r[2] for r in results), 2),
        "first_explanation_s_p50": round(statistics.median(r[1] for r in results), 2),
        "output_tokens_per_s": round(engine.output_tokens / seconds, 1),
        "template_reasons": dict(Counter(str(e.reason) for e in explanations if e.reason)),
        "examples": [e.text for e in explanations if e.source == "llm"][:5],
    }


@app.command()
def main(
    model: Annotated[list[str], typer.Option(help="model folder or id; repeat to compare")],
    users: int = 10,
    k: int = 3,
    language: str = "en",
    setting: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE environment setting for the engine process; repeatable"),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    one: Annotated[Path | None, typer.Option(hidden=True, help="measure one model into")] = None,
) -> None:
    if one:
        one.write_text(json.dumps(measure(model[0], users, k, language)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, name in enumerate(model):
            result = Path(scratch) / f"{index}.json"
            command = [sys.executable, "-m", "benchmarks.explainer_models", "--one", str(result)]
            command += ["--model", name, "--users", str(users), "--k", str(k)]
            command += ["--language", language]
            env = dict(os.environ, **dict(item.split("=", 1) for item in setting or []))
            subprocess.run(command, check=True, env=env)
            rows.append(json.loads(result.read_text()))
            print(json.dumps(rows[-1], indent=2))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "cpu": cpu_info().as_dict(),
            "settings": setting or [],
            "users": users,
            "k": k,
            "models": rows,
        }
        json_path.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    app()
