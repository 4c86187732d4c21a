"""The benchmarks' arithmetic, event parsing, request mix, cancel storm and results assembly (pure
logic and mocked HTTP; the served app is measured by the benchmarks themselves)."""

import asyncio
import json
from collections import Counter
from types import SimpleNamespace

import httpx
import pytest
from test_bench_smoke import CONTRACT

from benchmarks import llm_stage, run, served_k3, soak, storm
from benchmarks import report as reporting
from benchmarks.loadgen import (
    LoadResult,
    Sample,
    combine,
    count_explanation,
    percentile,
    request_mix,
    run_concurrency,
    send,
    share,
    sse_events,
)
from serve.hardware import resolve_dtype


def explanation(source="llm", reason=None, cached=False, text="A film you will like."):
    return {
        "text": text,
        "cited_item_ids": ["1"],
        "source": source,
        "language": "en",
        "reason": reason,
        "cached": cached,
    }


def words(text: str) -> int:
    return len(text.split())


def test_summary_uses_vllm_bench_names_and_counts_only_successes():
    samples = [
        Sample(
            200,
            1.0,
            ttft_s=0.2,
            output_tokens=9,
            explanations=Counter(llm=2, template=1),
            reasons=Counter(deadline=1),
            cached=1,
        ),
        Sample(
            200,
            3.0,
            ttft_s=0.6,
            output_tokens=5,
            explanations=Counter(template=1),
            reasons=Counter(overloaded=1),
        ),
        Sample(503, 0.01, explanations=Counter(llm=5), cached=5),
    ]
    summary = LoadResult(samples, duration_s=2.0).summary()
    assert summary["completed"] == 2 and summary["errors"] == {"503": 1}
    assert summary["request_throughput"] == 1.0
    assert summary["output_throughput"] == 7.0
    assert summary["median_e2el_ms"] == pytest.approx(2000.0)
    assert summary["median_ttft_ms"] == pytest.approx(400.0)
    assert summary["p99_ttft_ms"] == pytest.approx(596.0)  # linear between 200 and 600
    # TPOT: (1.0 - 0.2) / 8 = 100 ms and (3.0 - 0.6) / 4 = 600 ms
    assert summary["median_tpot_ms"] == pytest.approx(350.0)
    assert summary["template_share"] == 0.5  # 2 templates of 4 explanations
    # explained-traffic figures, on successful requests only
    assert summary["explanations"] == 4 and summary["llm_explanations"] == 2
    assert summary["llm_explanations_per_s"] == 1.0
    assert summary["llm_share"] == 0.5
    assert summary["template_reasons"] == {"deadline": 1, "overloaded": 1}
    assert summary["cached_explanations"] == 1 and summary["cache_hit_rate"] == 0.25


def test_summary_of_nothing_has_no_percentiles_or_shares():
    summary = LoadResult([Sample(599, 1.0)], duration_s=1.0).summary()
    assert summary["completed"] == 0 and summary["errors"] == {"599": 1}
    assert summary["median_e2el_ms"] is None and summary["median_ttft_ms"] is None
    assert summary["llm_share"] is None and summary["cache_hit_rate"] is None
    assert summary["template_reasons"] == {} and summary["llm_explanations_per_s"] == 0.0


def test_percentile_share_and_ratio():
    assert percentile([], 50) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile((x for x in [10.0, 20.0]), 99) == pytest.approx(19.9)
    assert percentile([5.0], 99) == 5.0
    assert share(1, 3) == 0.3333 and share(1, 0) is None
    assert run.ratio(3, 2) == 1.5
    assert run.ratio(3, 0) is None and run.ratio(None, 2) is None


def test_combine_weighs_runs_by_their_counts():
    one = LoadResult(
        [Sample(200, 1.0, explanations=Counter(llm=3, template=1), reasons=Counter(capped=1))],
        duration_s=1.0,
    ).summary()
    two = LoadResult(
        [
            Sample(
                200,
                1.0,
                explanations=Counter(llm=1, template=3),
                reasons=Counter(capped=1, deadline=2),
                cached=2,
            )
        ],
        duration_s=3.0,
    ).summary()
    both = combine([one, two])
    assert both["explanations"] == 8
    assert both["llm_explanations_per_s"] == 1.0  # 4 LLM explanations in 4 s
    assert both["llm_share"] == 0.5
    assert both["template_reasons"] == {"capped": 2, "deadline": 2}
    assert both["cache_hit_rate"] == 0.25


