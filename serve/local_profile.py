"""The lean local profile: the app on one small machine, Ray started in-process (`make serve`,
the tests, the benchmarks).

The CPU engine binds its threads to every core, so whatever else runs takes a core from one
thread and the other waits for it at the next barrier. On 2 cores Ray's and the app's other
processes used 11% of the machine while explaining (issue 17's profile), and the served engine
made 0.76 of the offline engine's tokens/s. So, when `local.lean` is on:
- Serve's controller runs its loop every `local.controller_loop_s` instead of every 0.1 s;
- the replicas ask the registry for the serving build every `local.rollout_poll_s`;
- every process of the app except the engine's runs at niceness `local.background_nice`, so
  the scheduler lets it wait while the engine's threads compute.

The engine's replica and its engine processes keep their priority, and so do Ray's raylet and
idle workers: a process forked from them inherits their niceness, and a new engine (after a
crash) starts in one of them. A process that Ray names as one of ours keeps that role until it
dies, so a lowered priority never reaches an engine later.

Ray starts every worker at niceness 15 (`RAY_worker_niceness`), so the engine, which forks from
its replica, runs at 15 as well, and the sweep (which only raises a niceness) lowers just what Ray
starts at 0: GCS and its agents. With `RAY_worker_niceness=0` exported the engine runs ahead, 6%
more served tokens/s on 2 cores (`benchmarks.local_profile`'s `lean-nice0`); it is not the default
because the proxy's path then starves while an engine starts (README, "The lean local profile").
"""

from __future__ import annotations

import logging
import os
import threading

import psutil

from serve.config import LocalSettings

log = logging.getLogger(__name__)

CONTROL_LOOP_ENV = "RAY_SERVE_CONTROL_LOOP_INTERVAL_S"
# Ray's daemons whose children are not ours to slow down (they fork workers, engines included).
RAY_DAEMONS = ("gcs_server", "DashboardAgent", "TelemetryAgent", "RuntimeEnvAgent")


def role(title: str) -> str | None:
    """A process title as Ray and vLLM set it -> the role it plays in the app, or None."""
    if "EngineCore" in title:
        return "llm_engine"
    if not title.startswith("ray::"):
        return None
    name = title.removeprefix("ray::").split()[0]
    if name.startswith("ServeReplica:"):
        deployment = name.split(":")[2].split(".")[0]
        return "llm_replica" if deployment.startswith("RecsplainLLMServer") else deployment
    if name.startswith("ProxyActor"):
        return "proxy"
    if name.startswith("ServeController"):
        return "controller"
    return None


def background_role(title: str) -> str | None:
    """The role of a process that may wait for the engine, or None: the engine's processes
    (its replica, core and workers), Ray's raylet and idle workers, and what is not ours."""
    for daemon in RAY_DAEMONS:
        if daemon in title:
            return f"ray:{daemon}"
    found = role(title)
    return None if found in (None, "llm_engine", "llm_replica") else found


def prepare(settings: LocalSettings, args: dict) -> dict:
    """Before Ray starts: the controller's loop (Ray reads it from the environment its
    processes inherit) and the app's args with the registry polls, unless either is set."""
    if not settings.lean:
        return args
    os.environ.setdefault(CONTROL_LOOP_ENV, str(settings.controller_loop_s))
    return {**args, "rollout": {"poll_s": settings.rollout_poll_s, **args.get("rollout", {})}}


class Deprioritizer(threading.Thread):
    """Every `period_s`, lowers the priority of this process's descendants that may wait for
    the engine, new ones included (a replica added by autoscaling or replacing a dead one)."""

    def __init__(self, niceness: int, period_s: float = 10.0):
        super().__init__(name="deprioritizer", daemon=True)
        self.niceness, self.period_s = niceness, period_s
        self.stopped = threading.Event()
        self.done: set[tuple[int, float]] = set()

    def sweep(self) -> list[str]:
        """One pass; the roles it lowered."""
        lowered = []
        for process in psutil.Process().children(recursive=True):
            try:
                key = (process.pid, process.create_time())
                if key in self.done:
                    continue
                found = background_role(" ".join(process.cmdline()) or process.name())
                if found is None:
                    continue  # the engine's, or not named yet: looked at again next time
                if process.nice() < self.niceness:
                    process.nice(self.niceness)
                self.done.add(key)
                lowered.append(found)
            except psutil.Error:
                continue
        return lowered

    def run(self) -> None:
        while True:
            lowered = self.sweep()
            if lowered:
                log.info("lower priority (nice %d): %s", self.niceness, ", ".join(lowered))
            if self.stopped.wait(self.period_s):
                return


def deprioritize(settings: LocalSettings) -> Deprioritizer | None:
    """Start lowering the priority of the app's other processes, if the profile says so."""
    if not settings.lean or not settings.background_nice:
        return None
    thread = Deprioritizer(settings.background_nice)
    thread.start()
    return thread
