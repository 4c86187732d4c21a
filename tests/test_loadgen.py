"""The load generator's arithmetic and request mix (pure logic; the served app is measured by
the benchmarks themselves)."""

from collections import Counter

import pytest

from benchmarks.loadgen import LoadResult, Sample, request_mix


def test_summary_uses_vllm_bench_names_and_counts_only_successes():
    samples = [
        Sample(200, 1.0, ttft_s=0.2, output_tokens=9, explanations=Counter(llm=2, template=1)),
        Sample(200, 3.0, ttft_s=0.6, output_tokens=5, explanations=Counter(template=1)),
        Sample(503, 0.01),
    ]
    summary = LoadResult(samples, duration_s=2.0).summary()
    assert summary["completed"] == 2 and summary["errors"] == {"503": 1}
    assert summary["request_throughput"] == 1.0
    assert summary["output_throughput"] == 7.0
    assert summary["median_e2el_ms"] == pytest.approx(2000.0)
    assert summary["median_ttft_ms"] == pytest.approx(400.0)
    # TPOT: (1.0 - 0.2) / 8 = 100 ms and (3.0 - 0.6) / 4 = 600 ms
    assert summary["median_tpot_ms"] == pytest.approx(350.0)
    assert summary["template_share"] == 0.5  # 2 templates of 4 explanations


def test_request_mix_has_known_and_anonymous_users():
    bodies = request_mix(["1", "2"], [["318", "296"]], k=5, explain=True, stream=True, size=400)
    anonymous = [b for b in bodies if "history" in b]
    assert 0.2 < len(anonymous) / len(bodies) < 0.4
    assert all(("user_id" in b) != ("history" in b) for b in bodies)
    assert all(b["k"] == 5 and b["stream"] for b in bodies)