def test_count_explanation_reads_source_reason_and_cache_flag():
    sample = Sample(200, 0.0)
    count_explanation(sample, None)
    count_explanation(sample, explanation("llm", cached=True, text="one two three"), words)
    count_explanation(sample, explanation("template", "no_evidence"))
    count_explanation(sample, {"text": "old server", "source": "template"})  # no reason/cached
    assert sample.explanations == Counter(llm=1, template=2)
    assert sample.reasons == Counter(no_evidence=1, none=1)
    assert sample.cached == 1 and sample.output_tokens == 3


def test_sse_events_split_on_blank_lines():
    lines = [
        ": a comment",
        "event: recommendations",
        'data: {"items": []}',
        "",
        "event: explanation",
        'data: {"a":',
        "data: 1}",
        "",
        "",
        'data: {"plain": true}',
        "",
        "event: done",
        "data: {}",  # the last event, cut before its blank line
    ]
    events = list(sse_events(lines))
    assert events == [
        ("recommendations", '{"items": []}'),
        ("explanation", '{"a":\n1}'),
        ("message", '{"plain": true}'),
        ("done", "{}"),
    ]
    assert json.loads(events[1][1]) == {"a": 1}


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def stream_body() -> bytes:
    return "".join(
        [
            sse("recommendations", {"items": [{"rank": 1}, {"rank": 2}, {"rank": 3}]}),
            sse("explanation", {"rank": 2, "explanation": explanation("llm", text="a b c d")}),
            sse("explanation", {"rank": 1, "explanation": explanation("llm", cached=True)}),
            sse("explanation", {"rank": 3, "explanation": explanation("template", "capped")}),
            sse("done", {"request_id": "x"}),
        ]
    ).encode()


def test_send_times_the_first_explanation_event_of_a_stream():
    async def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("user_id") == "gone":
            return httpx.Response(404, json={"error": {"code": "unknown_user"}})
        if body.get("user_id") == "broken":
            raise httpx.ConnectError("refused")
        if body.get("user_id") == "proxy":  # an answer that is not the API's JSON
            return httpx.Response(408, text="timed out")
        if body.get("stream"):
            return httpx.Response(
                200, content=stream_body(), headers={"content-type": "text/event-stream"}
            )
        items = [{"explanation": explanation("template", "deadline")}, {"explanation": None}]
        return httpx.Response(200, json={"items": items})

    async def main():
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(base_url="http://app", transport=transport) as client:
            return [
                await send(client, {"user_id": "1", "stream": True}, words),
                await send(client, {"user_id": "1"}, words),
                await send(client, {"user_id": "gone", "stream": True}, None),
                await send(client, {"user_id": "broken"}, None),
                await send(client, {"user_id": "proxy"}, None),
                await send(client, {"user_id": "gone"}, None),
            ]

    streamed, plain, missing, broken, proxy, gone = asyncio.run(main())
    assert streamed.status == 200
    assert streamed.ttft_s is not None and 0 < streamed.ttft_s <= streamed.e2e_s
    assert streamed.explanations == Counter(llm=2, template=1)
    assert streamed.reasons == Counter(capped=1) and streamed.cached == 1
    assert streamed.output_tokens == 4 + 5  # counted on LLM text only
    assert plain.status == 200 and plain.ttft_s is None
    assert plain.explanations == Counter(template=1) and plain.reasons == Counter(deadline=1)
    assert missing.status == 404 and missing.ttft_s is None and not missing.explanations
    assert broken.status == 599 and broken.error is None
    # a failure says which error it was, so a test's message can name the cause
    assert missing.error == gone.error == "unknown_user" and plain.error is None
    assert proxy.status == 408 and proxy.error == "not_json"
    assert soak.outcome([missing, gone, proxy, plain])["errors"] == {
        "404 unknown_user": 2,
        "408 not_json": 1,
    }


def test_measured_requests_start_after_the_warmup_bodies():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["user_id"])
        return httpx.Response(200, json={"items": []})

    bodies = [{"user_id": str(i)} for i in range(5)]
    result = asyncio.run(
        run_concurrency(
            "http://app", bodies, 1, 10, 4, warmup=2, transport=httpx.MockTransport(handler)
        )
    )
    assert seen == ["0", "1", "2", "3", "4", "0"]  # warm-up 0, 1; measured 2, 3, 4, 0
    assert len(result.samples) == 4


