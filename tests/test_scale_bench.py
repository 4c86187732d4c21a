"""The scale benchmark's report: extrapolated rows say so, and the plot draws any report."""

from __future__ import annotations

from benchmarks.scale import Probe, embedding_rates, extrapolate_cold, plot

WARM = {
    "complete": True,
    "measured": True,
    "wall_s": 100.0,
    "peak_rss_mb": 2048.0,
    "steps_s": {"load data": 10.0, "embed item text": 2.0, "fit and index": 88.0},
}
STAND_IN = {"catalog_texts": 10_000, "texts_per_s": 100.0, "model_load_s": 5.0}


def test_a_cold_build_is_extrapolated_from_the_warm_one_and_the_sampled_rate():
    cold = extrapolate_cold(WARM, STAND_IN)
    assert cold["measured"] is False and "extrapolated" in cold["note"]
    assert cold["steps_s"]["embed item text"] == 105.0
    assert cold["wall_s"] == 10.0 + 105.0 + 88.0
    assert extrapolate_cold({"complete": False}, STAND_IN)["complete"] is False


def test_rates_and_plot_from_a_report(tmp_path):
    size = {
        "size": "10m",
        "data": {"interactions": 10_000_000, "artists": 1_000},
        "runs": {"stand_in": STAND_IN, "warm": WARM, "cold": extrapolate_cold(WARM, STAND_IN)},
    }
    assert embedding_rates(size) == {
        "cold_texts_per_s_sampled": 100.0,
        "cold_texts_per_cpu_s_sampled": None,
        "warm_texts_per_s": 500.0,
    }
    report = {"machine": {"lscpu": {"Model name": "Test CPU"}, "cores": 2}, "sizes": [size]}
    plot(report, tmp_path / "scale.png")
    assert (tmp_path / "scale.png").stat().st_size > 10_000


def test_the_probe_times_calls_and_saves_progress(tmp_path):
    probe = Probe(tmp_path / "report.json")
    double = probe.timed("double", lambda values: [2 * v for v in values], count_arg=0)
    assert double([1, 2, 3]) == [2, 4, 6]
    probe.enter_step("fit and index")
    report = probe.save(complete=True)
    assert report["profile"]["double"]["calls"] == 1
    assert report["profile"]["double"]["items"] == 3
    assert report["peak_rss_mb"] > 0 and report["last_step"] == "fit and index"
