"""An async HTTP load generator for recsplain, with metrics named as `vllm bench serve` names them.

Two ways to offer load: a fixed number of clients that each send back to back (a concurrency
sweep), or open-loop arrivals at a request rate with gamma-distributed gaps (burstiness 1.0 is a
Poisson process; below 1 is burstier). Both warm up first, stop at a duration or a count,
whichever comes first, and wait for what is in flight.

For streamed requests, TTFT is the time to the first `explanation` event and TPOT the time per
output token after it; output tokens are counted on LLM-written explanations only (templates
cost no generation). Explained traffic also reports verified LLM explanations per second
(`source == "llm"`), the LLM share, why templates were used (their `reason`) and the share of
explanations served from the cache (`cached`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import httpx
import numpy as np

CountTokens = Callable[[str], int]


@dataclass
class Sample:
    status: int
    e2e_s: float
    ttft_s: float | None = None
    output_tokens: int = 0
    explanations: Counter = field(default_factory=Counter)  # by source
    reasons: Counter = field(default_factory=Counter)  # template explanations, by reason
    cached: int = 0  # explanations served from the cache
    sent_at: float = 0.0  # time.perf_counter() when it was sent, to place it on a timeline
    error: str | None = None  # the API's error code of an answer other than 200


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile rounded to 0.01, or None for no values."""
    array = np.asarray(list(values), dtype=float)
    return round(float(np.percentile(array, q)), 2) if len(array) else None