def test_request_mix_has_known_and_anonymous_users():
    bodies = request_mix(["1", "2"], [["318", "296"]], k=5, explain=True, stream=True, size=400)
    anonymous = [b for b in bodies if "history" in b]
    assert 0.2 < len(anonymous) / len(bodies) < 0.4
    assert all(("user_id" in b) != ("history" in b) for b in bodies)
    assert all(b["k"] == 5 and b["stream"] for b in bodies)
    other = request_mix(["1", "2"], [["318", "296"]], k=5, explain=True, stream=True, seed=1)
    assert other != bodies[: len(other)]  # each explained run gets its own sequence
    assert not any("deadline_ms" in b for b in bodies)  # the configured deadline, as users get
    quick = request_mix(["1"], [["318"]], k=3, explain=True, stream=True, deadline_ms=8000)
    assert all(b["deadline_ms"] == 8000 for b in quick)
    plain = request_mix(["1"], [["318"]], k=3, explain=False, stream=False, deadline_ms=8000)
    assert not any("deadline_ms" in b for b in plain)  # nothing to explain, no deadline


# --- cancel storm


def probe(start_s, seconds, ok=True, reasons=None):
    return storm.Probe(start_s, 0.1, seconds - 0.1, 200 if ok else 503, 200, {}, reasons or {})


def test_recovery_bound_is_twice_idle_or_one_second_more():
    assert storm.recovery_bound(0.2) == 1.2
    assert storm.recovery_bound(3.0) == 6.0


def test_recovery_is_the_start_of_the_first_probe_within_the_bound():
    probes = [
        probe(0.0, 9.0),  # slow
        probe(9.2, 1.0, ok=False),  # fast but failed
        probe(10.4, 1.0, reasons={"overloaded": 3}),  # fast but shed: not recovered
        probe(11.6, 2.9),  # within max(2 x 1.5, 1.5 + 1) = 3.0
        probe(14.7, 1.0),
    ]
    assert storm.recovery(1.5, probes, 120) == {
        "recovered": True,
        "recovery_s": 11.6,
        "bound_s": 3.0,
        "probes_to_recover": 4,
    }
    assert storm.recovery(1.5, probes, 11.0)["recovered"] is False  # too late to count
    assert storm.recovery(1.5, [], 120) == {
        "recovered": False,
        "recovery_s": None,
        "bound_s": 3.0,
        "probes_to_recover": None,
    }
    assert storm.recovery(1.5, [probe(0.0, 1.0)], 120)["recovery_s"] == 0.0


def test_fresh_users_skip_everyone_the_run_explains():
    assert storm.fresh_users(["1", "2", "3", "4"], {"4", "2"}) == ["3", "1"]


class FakeApp:
    """The served app as the cancel storm sees it: after the storm, the first `busy` probes are
    shed (templates with reason `overloaded`), then it is back to normal."""

    def __init__(self, busy: int):
        self.busy = busy
        self.stormed = False
        self.storm_bodies = []
        self.probe_users = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == "/v1/chat/completions":
            assert body["max_tokens"] == 5 and body["model"] == "m"
            return httpx.Response(200, json={"choices": [{"message": {"content": "Drama"}}]})
        if "deadline_ms" in body:
            self.storm_bodies.append(body)
            self.stormed = True
            items = [{"explanation": explanation("template", "deadline")}] * body["k"]
            return httpx.Response(200, json={"items": items})
        assert body["k"] == 3
        self.probe_users.append(body["user_id"])
        await asyncio.sleep(0.01)
        if self.stormed and self.busy > 0:
            self.busy -= 1
            items = [{"explanation": explanation("template", "overloaded")}] * 3
        else:
            items = [{"explanation": explanation("llm")}] * 3
        return httpx.Response(200, json={"items": items})


def test_cancel_storm_probes_until_recovered():
    app = FakeApp(busy=2)
    users = [str(i) for i in range(20)]
    result = asyncio.run(
        storm.cancel_storm(
            "http://app",
            "m",
            users,
            requests=4,
            idle_probes=2,
            max_wait_s=30,
            pause_s=0,
            transport=httpx.MockTransport(app),
        )
    )
    assert app.storm_bodies == [
        {"user_id": user, "k": 20, "deadline_ms": 300} for user in ["0", "1", "2", "3"]
    ]
    # every probe asks for a user of its own, none of the storm's
    assert app.probe_users == [str(i) for i in range(4, 9)]
    assert result["recovered"] is True and result["probes_to_recover"] == 3
    assert 0 <= result["recovery_s"] < 5
    assert result["storm_statuses"] == {"200": 4}
    assert result["storm_template_reasons"] == {"deadline": 80}
    assert len(result["idle_probes"]) == 2 and len(result["probes"]) == 3
    assert [p["ok"] for p in result["probes"]] == [False, False, True]
    json.dumps(result)  # goes into results.json as is


