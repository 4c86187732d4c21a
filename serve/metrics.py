"""Prometheus metrics of the recsplain API, served on `GET /metrics` by each ingress replica.

Ray's own metrics (replica counts, queue lengths, vLLM engine stats) are exported by Ray's
metrics agent on every node; the Kubernetes PodMonitor scrapes both.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("recsplain_requests", "HTTP requests by route and status", ["route", "status"])
STAGE_SECONDS = Histogram(
    "recsplain_stage_seconds", "Latency per stage", ["stage"], buckets=STAGE_BUCKETS
)
EXPLANATIONS = Counter("recsplain_explanations", "Explanations by source", ["source"])
VERIFIER_FAILURES = Counter(
    "recsplain_verifier_failures", "LLM explanations the verifier rejected", ["reason"]
)
LLM_ERRORS = Counter("recsplain_llm_errors", "Failed LLM calls", ["kind"])
DEADLINE_MISSES = Counter(
    "recsplain_deadline_misses", "Explanations replaced by a template at the deadline"
)
QUEUE_REJECTIONS = Counter(
    "recsplain_queue_rejections", "Requests refused because a queue was full", ["deployment"]
)
TEMPLATE_REASONS = Counter(
    "recsplain_template_reasons", "Template explanations by why the LLM text is missing", ["reason"]
)
CACHE_LOOKUPS = Counter(
    "recsplain_explanation_cache",
    "Explanation cache lookups: hit, miss (a new LLM call) or shared (joined one in flight)",
    ["result"],
)
EXPLANATIONS_CACHED = Counter(
    "recsplain_explanations_cached", "Explanations served from the explanation cache"
)
LLM_CALLS_CANCELLED = Counter(
    "recsplain_llm_calls_cancelled",
    "LLM calls abandoned (deadline, client gone) and aborted in the engine",
)
RETRIES_SKIPPED = Counter(
    "recsplain_llm_retries_skipped",
    "Strict retries not started because they could not finish before the deadline",
)
LLM_QUEUE = Gauge("recsplain_llm_queue", "LLM calls in flight or waiting, as admission sees it")
LLM_THROUGHPUT = Gauge(
    "recsplain_llm_calls_per_second", "The LLM's measured throughput, as admission estimates it"
)
