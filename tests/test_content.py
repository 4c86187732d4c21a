"""The embedding cache: a rebuild embeds only new or changed texts, and gets the same vectors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from retrieval import content
from retrieval.config import ContentConfig
from retrieval.content import embed_texts


class CountingEncoder:
    """Stands in for the sentence encoder: a unit vector per text, and a record of what it saw."""

    def __init__(self, fail_after_calls: int | None = None):
        self.texts: list[str] = []
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def encode(self, texts, **_options) -> np.ndarray:
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise RuntimeError("interrupted")
        self.calls += 1
        self.texts += texts
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little") for t in texts]
        rows = np.array([np.random.default_rng(s).standard_normal(8) for s in seeds])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def encoder(monkeypatch) -> CountingEncoder:
    fake = CountingEncoder()
    monkeypatch.setattr(content, "_encoder", lambda model: fake)
    return fake


TEXTS = ["Heat. Genres: crime", "Up. Genres: animation", "Heat. Genres: crime", "Alien"]


def test_a_rebuild_embeds_nothing_it_has_seen(tmp_path, encoder):
    config = ContentConfig(cache_dir=tmp_path)
    first = embed_texts(TEXTS, config)
    assert sorted(encoder.texts) == sorted(set(TEXTS))  # the duplicate is embedded once
    again = embed_texts(list(reversed(TEXTS)), config)
    assert encoder.calls == 1
    np.testing.assert_array_equal(again, first[::-1])
    assert first.dtype == np.float32 and np.allclose(np.linalg.norm(first, axis=1), 1.0)


def test_only_changed_texts_are_embedded_again(tmp_path, encoder):
    config = ContentConfig(cache_dir=tmp_path)
    embed_texts(TEXTS, config)
    encoder.texts.clear()
    changed = [*TEXTS[:3], "Alien. Genres: horror"]
    vectors = embed_texts(changed, config)
    assert encoder.texts == ["Alien. Genres: horror"]
    np.testing.assert_array_equal(vectors, embed_texts(changed, ContentConfig(cache_dir=None)))


def test_the_cache_is_keyed_by_model(tmp_path, encoder):
    embed_texts(TEXTS, ContentConfig(cache_dir=tmp_path))
    encoder.texts.clear()
    embed_texts(TEXTS, ContentConfig(cache_dir=tmp_path, model="some/other-model"))
    assert sorted(encoder.texts) == sorted(set(TEXTS))
    assert len(list(tmp_path.iterdir())) == 2  # a folder per model


def test_no_cache_dir_writes_nothing(tmp_path, encoder):
    embed_texts(TEXTS, ContentConfig(cache_dir=None))
    embed_texts(TEXTS, ContentConfig(cache_dir=None))
    assert len(encoder.texts) == 2 * len(TEXTS)
    assert not any(tmp_path.iterdir())


def test_an_interrupted_run_keeps_the_chunks_it_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(content, "CACHE_CHUNK", 2)
    texts = [f"item {i}" for i in range(7)]
    config = ContentConfig(cache_dir=tmp_path)
    failing = CountingEncoder(fail_after_calls=2)
    monkeypatch.setattr(content, "_encoder", lambda model: failing)
    with pytest.raises(RuntimeError, match="interrupted"):
        embed_texts(texts, config)
    resumed = CountingEncoder()
    monkeypatch.setattr(content, "_encoder", lambda model: resumed)
    vectors = embed_texts(texts, config)
    assert len(resumed.texts) == 3  # 4 of 7 were stored before the failure
    np.testing.assert_array_equal(vectors, embed_texts(texts, ContentConfig(cache_dir=None)))


def test_cached_vectors_match_the_real_encoder(tmp_path):
    """With the real model: cached, partly cached and uncached embeddings agree."""
    texts = ["Toy Story. Genres: animation, children", "Heat. Genres: crime", "Alien"]
    plain = embed_texts(texts, ContentConfig(cache_dir=None))
    embed_texts(texts[:1], ContentConfig(cache_dir=tmp_path))
    cached = embed_texts(texts, ContentConfig(cache_dir=tmp_path))
    assert cached.dtype == np.float32 and cached.shape == plain.shape
    np.testing.assert_allclose(cached, plain, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(cached, axis=1), 1.0, atol=1e-5)


def test_an_unwritable_cache_only_costs_the_caching(tmp_path, encoder, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    vectors = embed_texts(TEXTS, ContentConfig(cache_dir=blocked))
    assert vectors.shape == (len(TEXTS), 8)
    assert "not writable" in caplog.text