def test_cancel_storm_gives_up_after_the_wait():
    app = FakeApp(busy=10**6)
    result = asyncio.run(
        storm.cancel_storm(
            "http://app",
            "m",
            [str(i) for i in range(500)],
            requests=2,
            idle_probes=1,
            max_wait_s=0.2,
            pause_s=0.02,
            transport=httpx.MockTransport(app),
        )
    )
    assert result["recovered"] is False and result["recovery_s"] is None
    assert 1 <= len(result["probes"]) < 100


def test_cancel_storm_needs_enough_users():
    with pytest.raises(ValueError, match="needs at least"):
        asyncio.run(storm.cancel_storm("http://app", "m", ["1", "2"], requests=4))


# --- dtype rule


def test_engine_dtype_follows_the_serving_rule():
    def settings(dtype, accelerator):
        return SimpleNamespace(
            llm=SimpleNamespace(engine_kwargs={"dtype": dtype}, accelerator=accelerator)
        )

    assert llm_stage.engine_dtype(settings("auto", "gpu")) == "bfloat16"
    assert llm_stage.engine_dtype(settings("auto", "cpu")) == resolve_dtype("auto", "cpu")
    assert llm_stage.engine_dtype(settings("float16", "cpu")) == "float16"
    unset = SimpleNamespace(llm=SimpleNamespace(engine_kwargs={}, accelerator="cpu"))
    assert llm_stage.engine_dtype(unset) == resolve_dtype("auto", "cpu")


def test_torch_dtype_names():
    import torch

    assert llm_stage.torch_dtype("float32") is torch.float32
    assert llm_stage.torch_dtype("bfloat16") is torch.bfloat16
    assert llm_stage.torch_dtype("half") is torch.float16
    with pytest.raises(ValueError, match="no torch dtype"):
        llm_stage.torch_dtype("auto")


def test_machine_names_the_cpu_isa_and_the_engine_dtype():
    from serve.config import load_settings
    from serve.hardware import cpu_info

    settings = load_settings()
    found = run.machine(settings)
    cpu = cpu_info()
    assert found["cpu_model"] == cpu.model and found["cpu_flags"] == list(cpu.flags)
    assert found["native_bf16"] is cpu.native_bf16
    assert found["engine_dtype"] == llm_stage.engine_dtype(settings)
    assert found["engine_dtype"] in ("float32", "bfloat16", "float16")
    json.dumps(found)


# --- results assembly (what run_suite does once it has measured)


def summary(seconds, status=200, ttft=None, **explanations):
    samples = [Sample(status, s, ttft_s=ttft and ttft * s) for s in seconds]
    for sample in samples:
        sample.explanations = Counter(explanations)
        sample.reasons = Counter(deadline=explanations.get("template", 0))
    return LoadResult(samples, duration_s=sum(seconds)).summary()


def test_versus_bare_compares_every_level_both_apps_ran():
    sweep = {1: summary([0.02] * 50), 16: summary([0.1] * 100)}
    bare = {1: summary([0.018] * 50), 16: summary([0.08] * 100)}
    versus = run.versus_bare(sweep, bare, 0.9)
    assert versus["ratio_c1"] == 0.9 and versus["ratio_c16"] == 0.8
    assert versus["min_ratio"] == 0.8 and versus["goal_met"] is False
    assert versus["levels"]["1"]["bare"] == {
        "requests_per_s": 55.556,
        "p50_ms": 18.0,
        "p99_ms": 18.0,
    }
    missing = run.versus_bare(sweep, None, 0.9)
    assert missing["levels"] == {} and missing["ratio_c1"] is None
    assert missing["goal_met"] is None


