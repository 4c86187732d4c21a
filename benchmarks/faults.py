"""Fault injection: SIGKILL the Retriever replica, then the vLLM engine, under load.

    python -m benchmarks.faults [--rate 4] [--out benchmarks/results/faults.json]

Each fault runs while Poisson load of the soak's mix arrives, and a prober sends one uncached
explained request (a random anonymous history) and one tiny chat completion every second. It
records the error rate of the load, the status and template reasons of what came back, and the
recovery times: the first success of a request sent after the kill, the first LLM-written
explanation and the first chat completion after it, and when /healthz and Serve report the app
healthy again. Nobody restarts anything by hand: Serve replaces the dead replica on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import httpx
import typer

from benchmarks import loadgen, soak

RESULTS = Path("benchmarks/results")
FAULTS = ("Retriever", "llm_engine")  # roles in soak.replica_processes, killed in this order
LLM_ROLES = ("llm_engine", "llm_replica")  # after these, wait for an LLM-written explanation
MAX_ERROR_RATE = 0.01


def kill(role: str) -> int:
    """SIGKILL the process playing `role`; its pid."""
    process = soak.replica_processes()[role]
    os.kill(process.pid, signal.SIGKILL)
    return process.pid


async def healthy(client: httpx.AsyncClient, killed_pid: int, role: str) -> bool:
    """/readyz answers 200, Serve reports the app running, and a new process plays `role`."""
    from ray import serve

    try:
        if (await client.get("/readyz", timeout=5)).status_code != 200:
            return False
    except httpx.HTTPError:
        return False
    status = serve.status().applications["recsplain"]
    replaced = soak.replica_processes().get(role)
    return status.status == "RUNNING" and replaced is not None and replaced.pid != killed_pid


async def wait_healthy(
    client: httpx.AsyncClient, killed_pid: int, role: str, timeout_s: float
) -> float:
    """Seconds until `healthy`; raises TimeoutError after `timeout_s`."""
    start = time.perf_counter()
    while not await healthy(client, killed_pid, role):
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"recsplain not healthy {timeout_s:.0f} s after killing {role}")
        await asyncio.sleep(0.5)
    return time.perf_counter() - start


class Prober:
    """Every `period_s`: an uncached explained request and a 1-token chat completion; notes
    when each first shows the LLM answering after `since`."""

    def __init__(self, client: httpx.AsyncClient, item_ids: list[str], model: str, seed: int = 0):
        self.client, self.item_ids, self.model = client, item_ids, model
        self.rng = random.Random(seed)
        self.first_llm_explanation: float | None = None
        self.first_chat: float | None = None
        self.statuses: Counter = Counter()

    async def explained(self, since: float) -> None:
        history = [{"item_id": item} for item in self.rng.sample(self.item_ids, 3)]
        body = {"history": history, "k": 3, "explain": True, "deadline_ms": 20_000}
        try:
            response = await self.client.post("/v1/recommendations", json=body, timeout=60)
        except httpx.HTTPError:
            self.statuses["lost"] += 1
            return
        self.statuses[str(response.status_code)] += 1
        if response.status_code != 200 or self.first_llm_explanation is not None:
            return
        explanations = [item["explanation"] for item in response.json()["items"]]
        if any(e["source"] == "llm" and not e["cached"] for e in explanations):
            self.first_llm_explanation = time.perf_counter() - since

    async def chat(self, since: float) -> None:
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": "Say hi."}],
            "max_tokens": 1,
        }
        try:
            response = await self.client.post("/v1/chat/completions", json=body, timeout=60)
        except httpx.HTTPError:
            return
        if response.status_code == 200 and self.first_chat is None:
            self.first_chat = time.perf_counter() - since

    def answered(self, explanation: bool = True) -> bool:
        """The LLM answered a chat completion and, if asked, wrote a verified explanation."""
        chatted = self.first_chat is not None
        return chatted and (not explanation or self.first_llm_explanation is not None)

    async def run(self, since: float, stop: asyncio.Event, period_s: float = 1.0) -> None:
        pending: set[asyncio.Task] = set()
        while not stop.is_set():
            for probe in (self.explained, self.chat):
                task = asyncio.create_task(probe(since))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await soak.pause(stop, period_s)
        if pending:
            await asyncio.wait(pending)


async def inject(
    url: str,
    headers: dict,
    role: str,
    bodies: list[dict],
    item_ids: list[str],
    model: str,
    rate: float,
    before_s: float = 5.0,
    after_s: float = 10.0,
    recover_timeout_s: float = 240.0,
    answer_timeout_s: float = 240.0,
    await_explanation: bool = True,
) -> dict:
    """Load at `rate`; after `before_s` kill `role`; keep the load until the app is healthy
    again, then (after an LLM role) until the prober saw a chat completion and, if
    `await_explanation`, an LLM-written explanation, for at most `answer_timeout_s`; then
    `after_s` more; then report errors and recovery times."""
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        stop_load = asyncio.Event()
        load = asyncio.create_task(
            loadgen.run_rate(
                url, bodies, rate, 1.0, 10**6, 10**7, warmup=0, headers=headers, stop=stop_load
            )
        )
        await asyncio.sleep(before_s)
        killed_at = time.perf_counter()
        pid = kill(role)
        prober = Prober(client, item_ids, model)
        stop_probes = asyncio.Event()
        probes = asyncio.create_task(prober.run(killed_at, stop_probes))
        try:
            healthy_after = await wait_healthy(client, pid, role, recover_timeout_s)
            deadline = time.perf_counter() + answer_timeout_s
            while (
                role in LLM_ROLES
                and not prober.answered(await_explanation)
                and time.perf_counter() < deadline
            ):
                await asyncio.sleep(0.5)
            await asyncio.sleep(after_s)
        finally:
            stop_probes.set()
            stop_load.set()
            await probes
            result: loadgen.LoadResult = await load
    samples = result.samples
    after_kill = [s for s in samples if s.sent_at >= killed_at]
    first_ok = min(
        (s.sent_at + s.e2e_s - killed_at for s in after_kill if s.status == 200), default=None
    )
    totals = soak.outcome(samples)
    errors = totals["sent"] - totals["ok"]
    return {
        "killed": role,
        "pid": pid,
        "rate_rps": rate,
        **totals,
        "error_rate": loadgen.share(errors, totals["sent"]),
        "template_reasons": loadgen.LoadResult(samples, 1).summary()["template_reasons"],
        "recovery_s": {
            "first_success": _round(first_ok),
            "first_llm_explanation": _round(prober.first_llm_explanation),
            "first_chat_completion": _round(prober.first_chat),
            "healthy": _round(healthy_after),
        },
        "probes": dict(prober.statuses),
        "latency_after_kill": soak.latency(after_kill),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main(
    rate: Annotated[float, typer.Option(help="requests/s of the soak's mix during each fault")] = 4,
    out: Annotated[Path, typer.Option()] = RESULTS / "faults.json",
) -> None:
    from benchmarks.run import population
    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, app_args, load_settings, serve_config

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    headers = soak.local_auth()
    users, histories = population()
    item_ids = sorted({item for history in histories for item in history})
    bodies = soak.mixed_bodies(users, histories, 2000, seed=3)
    url = start_local(app_args(serve_config(CONFIG_FILE)), "127.0.0.1", 8125, replica_logs=False)
    model = load_settings().llm.model_id
    try:
        runs = [
            asyncio.run(inject(url, headers, role, bodies, item_ids, model, rate, after_s=30))
            for role in FAULTS
        ]
    finally:
        stop_local()
    result = {
        "faults": runs,
        "max_error_rate": MAX_ERROR_RATE,
        "passed": all(
            r["error_rate"] is not None
            and r["error_rate"] < MAX_ERROR_RATE
            and r["5xx"] == 0
            and r["lost"] == 0
            for r in runs
        ),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    raise typer.Exit(0 if result["passed"] else 1)


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    typer.run(main)
