import numpy as np
import pytest

from retrieval.config import IndexConfig
from retrieval.index import VectorIndex, index_kind


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(50, dim))
    vectors = centers[rng.integers(0, 50, n)] + 0.3 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact_top_k(vectors, queries, k):
    return np.argsort(-(queries @ vectors.T), axis=1)[:, :k]


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_recall_against_exact(kind):
    vectors, queries = clustered(5000), clustered(200, seed=1)
    index = VectorIndex.build(vectors, IndexConfig(kind=kind, ivf_lists=64, ivf_probe=16))
    _, found = index.search(queries, 10)
    exact = exact_top_k(vectors, queries, 10)
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.9


def test_flat_index_is_exact_and_batched_equals_single():
    vectors, queries = clustered(2000), clustered(20, seed=2)
    index = VectorIndex.build(vectors, IndexConfig())
    _, batched = index.search(queries, 10)
    np.testing.assert_array_equal(batched, exact_top_k(vectors, queries, 10))
    for row, query in enumerate(queries):
        np.testing.assert_array_equal(index.search(query[None], 10)[1][0], batched[row])


def test_excluded_ids_never_come_back_and_k_is_still_filled():
    vectors, queries = clustered(500), clustered(3, seed=3)
    index = VectorIndex.build(vectors, IndexConfig())
    _, unfiltered = index.search(queries, 10)
    exclude = [set(unfiltered[0][:5].tolist()), set(), set(range(500)) - {7}]
    _, ids = index.search(queries, 10, exclude)
    assert not set(ids[0]) & exclude[0] and (ids[0] >= 0).all()
    np.testing.assert_array_equal(ids[1], unfiltered[1])
    assert ids[2][0] == 7 and (ids[2][1:] == -1).all()


def test_auto_kind_switches_to_approximate_above_the_exact_limit():
    config = IndexConfig(exact_max_items=1000, approximate="ivf")
    assert index_kind(1000, config) == "flat"
    assert index_kind(1001, config) == "ivf"


def test_search_settings_survive_save_and_load(tmp_path):
    vectors = clustered(1000)
    config = IndexConfig(kind="hnsw", hnsw_ef_search=77)
    VectorIndex.build(vectors, config).save(tmp_path / "index.faiss")
    loaded = VectorIndex.load(tmp_path / "index.faiss", config)
    assert loaded.index.hnsw.efSearch == 77 and loaded.size == 1000