def measured() -> run.Measured:
    streamed = summary([8.0, 10.0], ttft=0.5, llm=1, template=4)
    levels = {
        1: summary([3.0, 4.0], ttft=0.4, llm=2, template=1),
        4: summary([6.0, 9.0], ttft=0.6, llm=1, template=2),
    }
    sweep = {c: summary([0.02 * c] * 20) for c in (1, 4, 16)}
    bare = {c: summary([0.019 * c] * 20) for c in (1, 4, 16)}
    idle = [probe(0.0, 2.0)]
    probes = [probe(0.0, 9.0), probe(9.2, 2.5)]
    cancel = {
        "requests": 4,
        "k": 20,
        "deadline_ms": 300,
        "max_wait_s": 120,
        "idle_probe_s": 2.0,
        **storm.recovery(2.0, probes, 120),
        "idle_probes": [p.as_dict() for p in idle],
        "probes": [p.as_dict() for p in probes],
    }
    return run.Measured(
        seed={"output_tokens": 100, "seconds": 10.0, "dtype": "float32", "device": "cpu"},
        offline={"output_tokens": 900, "seconds": 10.0, "dtype": "float32"},
        no_prefix={"output_tokens": 450, "seconds": 10.0, "dtype": "float32"},
        served={"output_tokens": 850, "seconds": 10.0},
        prompts=30,
        sweep=sweep,
        bare_sweep=bare,
        streamed=streamed,
        explained=levels,
        arrivals=summary([0.01] * 10),
        cancel_storm=cancel,
        own_list={
            "k": 3,
            "lists": "popularity, unseen",
            "levels": {"1": {"explanations_per_s": 0.11, "llm_share": 0.8333}},
        },
    )


