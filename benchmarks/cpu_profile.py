"""Where the CPU goes while `make serve` explains: CPU seconds per process role.

Runs `served_k3`'s served path (the configured app, k=3, streamed, one user at a time) and,
from the moment the app is ready until the last request ends, samples every process's CPU
time each second, grouped by role (`serve.local_profile.role`, plus the engine's worker, Ray's
own daemons and the client). On 2 cores the engine's threads are bound to both, so whatever
else runs takes cores from them: this says how much, and who.

    python -m benchmarks.cpu_profile --users 5 --json benchmarks/results/served-cpu-profile.json
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Annotated

import psutil
import typer

from benchmarks import served_k3
from serve.local_profile import RAY_DAEMONS, role

app = typer.Typer(add_completion=False)


def group(process: psutil.Process) -> str | None:
    """The role a process plays while serving, or None for processes that are not ours."""
    try:
        title = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        return None
    found = role(title)
    if found:
        return found
    if "VLLM::Worker" in title or process.name().startswith("VLLM::Worker"):
        return "llm_engine_worker"
    for daemon in ("raylet", *RAY_DAEMONS):
        if daemon in title:
            return f"ray:{daemon}"
    if title.startswith("ray::"):
        return "ray:" + title.split()[0].removeprefix("ray::")[:40]
    if process.pid == os.getpid():
        return "benchmark client"
    return None


class CpuSampler(threading.Thread):
    """CPU seconds per role, from per-process deltas each `period_s` until stopped."""

    def __init__(self, period_s: float = 1.0):
        super().__init__(daemon=True)
        self.period_s = period_s
        self.seconds: dict[str, float] = {}
        self.stopped = threading.Event()
        self.wall_s = 0.0

    def run(self) -> None:
        last: dict[tuple[int, float], float] = {}
        start = time.monotonic()
        while not self.stopped.wait(self.period_s):
            for process in psutil.process_iter():
                try:
                    times = process.cpu_times()
                    key = (process.pid, process.create_time())
                except psutil.Error:
                    continue
                used = times.user + times.system
                before = last.get(key)
                last[key] = used
                name = group(process) if before is not None else None
                if name:
                    self.seconds[name] = self.seconds.get(name, 0.0) + used - before
        self.wall_s = time.monotonic() - start

    def result(self) -> dict:
        cores = psutil.cpu_count() or 1
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])
        return {
            "wall_s": round(self.wall_s, 1),
            "cores": cores,
            "cpu_s": {name: round(value, 1) for name, value in ranked if value >= 0.05},
            "share_of_machine": {
                name: round(value / (self.wall_s * cores), 3)
                for name, value in ranked
                if value >= 0.05
            },
        }


@app.command()
def main(
    users: int = 5,
    language: str = "en",
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    port: int = 8123,
) -> None:
    from benchmarks.run import machine

    sampler = CpuSampler()
    try:
        # Sampled from ready on: the app's start is not what this measures.
        chosen = served_k3.chosen_users(users + 1)
        served = served_k3.served(chosen, language, port, on_ready=sampler.start)
    finally:
        sampler.stopped.set()
        if sampler.is_alive():
            sampler.join()
    result = {
        "machine": machine(),
        "language": language,
        "k": served_k3.K,
        "summary": served_k3.summary(served["requests"]),
        "cpu": sampler.result(),
    }
    print(json.dumps(result["cpu"], indent=1))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
