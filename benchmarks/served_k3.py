"""What a user of `make serve` sees: k=3 explained requests, one at a time, over HTTP (SSE).

Starts the app with the configured settings (environment overrides apply, e.g.
RECSPLAIN_LLM__CPU_THREADS_BIND=auto), sends one warm-up request and then `users` streamed
requests for stored users the other benchmarks don't use, and records the time to the first
`explanation` event, the request time, and each explanation's source and reason.

    python -m benchmarks.served_k3 --users 8 --json benchmarks/results/knobs/served.json
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from benchmarks.loadgen import sse_events

app = typer.Typer(add_completion=False)
FIRST_USER = 100  # past the users the load generator and the tests use


def streamed(client: httpx.Client, user: str) -> dict:
    start = time.perf_counter()
    first, explanations = None, []
    body = {"user_id": user, "k": 3, "stream": True}
    with client.stream("POST", "/v1/recommendations", json=body) as response:
        for event, data in sse_events(response.iter_lines()):
            if event == "explanation":
                first = first or time.perf_counter() - start
                explanations.append(json.loads(data)["explanation"])
    return {
        "first_s": round(first, 2) if first else None,
        "total_s": round(time.perf_counter() - start, 2),
        "sources": [e["source"] for e in explanations],
        "reasons": [e["reason"] for e in explanations],
    }


@app.command()
def main(
    users: int = 8,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    port: int = 8123,
) -> None:
    from retrieval.artifacts import load_recommender
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config

    recommender, _ = load_recommender(load_settings().artifacts_path())
    chosen = list(recommender.histories)[FIRST_USER : FIRST_USER + users + 1]
    url = start_local(app_args(serve_config(CONFIG_FILE)), "127.0.0.1", port, replica_logs=False)
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            streamed(client, chosen[0])  # warm-up: grammar compilation, prefix cache
            rows = [streamed(client, user) for user in chosen[1:]]
            engine = client.get("/healthz").json()["llm"]
    finally:
        stop_local()
    sources = [source for row in rows for source in row["sources"]]
    summary = {
        "settings": {
            k: v for k, v in os.environ.items() if k.startswith(("RECSPLAIN_", "ONEDNN_"))
        },
        "engine": engine,
        "users": len(rows),
        "llm_share": round(sources.count("llm") / len(sources), 3),
        "first_explanation_s_p50": statistics.median(row["first_s"] for row in rows),
        "request_s_p50": statistics.median(row["total_s"] for row in rows),
        "requests": rows,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "requests"}, indent=2))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    app()
