"""The lean local profile (serve/local_profile.py): which processes may wait for the engine,
and the sweep that lowers their priority, on real processes named as Ray and vLLM name theirs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from serve import local_profile
from serve.config import LocalSettings
from serve.local_profile import Deprioritizer, background_role, role


def test_role_names_every_serve_process():
    assert role("ray::ServeReplica:recsplain:Retriever.handle_request") == "Retriever"
    assert role("ray::ServeReplica:recsplain:Ingress") == "Ingress"
    assert role("ray::ServeReplica:recsplain:RecsplainLLMServer:recsplain-llm") == ("llm_replica")
    assert role("VLLM::EngineCore_DP0") == "llm_engine"
    assert role("ray::ProxyActor") == "proxy"
    assert role("/usr/bin/python raylet") is None


@pytest.mark.parametrize(
    "title",
    [
        "VLLM::EngineCore_DP0",
        "VLLM::Worker_TP0",
        "ray::ServeReplica:recsplain:RecsplainLLMServer:recsplain-llm",
        "/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet --node_id=1",
        "ray::IDLE",  # may become the next engine's replica: it would inherit a low priority
        "/usr/bin/python something_else.py",
    ],
)
def test_the_engine_and_what_may_become_it_keep_their_priority(title):
    assert background_role(title) is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ray::ServeReplica:recsplain:Ingress", "Ingress"),
        ("ray::ServeReplica:recsplain:ArtifactRegistry", "ArtifactRegistry"),
        ("ray::ServeController.listen_for_change", "controller"),
        ("ray::ProxyActor", "proxy"),
        (
            "/venv/lib/python3.11/site-packages/ray/core/src/ray/gcs/gcs_server --x",
            "ray:gcs_server",
        ),
        ("python -u /venv/ray/dashboard/agent.py DashboardAgent", "ray:DashboardAgent"),
    ],
)
def test_the_rest_may_wait(title, expected):
    assert background_role(title) == expected


def test_prepare_sets_only_what_is_unset(monkeypatch):
    monkeypatch.delenv(local_profile.CONTROL_LOOP_ENV, raising=False)
    args = {"rollout": {"timeout_s": 30}}
    lean = local_profile.prepare(LocalSettings(), args)
    assert lean["rollout"] == {"poll_s": 10.0, "timeout_s": 30}
    assert args == {"rollout": {"timeout_s": 30}}, "the caller's args are not changed"
    assert os.environ[local_profile.CONTROL_LOOP_ENV] == "1.0"
    assert local_profile.prepare(LocalSettings(), {"rollout": {"poll_s": 2}})["rollout"] == {
        "poll_s": 2
    }
    monkeypatch.setenv(local_profile.CONTROL_LOOP_ENV, "0.5")
    local_profile.prepare(LocalSettings(), {})
    assert os.environ[local_profile.CONTROL_LOOP_ENV] == "0.5", "the environment wins"
    assert local_profile.prepare(LocalSettings(lean=False), args) is args
    assert local_profile.deprioritize(LocalSettings(lean=False)) is None


def sleeper(title: str) -> subprocess.Popen:
    """A child process whose command line starts with `title`, as Ray's and vLLM's do."""
    code = "import time; time.sleep(60)"
    return subprocess.Popen([title, "-c", code], executable=sys.executable)


def test_a_sweep_lowers_the_others_and_leaves_the_engine_alone():
    titles = ["ray::ServeReplica:recsplain:Ingress", "VLLM::EngineCore_DP0", "ray::IDLE"]
    children = [sleeper(title) for title in titles]
    try:
        sweeper = Deprioritizer(niceness=7)
        # A child may not be named yet: sweep until the one to lower is found.
        for _ in range(50):
            if sweeper.sweep():
                break
            time.sleep(0.1)
        nice = [psutil.Process(child.pid).nice() for child in children]
        assert nice == [max(7, os.nice(0)), os.nice(0), os.nice(0)]
        assert sweeper.sweep() == [], "each process is lowered once"
    finally:
        for child in children:
            child.kill()
            child.wait()
