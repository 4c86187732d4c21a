"""Shared, session-scoped fixtures: expensive things are built once per test run."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest

from retrieval.config import RetrievalConfig


@pytest.fixture(scope="session")
def default_config() -> RetrievalConfig:
    return RetrievalConfig()


@pytest.fixture(scope="session")
def default_artifacts(tmp_path_factory, default_config):
    """A real build on the embedded MovieLens data (real embeddings, ALS and FAISS index)."""
    from retrieval.build import build

    out = tmp_path_factory.mktemp("artifacts") / "default"
    manifest = build(default_config, out, progress=False)
    return out, manifest


@pytest.fixture(scope="session")
def default_recommender(default_artifacts):
    from retrieval.artifacts import load_recommender

    recommender, _ = load_recommender(default_artifacts[0])
    return recommender
