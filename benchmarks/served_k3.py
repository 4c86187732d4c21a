"""What a user of `make serve` sees, against vLLM's offline engine on the same tasks.

Served: starts the app with the configured settings (environment overrides apply, e.g.
RECSPLAIN_LLM__CPU_THREADS_BIND=auto), sends the first request as soon as the app is ready (the
README's curl, `cold`), one warm-up request, then `users` streamed k=3 requests one at a time, and
records the time to the first `explanation` event, the request time, and each explanation's
source and reason.

Offline (`--compare`, first, in its own process so that only one engine runs): the same users'
k=3 tasks, one user at a time, through the same policy (`explain_all`, same deadline) on vLLM's
async engine in-process (`serve.explain.batch.AsyncEngine`). `served_vs_offline` divides the
explanations per second of the two, over the same requests.

    python -m benchmarks.served_k3 --users 10 --compare --language en \
        --json benchmarks/results/served-k3-en.json
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from benchmarks.loadgen import api_headers, sse_events

app = typer.Typer(add_completion=False)
FIRST_USER = 100  # past the users the load generator and the tests use
K = 3


def chosen_users(users: int) -> list[str]:
    """The warm-up user, then `users` measured ones (the same for both paths)."""
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings

    recommender, _ = load_recommender(load_settings().artifacts_path())
    return list(recommender.histories)[FIRST_USER : FIRST_USER + users + 1]


def streamed(client: httpx.Client, user: str, language: str) -> dict:
    start = time.perf_counter()
    times, explanations = [], []
    body = {"user_id": user, "k": K, "stream": True, "language": language}
    with client.stream("POST", "/v1/recommendations", json=body) as response:
        for event, data in sse_events(response.iter_lines()):
            if event == "explanation":
                times.append(time.perf_counter() - start)
                explanations.append(json.loads(data)["explanation"])
    return row(times, time.perf_counter() - start, explanations)


def row(times: list[float], total_s: float, explanations: list[dict]) -> dict:
    """One request's record: when each explanation arrived, and where it came from."""
    return {
        "first_s": round(times[0], 2) if times else None,
        "times_s": [round(t, 2) for t in times],
        "total_s": round(total_s, 2),
        "sources": [e["source"] for e in explanations],
        "reasons": [e["reason"] for e in explanations],
    }


def served(users: list[str], language: str, port: int, on_ready=None) -> dict:
    """`on_ready()` is called once the app is ready, before the first request."""
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, serve_config

    url = start_local(app_args(serve_config(CONFIG_FILE)), "127.0.0.1", port, replica_logs=False)
    if on_ready is not None:
        on_ready()
    try:
        with httpx.Client(base_url=url, timeout=300, headers=api_headers()) as client:
            cold = streamed(client, users[0], language)  # the first request once ready
            streamed(client, users[1], language)  # warm-up: not measured
            rows = [streamed(client, user, language) for user in users[2:]]
            engine = client.get("/healthz").json()["llm"]
            counts = counters(client.get("/metrics").text, COUNTERS)
    finally:
        stop_local()
    return {"engine": engine, "cold": cold, "requests": rows, "counters": counts}


# What the verifier refused and why, and the retries skipped for time, over the whole run (the
# start's warm-up, the cold and warm-up requests included): what to fix next in a language.
COUNTERS = ("recsplain_verifier_failures", "recsplain_llm_retries_skipped")


