"""Admission control: start no LLM call that cannot finish within the request's budget.

A call that misses its deadline is wasted twice: the user gets a template anyway, and the engine
spent time that later requests needed. So before starting calls, estimate when they would
finish from the work already in the engine and its measured throughput.

Throughput comes from Little's law: a call that took `d` seconds while on average `c` calls
were in flight saw the engine complete `c / d` calls per second. `n` new calls on top of the
`q` already queued then finish in about `(q + n) / throughput` seconds. The queue is the larger
this replica's own in-flight calls plus the engine's other unfinished requests (polled from the
LLM deployment), so other replicas' and direct chat-completion traffic count too.

An item is not always one call: when the verifier rejects the first answer, a stricter retry
follows. So an item is planned as the calls items have recently taken (`calls_per_item`, 1 to
2), or under load the retries of admitted items run past the deadline (issue 18 saw 9 to 12
`deadline` templates per level).

Under overload only the fast calls finish; the slow ones are cut off at the deadline. A call
cut off unfinished after `d` seconds at concurrency `c` still says the engine was no faster
than `c / d`, so it lowers an estimate above that. And since the estimate learns from calls
alone, an idle engine that has been refused everything for `PROBE_AFTER_S` gets one call.

A batching engine completes more calls per second the more it runs at once, so throughput is
kept per concurrency level, and kept non-decreasing in it. With a single estimate, calls
measured at concurrency 1 (0.05 calls/s on a slow hour of a 2-core EPYC) lowered the throughput
that planned three calls at once (about 0.09): admission let 3, then 2, then 1 of a user's three
calls start, and served requests at concurrency 1 came back 37% LLM-written against the offline
engine's 63% on the same tasks (served_k3, `served-k3-en-admission-spiral.json`).

The budget's safety share covers work queued ahead of a request, which its estimate may get
wrong at others' expense. Calls that would run on an otherwise idle engine risk only the
request's own items, so they may plan on the whole budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# Weight of the newest throughput sample: a few calls are enough to follow a change of load.
SMOOTHING = 0.3
# Only plan to use this share of a budget: the estimate is an average, and a strict retry may
# follow a rejected answer.
BUDGET_SHARE = 0.8
# An idle engine that has been refused every call this long gets one anyway: only a call that
# runs can show that a slow spell is over (the estimate learns from calls alone).
PROBE_AFTER_S = 30.0


@dataclass(frozen=True)
class Plan:
    """How many of a request's calls may start, and why the others may not."""

    admitted: int
    capped: int  # beyond the per-request cap
    overloaded: int  # would not finish within the budget


class Admission:
    def __init__(self, expected_call_s: float, max_calls_per_request: int, enabled: bool = True):
        self.prior = 1.0 / expected_call_s  # calls per second, until one is measured
        # calls per second measured at each concurrency level (calls in flight, rounded),
        # non-decreasing in the level
        self.rates: dict[int, float] = {}
        self.max_calls_per_request = max_calls_per_request
        self.enabled = enabled
        self.in_flight = 0
        self.foreign_queue = 0  # the engine's requests that are not this replica's calls
        self.calls_per_item = 1.0  # LLM calls an explained item took, first answer and retry
        self._area = 0.0  # integral of in_flight over time, for the average concurrency
        self._changed = time.monotonic()
        self._last_start = self._changed

    def queue(self) -> int:
        return self.in_flight + self.foreign_queue

    def observe_engine(self, unfinished: int) -> None:
        """The engine's count of unfinished requests, just polled. What this replica has in
        flight is known exactly and now; only the rest (other replicas, direct chat traffic)
        is taken from the poll, so a poll that is a second old does not count our own
        finished calls as queued."""
        self.foreign_queue = max(0, unfinished - self.in_flight)

    def rate(self, concurrency: int) -> float:
        """Calls per second with `concurrency` calls in flight: as measured at the highest level
        up to it, or (below every level measured) at the lowest."""
        if not self.rates:
            return self.prior
        below = [level for level in self.rates if level <= concurrency]
        return self.rates[max(below) if below else min(self.rates)]

    @property
    def throughput(self) -> float:
        """The best rate measured so far (reported on /healthz and /metrics)."""
        return max(self.rates.values(), default=self.prior)

    def estimate_s(self, calls: int) -> float:
        """Seconds until `calls` new calls would be done, on top of the current queue."""
        return (self.queue() + calls) / self.rate(self.queue() + calls)

    def can_finish(self, calls: int, seconds_left: float) -> bool:
        """Whether `calls` more calls are expected to be done within `seconds_left` (always, when
        admission is off: the offline engines wait for every answer)."""
        return not self.enabled or self.estimate_s(calls) <= seconds_left

    def plan(self, calls: int, budget_s: float) -> Plan:
        wanted = min(calls, self.max_calls_per_request)
        capped = calls - wanted
        if not self.enabled:
            return Plan(wanted, capped, 0)
        queue = self.queue()
        usable_s = budget_s * (BUDGET_SHARE if queue else 1.0)
        admitted = 0
        for n in range(wanted, 0, -1):  # the most calls whose work fits, each at its level
            room = usable_s * self.rate(queue + n) - queue
            if n * self.calls_per_item <= room:
                admitted = n
                break
        idle_s = time.monotonic() - self._last_start
        if not admitted and wanted and not queue and idle_s >= PROBE_AFTER_S:
            admitted = 1
        return Plan(admitted, capped, wanted - admitted)

    def started(self) -> float:
        """Record a call's start; returns the token to give `finished`."""
        self._advance()
        self.in_flight += 1
        self._last_start = self._changed
        return self._area

    def finished(self, area_at_start: float, seconds: float, completed: bool = True) -> None:
        """Record a call's end. A completed call measures the engine's speed. A call stopped
        unfinished (deadline, client gone) bounds it: the engine was no faster than that, and
        under overload only the fast calls finish, so ignoring the cut-off ones kept the
        estimate high and admitted calls that then missed the deadline."""
        self._advance()
        self.in_flight -= 1
        if seconds <= 0:
            return
        concurrency = max(1.0, (self._area - area_at_start) / seconds)
        sample = concurrency / seconds
        level = round(concurrency)
        known = self.rate(level)
        if completed or sample < known:
            self._learn(level, (1 - SMOOTHING) * known + SMOOTHING * sample)

    def _learn(self, level: int, rate: float) -> None:
        """Set one level's rate and keep the rest consistent with it: no lower level faster,
        no higher level slower."""
        self.rates[level] = rate
        for other in self.rates:
            if other < level:
                self.rates[other] = min(self.rates[other], rate)
            elif other > level:
                self.rates[other] = max(self.rates[other], rate)

    def item_done(self, calls: int) -> None:
        """Record how many calls an item took (2 when its first answer was rejected)."""
        self.calls_per_item = (1 - SMOOTHING) * self.calls_per_item + SMOOTHING * calls

    def _advance(self) -> None:
        now = time.monotonic()
        self._area += self.in_flight * (now - self._changed)
        self._changed = now
