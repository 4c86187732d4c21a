"""Ray Serve autoscaling for real on one node: a Retriever scales up under load, then back down.

The app's own Retriever is pinned to one replica (see conftest), so this deploys a second,
cheap copy as its own application on the session's Ray/Serve, with an autoscaling config tuned
to react within seconds instead of the production minutes.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from ray import serve

from serve.retriever import RetrievalRequest, RetrievalResult, Retriever

APP = "autoscaling-test"
DEPLOYMENT = "AutoscaledRetriever"
MAX_REPLICAS = 3
K = 100  # a heavier request keeps each replica busier per call
CONCURRENCY = 48  # requests in flight at all times while loading
UP_TIMEOUT_S = 90
SETTLE_S = 10  # after the first extra replica runs, keep loading this long (or until max)
DOWN_TIMEOUT_S = 60

AUTOSCALING = {
    "min_replicas": 1,
    "max_replicas": MAX_REPLICAS,
    "target_ongoing_requests": 2,
    "upscale_delay_s": 0,
    "downscale_delay_s": 3,
    # Handles and replicas report every 0.5 s (default 10 s), averaged over 2 s (default 30 s).
    "metrics_interval_s": 0.5,
    "look_back_period_s": 2,
}


def replica_states() -> dict[str, int]:
    """Replica counts by state ("RUNNING", "STARTING", "STOPPING", ...) of the test deployment."""
    deployment = serve.status().applications[APP].deployments[DEPLOYMENT]
    # Keys are ReplicaState (a str enum) or already plain strings, depending on the Ray version.
    states = deployment.replica_states.items()
    return {str(getattr(state, "value", state)): count for state, count in states if count}


async def load_until_scaled_up(handle) -> tuple[list, int, float, list]:
    """Keep CONCURRENCY requests in flight until more than one replica runs (then SETTLE_S more).

    Returns the results, the most RUNNING replicas seen, the seconds to the first scale-up and
    the polled (elapsed_s, states) history for failure messages.
    """
    results: list = []
    stop = asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            try:
                results.append(await handle.recommend.remote(RetrievalRequest(k=K, user_id="15")))
            except Exception as exc:  # recorded, asserted after the load
                results.append(exc)

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    start = time.monotonic()
    history: list = []
    max_running, scaled_up_after = 1, None
    try:
        while time.monotonic() - start < UP_TIMEOUT_S:
            await asyncio.sleep(0.5)
            states = await asyncio.to_thread(replica_states)
            elapsed = time.monotonic() - start
            history.append((round(elapsed, 1), states))
            running = states.get("RUNNING", 0)
            max_running = max(max_running, running)
            if running > 1 and scaled_up_after is None:
                scaled_up_after = elapsed
            if scaled_up_after is not None and (
                running >= MAX_REPLICAS or elapsed - scaled_up_after >= SETTLE_S
            ):
                break
    finally:
        stop.set()
        await asyncio.gather(*workers)
    return results, max_running, scaled_up_after, history


def wait_for_scale_down() -> tuple[float | None, list]:
    """Poll until exactly one replica is left (running, none starting or stopping)."""
    start = time.monotonic()
    history: list = []
    while time.monotonic() - start < DOWN_TIMEOUT_S:
        states = replica_states()
        elapsed = time.monotonic() - start
        history.append((round(elapsed, 1), states))
        if states == {"RUNNING": 1}:
            return elapsed, history
        time.sleep(0.5)
    return None, history


@pytest.mark.filterwarnings("ignore:The `metrics_interval_s` field:DeprecationWarning")
def test_retriever_scales_up_under_load_and_back_down(service, injected_artifacts):
    """Scaling only shows with real replicas, a real controller and real handle metrics."""
    app = (
        serve.deployment(Retriever)
        .options(
            name=DEPLOYMENT,
            autoscaling_config=AUTOSCALING,
            max_ongoing_requests=8,
            ray_actor_options={"num_cpus": 0.1},
        )
        .bind(str(injected_artifacts))
    )
    try:
        handle = serve.run(app, name=APP, route_prefix=None, blocking=False)
        assert replica_states() == {"RUNNING": 1}

        load_start = time.monotonic()
        results, max_running, scaled_up_after, up_history = asyncio.run(
            load_until_scaled_up(handle)
        )
        load_s = time.monotonic() - load_start
        assert scaled_up_after is not None, (
            f"no scale-up within {UP_TIMEOUT_S} s of load; replica states: {up_history}"
        )
        assert 1 < max_running <= MAX_REPLICAS

        failures = [r for r in results if not isinstance(r, RetrievalResult) or r.failure]
        assert results and not failures, f"{len(failures)} of {len(results)} failed: {failures[:3]}"
        assert all(len(r.items) == K for r in results)

        scaled_down_after, down_history = wait_for_scale_down()
        assert scaled_down_after is not None, (
            f"not back to 1 replica within {DOWN_TIMEOUT_S} s; replica states: {down_history}"
        )
        print(
            f"\nautoscaling: {len(results)} requests in {load_s:.1f} s; "
            f">1 replica after {scaled_up_after:.1f} s, max {max_running} running; "
            f"back to 1 replica {scaled_down_after:.1f} s after the load stopped"
        )
    finally:
        serve.delete(APP)
