"""`POST /v1/explanations` under load: a caller's own lists explained, at concurrency 1, 4, 16.

The lists are another recommender's: the k most popular items each user has not seen (what a
team with a popularity baseline would send). Each level gets its own users, so the explanation
cache answers only where two users' evidence really is the same; `cache_hit_rate` says how
often. Streamed, as a UI would ask, with the configured deadline.

    python -m benchmarks.own_list --json benchmarks/results/own-list.json

`benchmarks.run` calls `measure` on its own app, so `results.json` has the same figures.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from benchmarks import loadgen

app = typer.Typer(add_completion=False)
LEVELS = (1, 4, 16)
FIRST_USER = 200  # past the users the load generator, served_k3 and the tests use


def popular_lists(recommender, users: list[str], k: int) -> list[dict]:
    """One streamed body per user: the k most popular items outside their history."""
    popularity = np.diff(recommender.likers.indptr)
    ranked = np.argsort(-popularity, kind="stable")
    bodies = []
    for user in users:
        seen = set(recommender.user_history(user).items.tolist())
        chosen = [int(p) for p in ranked[: k + len(seen)] if int(p) not in seen][:k]
        item_ids = [recommender.item_ids[p] for p in chosen]
        bodies.append({"user_id": user, "item_ids": item_ids, "stream": True})
    return bodies


def measure(
    url: str,
    recommender,
    levels: tuple[int, ...] = LEVELS,
    k: int = 3,
    seconds: float = 120,
    per_client: int = 2,
    headers: dict | None = None,
    warmup: int = 1,
    deadline_ms: int | None = None,
) -> dict:
    """Each level's summary (explanations/s, LLM share, reasons, latency), on its own users;
    `warmup` unmeasured requests come first at each level; `deadline_ms` as in the requests."""
    users = list(recommender.histories)
    start = FIRST_USER
    out: dict = {"k": k, "lists": "popularity, unseen", "levels": {}}
    for level in levels:
        requests = per_client * level
        chosen = users[start : start + requests + warmup]
        start += len(chosen)
        bodies = popular_lists(recommender, chosen, k)
        if deadline_ms is not None:
            bodies = [{**body, "deadline_ms": deadline_ms} for body in bodies]
        result = asyncio.run(
            loadgen.run_concurrency(
                url, bodies, level, seconds, requests, warmup=warmup, headers=headers
            )
        ).summary()
        result.pop("e2el_ms")
        result["explanations_per_s"] = round(result["explanations"] / result["duration_s"], 3)
        out["levels"][str(level)] = result
    return out


@app.command()
def main(
    json_out: Annotated[Path, typer.Option("--json", help="where to write the figures")] = Path(
        "benchmarks/results/own-list.json"
    ),
    k: int = 3,
    seconds: float = 120,
    per_client: int = 2,
) -> None:
    """Start the app with the configured settings, measure, write JSON."""
    from benchmarks.run import git_sha, machine
    from retrieval.artifacts import load_recommender
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config

    recommender, _ = load_recommender(load_settings().artifacts_path())
    headers = loadgen.api_headers()
    url = start_local(app_args(serve_config(CONFIG_FILE)), "127.0.0.1", 8126, replica_logs=False)
    try:
        figures = measure(url, recommender, LEVELS, k, seconds, per_client, headers)
    finally:
        stop_local()
    figures = {"machine": machine(), "git_sha": git_sha(), **figures}
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(figures, indent=2) + "\n")
    for level, row in figures["levels"].items():
        print(
            f"c={level}: {row['explanations_per_s']} explanations/s, "
            f"LLM share {row['llm_share']}, reasons {row['template_reasons']}, "
            f"p50 {row['median_e2el_ms']} ms"
        )


if __name__ == "__main__":
    app()
