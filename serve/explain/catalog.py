"""One build's catalog as the explanation stage needs it: its titles and its vocabulary, read
from the artifacts themselves (checked) without the index, and the `retriever` block that tells
which build answered.

The ingress makes one per build it explains with (`Catalog.load`); the Retriever, batch and the
CLI make their vocabulary from the recommender's catalog table the same way
(`Vocabulary.of_items`), so all agree on whether the catalog has labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrieval.artifacts import ArtifactError, read_items, read_manifest
from retrieval.config import RetrievalConfig
from serve.explain.vocabulary import Vocabulary


@dataclass(frozen=True)
class Catalog:
    """What the ingress needs of one build to verify explanations computed on it."""

    data_hash: str
    titles: list[tuple[str, str]]
    vocabulary: Vocabulary
    info: dict

    @classmethod
    def load(cls, path: Path, data_hash: str) -> Catalog:
        """From the artifacts themselves (checked), without the index: blocking, run it off
        the event loop."""
        manifest = read_manifest(path)
        if manifest["data_hash"] != data_hash:
            raise ArtifactError(f"{path}: built from data {manifest['data_hash']}, not {data_hash}")
        items = read_items(path)
        titles = items["title"].to_list()
        config = RetrievalConfig.model_validate(manifest["config"])
        vocabulary = Vocabulary.of_items(config.data, items)
        return cls(
            data_hash,
            list(zip(items["item_id"].to_list(), titles, strict=True)),
            vocabulary,
            build_info(path, manifest, vocabulary),
        )


def build_info(path: Path, manifest: dict, vocabulary: Vocabulary) -> dict:
    """The `retriever` block of /healthz and of every response: which build answered, and the
    model it serves (chosen on validation; the manifest's `selection` has every candidate)."""
    selection = manifest.get("selection") or {}
    return {
        "artifact": Path(path).name,
        "created_at": manifest["created_at"],
        "data_hash": manifest["data_hash"],
        "catalog": vocabulary.describe(),
        "model": selection.get("chosen", "as configured"),
    }
