"""The cancel storm: does the LLM recover after a burst of requests that give up on their
explanations?

1. Idle: time a probe (a 5-token `/v1/chat/completions` call on the served model, then a k=3
   explained recommendation), the median of a few, each for a user nobody else asks for.
2. Storm: N requests `{"user_id": ..., "k": 20, "deadline_ms": 300}` at once; they come back
   quickly with templates, and the LLM work behind them should be cancelled.
3. Probe back to back until one comes back within `max(2 x idle, idle + 1 s)`, with both calls
   answered 200 and no explanation shed (reason `overloaded` or `llm_error`), or until
   `max_wait_s` has passed.

The recovery time is when that probe started, in seconds after the last storm response: an
upper bound, one probe's length coarse; 0 means the first probe after the storm was already
back to idle speed. Every step is bounded in time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import httpx

from benchmarks.loadgen import Sample, count_explanation, percentile

# Fast answers that did no LLM work: a probe with one of these is not back to normal.
SHED_REASONS = frozenset({"overloaded", "llm_error"})
CHAT_PROMPT = [{"role": "user", "content": "Name one film genre."}]


def recovery_bound(idle_s: float) -> float:
    """The probe time under which the app counts as recovered."""
    return max(2 * idle_s, idle_s + 1.0)


@dataclass
class Probe:
    start_s: float  # seconds after the storm's last response (about 0 for the idle probes)
    chat_s: float
    recommend_s: float
    chat_status: int
    recommend_status: int
    sources: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    cached: int = 0

    @property
    def seconds(self) -> float:
        return self.chat_s + self.recommend_s

    @property
    def ok(self) -> bool:
        return (
            self.chat_status == 200
            and self.recommend_status == 200
            and SHED_REASONS.isdisjoint(self.reasons)
        )

    def as_dict(self) -> dict:
        return {
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()},
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
        }


def recovery(idle_s: float, probes: list[Probe], max_wait_s: float) -> dict:
    """Whether and when a probe came back within the bound (pure arithmetic on the probes)."""
    bound = recovery_bound(idle_s)
    for number, probe in enumerate(probes, 1):
        if probe.start_s > max_wait_s:
            break
        if probe.ok and probe.seconds <= bound:
            return {
                "recovered": True,
                "recovery_s": round(max(0.0, probe.start_s), 3),
                "bound_s": round(bound, 3),
                "probes_to_recover": number,
            }
    return {
        "recovered": False,
        "recovery_s": None,
        "bound_s": round(bound, 3),
        "probes_to_recover": None,
    }


async def probe(
    client: httpx.AsyncClient, model_id: str, user_id: str, origin: float, timeout_s: float
) -> Probe:
    """One probe; a call that fails or times out keeps its time and a status of 599."""
    start = time.perf_counter()
    chat_status = await _status(
        client.post(
            "/v1/chat/completions",
            json={"model": model_id, "messages": CHAT_PROMPT, "max_tokens": 5, "temperature": 0},
            timeout=timeout_s,
        )
    )
    chatted = time.perf_counter()
    left = max(1.0, timeout_s - (chatted - start))
    sample = await _recommend(client, {"user_id": user_id, "k": 3}, left)
    done = time.perf_counter()
    return Probe(
        start - origin,
        chatted - start,
        done - chatted,
        chat_status,
        sample.status,
        dict(sample.explanations),
        dict(sample.reasons),
        sample.cached,
    )


async def _status(call) -> int:
    try:
        return (await call).status_code
    except httpx.HTTPError:
        return 599


async def _recommend(client: httpx.AsyncClient, body: dict, timeout_s: float) -> Sample:
    """One recommendation request, its status and its explanations counted (599: no answer)."""
    start = time.perf_counter()
    sample = Sample(0, 0.0)
    try:
        response = await client.post("/v1/recommendations", json=body, timeout=timeout_s)
        sample.status = response.status_code
        if response.status_code == 200:
            for item in response.json().get("items", []):
                count_explanation(sample, item.get("explanation"))
    except httpx.HTTPError:
        sample.status = 599
    sample.e2e_s = time.perf_counter() - start
    return sample


async def storm_request(client: httpx.AsyncClient, user_id: str, k: int, deadline_ms: int):
    return await _recommend(client, {"user_id": user_id, "k": k, "deadline_ms": deadline_ms}, 60)


async def cancel_storm(
    url: str,
    model_id: str,
    users: list[str],
    requests: int = 4,
    k: int = 20,
    deadline_ms: int = 300,
    idle_probes: int = 3,
    max_wait_s: float = 120.0,
    pause_s: float = 0.2,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict | None = None,
) -> dict:
    """Run the scenario; `users` are fresh users, one per storm request and per probe (a
    probe never repeats a user, so it can't be a cache hit); running out ends the probing."""
    needed = idle_probes + requests
    if len(users) < needed + 1:
        raise ValueError(f"the cancel storm needs at least {needed + 1} users, got {len(users)}")
    storm_users, probe_users = users[:requests], iter(users[requests:])
    async with httpx.AsyncClient(
        base_url=url, timeout=60, transport=transport, headers=headers
    ) as client:
        idle = []
        for _ in range(idle_probes):
            idle.append(await probe(client, model_id, next(probe_users), time.perf_counter(), 60))
        idle_s = statistics.median(p.seconds for p in idle)
        bound = recovery_bound(idle_s)
        start = time.perf_counter()
        storm = await asyncio.gather(
            *(storm_request(client, user, k, deadline_ms) for user in storm_users)
        )
        ended = time.perf_counter()
        probes: list[Probe] = []
        for user in probe_users:
            waited = time.perf_counter() - ended
            if waited > max_wait_s:
                break
            # a probe that would end past the wait is cut there, plus time to show it's slow
            probes.append(await probe(client, model_id, user, ended, max_wait_s - waited + bound))
            if probes[-1].ok and probes[-1].seconds <= bound:
                break
            await asyncio.sleep(pause_s)
    sources = sum((Counter(s.explanations) for s in storm), Counter())
    reasons = sum((Counter(s.reasons) for s in storm), Counter())
    return {
        "requests": requests,
        "k": k,
        "deadline_ms": deadline_ms,
        "max_wait_s": max_wait_s,
        "idle_probe_s": round(idle_s, 3),
        **recovery(idle_s, probes, max_wait_s),
        "storm_s": round(ended - start, 3),
        "storm_p50_ms": percentile((s.e2e_s * 1000 for s in storm), 50),
        "storm_max_ms": percentile((s.e2e_s * 1000 for s in storm), 100),
        "storm_statuses": dict(Counter(str(s.status) for s in storm)),
        "storm_sources": dict(sorted(sources.items())),
        "storm_template_reasons": dict(sorted(reasons.items())),
        "idle_probes": [p.as_dict() for p in idle],
        "probes": [p.as_dict() for p in probes],
    }


def fresh_users(users: list[str], taken: set[str]) -> list[str]:
    """The users that no other part of the run asks to explain, from the end of the list, so no
    explanation they get can come from the cache."""
    return [user for user in reversed(users) if user not in taken]
