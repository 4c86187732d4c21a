"""FAISS inner-product search: exact for small catalogs, HNSW or IVF above a configurable size."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

# faiss logs at INFO each instruction set it could not load; that is noise, not news.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
import faiss  # noqa: E402

from retrieval.config import IndexConfig  # noqa: E402

log = logging.getLogger(__name__)


def index_kind(n_items: int, config: IndexConfig) -> str:
    if config.kind != "auto":
        return config.kind
    return "flat" if n_items <= config.exact_max_items else config.approximate


class VectorIndex:
    """A FAISS index over item vectors whose ids are catalog positions."""

    def __init__(self, index: faiss.Index, config: IndexConfig):
        self.index = index
        self.configure(config)

    @classmethod
    def build(cls, vectors: np.ndarray, config: IndexConfig) -> VectorIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        kind = index_kind(n, config)
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.hnsw_ef_construction
        else:
            lists = config.ivf_lists or max(1, min(n // 39, int(4 * math.sqrt(n))))
            index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT
            )
            sample = vectors[np.random.default_rng(0).permutation(n)[: lists * 64]]
            index.train(sample)
        index.add(vectors)
        log.info("built %s index over %d vectors of dimension %d", kind, n, dim)
        return cls(index, config)

    def configure(self, config: IndexConfig) -> None:
        """Apply the search-time knobs, which are not stored in the index file."""
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = config.hnsw_ef_search
        elif isinstance(self.index, faiss.IndexIVF):
            self.index.nprobe = config.ivf_probe

    @property
    def size(self) -> int:
        return self.index.ntotal

    @property
    def dim(self) -> int:
        return self.index.d

    def search(
        self, queries: np.ndarray, k: int, exclude: list[set[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, skipping each row's `exclude` ids.

        Fetches k plus the largest exclusion set in the batch, so one FAISS call serves the whole
        batch; rows with fewer than k eligible items are padded with id -1.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        exclude = exclude or [set()] * len(queries)
        fetch = min(self.size, k + max((len(e) for e in exclude), default=0))
        scores, ids = self.index.search(queries, fetch)
        out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        out_ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, excluded in enumerate(exclude):
            keep = [j for j, item in enumerate(ids[row]) if item >= 0 and item not in excluded][:k]
            out_scores[row, : len(keep)] = scores[row, keep]
            out_ids[row, : len(keep)] = ids[row, keep]
        return out_scores, out_ids

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, config: IndexConfig) -> VectorIndex:
        return cls(faiss.read_index(str(path)), config)