def share(part: float, whole: float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


@dataclass
class LoadResult:
    samples: list[Sample]
    duration_s: float

    def summary(self) -> dict:
        ok = [s for s in self.samples if s.status == 200]
        e2e = np.array([s.e2e_s for s in ok]) * 1000
        ttft = [s.ttft_s * 1000 for s in ok if s.ttft_s is not None]
        tpot = [
            (s.e2e_s - s.ttft_s) / (s.output_tokens - 1) * 1000
            for s in ok
            if s.ttft_s is not None and s.output_tokens > 1
        ]
        sources = sum((s.explanations for s in ok), Counter())
        reasons = sum((s.reasons for s in ok), Counter())
        explained = sum(sources.values())
        cached = sum(s.cached for s in ok)
        tokens = sum(s.output_tokens for s in ok)
        return {
            "completed": len(ok),
            "errors": dict(Counter(str(s.status) for s in self.samples if s.status != 200)),
            "duration_s": round(self.duration_s, 3),
            "request_throughput": round(len(ok) / self.duration_s, 3),
            "output_throughput": round(tokens / self.duration_s, 2),
            "median_e2el_ms": percentile(e2e, 50),
            "p90_e2el_ms": percentile(e2e, 90),
            "p99_e2el_ms": percentile(e2e, 99),
            "median_ttft_ms": percentile(ttft, 50),
            "p99_ttft_ms": percentile(ttft, 99),
            "median_tpot_ms": percentile(tpot, 50),
            "template_share": share(sources["template"], explained),
            "explanations": explained,
            "llm_explanations": sources["llm"],
            "llm_explanations_per_s": round(sources["llm"] / self.duration_s, 3),
            "llm_share": share(sources["llm"], explained),
            "template_reasons": dict(sorted(reasons.items())),
            "cached_explanations": cached,
            "cache_hit_rate": share(cached, explained),
            "e2el_ms": [round(float(v), 2) for v in e2e],
        }


def combine(summaries: list[dict]) -> dict:
    """The explanation figures of several runs' summaries taken together."""
    explained = sum(s["explanations"] for s in summaries)
    llm = sum(s["llm_explanations"] for s in summaries)
    duration = sum(s["duration_s"] for s in summaries)
    reasons = sum((Counter(s["template_reasons"]) for s in summaries), Counter())
    return {
        "explanations": explained,
        "llm_explanations_per_s": round(llm / duration, 3) if duration else None,
        "llm_share": share(llm, explained),
        "template_reasons": dict(sorted(reasons.items())),
        "cache_hit_rate": share(sum(s["cached_explanations"] for s in summaries), explained),
    }


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) for each server-sent event in these lines (an event ends at a blank line)."""
    event, data = "message", []
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
    if data:
        yield event, "\n".join(data)


def path_of(body: dict) -> str:
    """A body that names its items (`item_ids`) asks for their explanations."""
    return "/v1/explanations" if "item_ids" in body else "/v1/recommendations"


async def send(client: httpx.AsyncClient, body: dict, count_tokens: CountTokens | None) -> Sample:
    """One request; streamed bodies are read event by event to time the first explanation."""
    start = time.perf_counter()
    try:
        if not body.get("stream"):
            response = await client.post(path_of(body), json=body)
            sample = Sample(response.status_code, time.perf_counter() - start, sent_at=start)
            if response.status_code == 200:
                for item in response.json().get("items", []):
                    count_explanation(sample, item.get("explanation"), count_tokens)
            else:
                sample.error = error_code(response.content)
            return sample
        sample = Sample(0, 0.0, sent_at=start)
        async with client.stream("POST", path_of(body), json=body) as response:
            sample.status = response.status_code
            if response.status_code != 200:
                sample.error = error_code(await response.aread())
                sample.e2e_s = time.perf_counter() - start
                return sample
            lines: list[str] = []
            async for line in response.aiter_lines():
                lines.append(line)
                if not line:  # a blank line ends an event
                    _on_events(sample, sse_events(lines), start, count_tokens)
                    lines = []
            _on_events(sample, sse_events(lines), start, count_tokens)
        sample.e2e_s = time.perf_counter() - start
        return sample
    except httpx.HTTPError:
        return Sample(599, time.perf_counter() - start, sent_at=start)


def error_code(body: bytes) -> str:
    """The `error.code` of an API error body, or why there is none: a failure names its cause."""
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "not_json" if body else "empty"


def _on_events(
    sample: Sample,
    events: Iterable[tuple[str, str]],
    start: float,
    count_tokens: CountTokens | None,
) -> None:
    for event, data in events:
        if event == "explanation":
            if sample.ttft_s is None:
                sample.ttft_s = time.perf_counter() - start
            count_explanation(sample, json.loads(data)["explanation"], count_tokens)


def count_explanation(
    sample: Sample, explanation: dict | None, count_tokens: CountTokens | None = None
) -> None:
    """Add one explanation object of the API (or None, for an unexplained item) to `sample`."""
    if explanation is None:
        return
    source = explanation["source"]
    sample.explanations[source] += 1
    if source == "template":
        sample.reasons[explanation.get("reason") or "none"] += 1
    if explanation.get("cached"):
        sample.cached += 1
    if source == "llm" and count_tokens:
        sample.output_tokens += count_tokens(explanation["text"])


def api_headers() -> dict | None:
    """The API key a running recsplain wants (RECSPLAIN_API_KEY), as every client sends it."""
    key = os.environ.get("RECSPLAIN_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else None


async def run_concurrency(
    url: str,
    bodies: list[dict],
    concurrency: int,
    duration_s: float,
    max_requests: int,
    warmup: int = 2,
    count_tokens: CountTokens | None = None,
    headers: dict | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    """`concurrency` clients send back to back until the duration or the count runs out.

    The measured requests start after the `warmup` bodies, so a warm-up request never turns the
    first measured one into a cache hit."""
    async with httpx.AsyncClient(
        base_url=url, timeout=600, headers=headers, transport=transport
    ) as client:
        for body in bodies[:warmup]:
            await send(client, body, None)
        samples: list[Sample] = []
        sent = 0
        start = time.perf_counter()
        deadline = start + duration_s

        async def worker() -> None:
            nonlocal sent
            while sent < max_requests and time.perf_counter() < deadline:
                body = bodies[(warmup + sent) % len(bodies)]
                sent += 1
                samples.append(await send(client, body, count_tokens))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return LoadResult(samples, time.perf_counter() - start)


async def run_rate(
    url: str,
    bodies: list[dict],
    rate: float,
    burstiness: float,
    duration_s: float,
    max_requests: int,
    warmup: int = 2,
    seed: int = 0,
    count_tokens: CountTokens | None = None,
    headers: dict | None = None,
    stop: asyncio.Event | None = None,
) -> LoadResult:
    """Open-loop arrivals: gaps ~ Gamma(shape=burstiness, mean=1/rate). Setting `stop` ends
    the arrivals early (what was sent is still awaited and counted)."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=600, headers=headers) as client:
        for body in bodies[:warmup]:
            await send(client, body, None)
        tasks = []
        start = time.perf_counter()
        for index in range(max_requests):
            if time.perf_counter() - start >= duration_s or (stop and stop.is_set()):
                break
            tasks.append(
                asyncio.create_task(
                    send(client, bodies[(warmup + index) % len(bodies)], count_tokens)
                )
            )
            await asyncio.sleep(rng.gammavariate(burstiness, 1.0 / (rate * burstiness)))
        samples = await asyncio.gather(*tasks)
        return LoadResult(list(samples), time.perf_counter() - start)


def request_mix(
    users: list[str],
    histories: list[list[str]],
    k: int,
    explain: bool,
    stream: bool,
    anonymous_share: float = 0.3,
    seed: int = 0,
    size: int = 200,
    deadline_ms: int | None = None,
) -> list[dict]:
    """Realistic traffic: mostly known users, some anonymous `history` requests; explained ones
    ask for `deadline_ms` when given (the configured deadline otherwise)."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(size):
        body: dict = {"k": k, "explain": explain, "stream": stream}
        if explain and deadline_ms is not None:
            body["deadline_ms"] = deadline_ms
        if rng.random() < anonymous_share:
            liked = rng.choice(histories)
            body["history"] = [{"item_id": item} for item in liked]
        else:
            body["user_id"] = rng.choice(users)
        bodies.append(body)
    return bodies