def test_assembled_results_keep_the_contract_and_render(tmp_path):
    from serve.config import load_settings

    plan = run.SMOKE
    start = {"machine": run.machine(load_settings()), "git_sha": "abc", "plan": vars(plan)}
    m = measured()
    results = run.assemble(start, plan, "models/x", m)
    for section, keys in CONTRACT.items():
        assert keys <= set(results[section]), (section, keys - set(results[section]))
    stage = results["llm_stage"]
    assert stage["served_vs_seed"] == 8.5 and stage["seed_dtype"] == "float32"
    assert results["prefix_caching"]["gain"] == 2.0
    explained = results["explained"]
    assert explained["ttft_c1_p50_ms"] == pytest.approx(1400.0)  # 0.4 x 3.5 s
    assert explained["llm_share"] == 0.5 and explained["template_reasons"] == {"deadline": 6}
    assert explained["llm_explanations_per_s"] == pytest.approx(6 / 22, abs=1e-3)
    assert results["explain_stream"]["llm_share"] == 0.2
    versus = results["recommend_vs_bare"]
    assert versus["measured"] and set(versus["levels"]) == {"1", "4", "16"}
    assert versus["ratio_c16"] == 0.95 and versus["goal_met"] is True
    assert results["cancel_storm"]["recovery_s"] == 9.2
    reporting.write_outputs(results, m.sweep, m.streamed, tmp_path, m.bare_sweep)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["recommend_vs_bare"]["levels"]["1"]["ratio"] == 0.95
    report = (tmp_path / "report.md").read_text()
    machine = results["machine"]
    assert machine["cpu_model"] in report and f"Engine dtype {machine['engine_dtype']}" in report
    assert "native bf16" in report and "seed HF generate in float32 on cpu" in report
    assert "first explanation p50 / p99 ms" in report and "seconds to recovery | 9.2" in report
    assert "| 16 | " in report  # the recsplain vs bare table
    assert results["own_list"]["levels"]["1"]["explanations_per_s"] == 0.11
    assert "POST /v1/explanations, k=3, concurrency 1: explanations/s; LLM share | 0.11" in report
    for name in ("throughput_vs_concurrency.png", "latency_cdf.png", "llm_stage.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_report_says_when_nothing_recovered_or_no_bare_app():
    from serve.config import load_settings

    m = measured()
    m.bare_sweep = None
    m.cancel_storm.update(storm.recovery(2.0, [probe(0.0, 9.0)], 120))
    start = {"machine": run.machine(load_settings()), "git_sha": None, "plan": {}}
    results = run.assemble(start, run.SMOKE, "models/x", m)
    text = reporting.report(results)
    assert "not recovered within 120 s" in text
    assert "bare Ray Serve app was not measured" in text


def test_plans_measure_the_bare_app_at_1_and_16_and_explained_at_1_and_4():
    for plan in (run.FULL, run.SMOKE):
        assert {1, 16} <= set(plan.recommend_levels)
        assert set(plan.sweep) <= set(plan.recommend_levels)
        assert plan.explained_levels == (1, 4) and plan.explained_k == 3
    assert run.FULL.storm_requests == 4 and run.FULL.storm_max_wait_s == 120


# --- served k=3 against offline


def test_served_k3_summary_counts_explanations_per_second_over_all_requests():
    rows = [
        {
            "first_s": 4.0,
            "times_s": [4.0, 6, 9],
            "total_s": 10.0,
            "sources": ["llm", "llm", "template"],
        },
        {
            "first_s": 8.0,
            "times_s": [8.0, 9, 12],
            "total_s": 20.0,
            "sources": ["llm", "template", "template"],
        },
    ]
    found = served_k3.summary(rows)
    assert found["users"] == 2 and found["llm_share"] == 0.5
    assert found["first_explanation_s_p50"] == 6.0 and found["request_s_p50"] == 15.0
    assert found["explanations_per_s"] == 0.2  # 6 in 30 s
    assert found["llm_explanations_per_s"] == 0.1


def test_served_k3_first_llm_explanation_skips_instant_templates():
    """An `overloaded` template comes at once; the first LLM-written one is what users wait for."""
    row = {"times_s": [0.05, 0.05, 20.0], "sources": ["template", "template", "llm"]}
    none = {"times_s": [0.05, 0.05, 0.05], "sources": ["template"] * 3}
    assert served_k3.first_llm_s(row) == 20.0
    found = served_k3.summary(
        [{**row, "first_s": 0.05, "total_s": 20.0}] * 2
        + [{**none, "first_s": 0.05, "total_s": 0.05}]
    )
    assert found["first_explanation_s_p50"] == 0.05
    assert found["first_llm_explanation_s_p50"] == 20.0 and found["requests_without_llm"] == 1
    found = served_k3.summary(
        [{**none, "first_s": 0.05, "total_s": 0.05}] * 2
        + [{**row, "first_s": 0.05, "total_s": 20.0}]
    )
    assert found["first_llm_explanation_s_p50"] is None  # most requests got none


def test_served_k3_reads_the_verifiers_reasons_from_metrics():
    exposition = """# HELP recsplain_verifier_failures_total LLM explanations the verifier rejected
# TYPE recsplain_verifier_failures_total counter
recsplain_verifier_failures_total{reason="wrong_genre"} 4.0
recsplain_verifier_failures_total{reason="not_json"} 1.0
recsplain_verifier_failures_created{reason="not_json"} 1.7e9
# HELP recsplain_explanations_total Explanations by source
# TYPE recsplain_explanations_total counter
recsplain_explanations_total{source="llm"} 9.0
# HELP recsplain_llm_retries_skipped_total Retries not started
# TYPE recsplain_llm_retries_skipped_total counter
recsplain_llm_retries_skipped_total 2.0
"""
    assert served_k3.counters(exposition, served_k3.COUNTERS) == {
        "recsplain_verifier_failures": {"wrong_genre": 4.0, "not_json": 1.0},
        "recsplain_llm_retries_skipped": {"all": 2.0},
    }


# --- make test's duration, read from the log of a fresh-clone run


def test_make_test_figures_come_from_the_log():
    from benchmarks.make_test import parse

    log = """tests/test_a.py ..F
============================= slowest 25 durations =============================
466.66s call     tests/test_bench_smoke.py::test_bench_smoke_writes_the_results_contract
18.44s setup    tests/test_batch.py::test_the_job
===== 2 failed, 1154 passed, 2 skipped, 41 warnings in 2187.50s (0:36:27) ======

real	41m20.971s
user	16m10.684s
"""
    figures = parse(log)
    assert (figures["passed"], figures["failed"], figures["skipped"]) == (1154, 2, 2)
    assert figures["pytest_seconds"] == 2187.5 and figures["total_seconds"] == 2481.0
    assert figures["slowest"][0] == {
        "seconds": 466.66,
        "phase": "call",
        "test": "tests/test_bench_smoke.py::test_bench_smoke_writes_the_results_contract",
    }
    assert len(figures["slowest"]) == 2
    assert figures["by_module"] == {
        "tests/test_bench_smoke.py": 466.66,
        "tests/test_batch.py": 18.44,
    }


def test_clients_send_the_api_key_when_one_is_set(monkeypatch):
    from benchmarks.loadgen import api_headers

    monkeypatch.delenv("RECSPLAIN_API_KEY", raising=False)
    assert api_headers() is None
    monkeypatch.setenv("RECSPLAIN_API_KEY", "k")
    assert api_headers() == {"Authorization": "Bearer k"}