def counters(exposition: str, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Prometheus counters by name, each as {label values joined by ',': value}."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name not in names:
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = ",".join(sample.labels.values()) or "all"
                out.setdefault(family.name, {})[key] = sample.value
    return out


def offline(users: list[str], language: str) -> dict:
    """The same requests through the same policy on the in-process engine (run in a subprocess
    by `--compare`: vLLM needs the `__main__` guard)."""
    from retrieval.artifacts import load_recommender
    from retrieval.recommender import Query
    from serve.config import load_settings
    from serve.explain.batch import AsyncEngine, offline_policy
    from serve.explain.tasks import TaskFactory

    settings = load_settings()
    recommender, manifest = load_recommender(settings.artifacts_path())
    factory = TaskFactory(recommender)
    engine = AsyncEngine(settings)

    async def one(policy, user: str) -> dict:
        history = Query(recommender.user_history(user))
        found = recommender.recommend([history], K)[0]
        tasks = [factory.task(recommendation, language) for recommendation in found]
        start, times, out = time.perf_counter(), [], []
        async for _, explanation in policy.explain_all(tasks, settings.explain.deadline_s):
            times.append(time.perf_counter() - start)
            reason = explanation.reason and str(explanation.reason)
            out.append({"source": explanation.source, "reason": reason})
        return row(times, time.perf_counter() - start, out)

    async def run(policy) -> list[dict]:
        await one(policy, users[0])  # warm-up, as the server's
        await one(policy, users[1])
        return [await one(policy, user) for user in users[2:]]

    try:
        policy = offline_policy(settings, recommender, manifest, engine, 10_000)
        rows = asyncio.run(run(policy))
    finally:
        engine.shutdown()
    return {"dtype": engine.dtype, "requests": rows}


def first_llm_s(request: dict) -> float:
    """When the request's first LLM-written explanation arrived; infinite when none did. An
    instant template (`overloaded`) is an explanation event but not the product, so the first
    event alone can look fast because admission refused the call."""
    pairs = zip(request["times_s"], request["sources"], strict=True)
    written = [t for t, source in pairs if source == "llm"]
    return min(written, default=math.inf)


def summary(rows: list[dict]) -> dict:
    sources = [source for row in rows for source in row["sources"]]
    seconds = sum(row["total_s"] for row in rows)
    firsts = [first_llm_s(row) for row in rows]
    first_llm = statistics.median_low(firsts)
    return {
        "users": len(rows),
        "llm_share": round(sources.count("llm") / len(sources), 3),
        "first_explanation_s_p50": statistics.median(row["first_s"] for row in rows),
        # None: more than half of the requests got no LLM-written explanation at all
        "first_llm_explanation_s_p50": None if math.isinf(first_llm) else first_llm,
        "requests_without_llm": sum(math.isinf(first) for first in firsts),
        "request_s_p50": statistics.median(row["total_s"] for row in rows),
        "explanations_per_s": round(len(sources) / seconds, 4),
        "llm_explanations_per_s": round(sources.count("llm") / seconds, 4),
    }


def offline_in_subprocess(users: int, language: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "offline.json"
        command = [sys.executable, "-m", "benchmarks.served_k3", "--users", str(users)]
        command += ["--language", language, "--offline", "--json", str(out)]
        subprocess.run(command, check=True)
        return json.loads(out.read_text())


@app.command()
def main(
    users: int = 10,
    language: str = "en",
    compare: Annotated[bool, typer.Option(help="also run the offline engine first")] = False,
    offline_only: Annotated[bool, typer.Option("--offline", hidden=True)] = False,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    port: int = 8123,
) -> None:
    from benchmarks.run import machine

    chosen = chosen_users(users + 1)
    if offline_only:
        result = offline(chosen, language)
        result["summary"] = summary(result["requests"])
    else:
        result = {"machine": machine(), "language": language, "k": K}
        if compare:
            result["offline"] = offline_in_subprocess(users, language)
        result["served"] = served(chosen, language, port)
        result["served"]["summary"] = summary(result["served"]["requests"])
        if compare:
            # also in LLM-written explanations: refused calls make a request faster, so the
            # first ratio rises when admission refuses work the offline path did
            for name, key in (("", "explanations_per_s"), ("_llm", "llm_explanations_per_s")):
                ratio = result["served"]["summary"][key] / result["offline"]["summary"][key]
                result[f"served_vs_offline{name}"] = round(ratio, 3)
    print(json.dumps({k: v for k, v in result.items() if k != "requests"}, indent=2)[:4000])
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
