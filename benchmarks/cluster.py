"""A Ray cluster of several nodes on this one machine (`ray start` once per node), for the batch
job's test and benchmark.

Every process it starts, and every process those start (raylets, workers, vLLM's engine), carries
a mark in its environment, so `stop` ends exactly those and nothing else on the machine (not a
`ray stop`, which would end every Ray here). The nodes share Ray's token, as on KubeRay.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil

MARK = "RECSPLAIN_LOCAL_CLUSTER"
RAY = str(Path(sys.executable).parent / "ray")


def marked(mark: str, name: str = "") -> list[psutil.Process]:
    """The processes that carry `mark`, those whose command line names `name` if given (a Ray
    actor's process is titled after its class: "ray::MapWorker(MapBatches(ExplainStage))")."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            if process.environ().get(MARK) == mark and name in " ".join(process.cmdline()):
                found.append(process)
    return found


def stop(mark: str) -> None:
    for process in marked(mark):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_cluster(head: dict, workers: list[dict]) -> Iterator[tuple[dict, str]]:
    """A head and worker nodes, each `{"num_cpus": n, "resources": {...}}`; yields the
    environment a driver needs (RAY_ADDRESS, the token, the mark) and the mark."""
    mark = uuid.uuid4().hex
    env = {**os.environ, MARK: mark, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    address = f"127.0.0.1:{_free_port()}"

    def start(node: dict, *where: str) -> None:
        command = [RAY, "start", *where, f"--num-cpus={node['num_cpus']}", "--disable-usage-stats"]
        command += ["--resources", json.dumps(node.get("resources", {}))]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr[-2000:]}")

    try:
        start(head, "--head", f"--port={address.split(':')[1]}", "--include-dashboard=false")
        for worker in workers:
            start(worker, f"--address={address}")
        yield {**env, "RAY_ADDRESS": address}, mark
    finally:
        stop(mark)
        _forget(address)


def _forget(address: str) -> None:
    """`ray start --head` records the cluster for later `ray.init()` calls on this machine to
    join; `ray stop` removes the record, a kill does not: remove it if it names ours."""
    record = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    with contextlib.suppress(OSError):
        if record.read_text().strip().endswith(address.split(":")[1]):
            record.unlink()
