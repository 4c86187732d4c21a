"""Settings a platform team overrides from Kubernetes arrive as strings and must keep their type."""

from __future__ import annotations

from serve.config import load_settings


def test_one_engine_setting_from_the_environment_keeps_its_type(monkeypatch):
    monkeypatch.setenv("RECSPLAIN_LLM__ENGINE_KWARGS__ENFORCE_EAGER", "false")
    monkeypatch.setenv("RECSPLAIN_LLM__ENGINE_KWARGS__MAX_NUM_SEQS", "8")
    monkeypatch.setenv("RECSPLAIN_LLM__ENGINE_KWARGS__DTYPE", "float32")
    kwargs = load_settings().llm.engine_kwargs
    assert kwargs["enforce_eager"] is False and kwargs["max_num_seqs"] == 8
    assert kwargs["dtype"] == "float32"
    assert kwargs["enable_prefix_caching"] is True, "the other keys of the YAML stay"


def test_the_default_dtype_follows_the_hardware():
    assert load_settings().llm.engine_kwargs["dtype"] == "auto"
