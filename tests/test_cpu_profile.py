"""`benchmarks.cpu_profile`'s arithmetic: shares of the whole machine, biggest first."""

from __future__ import annotations

from benchmarks.cpu_profile import CpuSampler


def test_shares_are_of_every_core_over_the_window(monkeypatch):
    monkeypatch.setattr("psutil.cpu_count", lambda: 2)
    sampler = CpuSampler()
    sampler.wall_s = 100.0
    sampler.seconds = {"Ingress": 5.0, "llm_engine_worker": 150.0, "noise": 0.01}
    result = sampler.result()
    assert list(result["cpu_s"]) == ["llm_engine_worker", "Ingress"]
    assert result["share_of_machine"] == {"llm_engine_worker": 0.75, "Ingress": 0.025}
