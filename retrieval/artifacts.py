"""One directory per built model, written atomically and checked when loaded.

Layout: `index.faiss`, `items.parquet`, `embeddings.npz` (cf, content, popularity),
`interactions.parquet` (stored users' histories) and `manifest.json` (format version, data hash,
parameters, library versions, created_at, evaluation metrics, and a checksum per file).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl

from retrieval.config import RetrievalConfig
from retrieval.hybrid import ItemSpace
from retrieval.index import VectorIndex
from retrieval.recommender import Recommender

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: resolved feedback and domain, a weight column, top_share evidence
INDEX, ITEMS, EMBEDDINGS, INTERACTIONS, MANIFEST = (
    "index.faiss",
    "items.parquet",
    "embeddings.npz",
    "interactions.parquet",
    "manifest.json",
)
TRACKED_LIBRARIES = (
    "recsplain",
    "faiss-cpu",
    "implicit",
    "sentence-transformers",
    "numpy",
    "polars",
)


class ArtifactError(RuntimeError):
    """An artifact directory that cannot be loaded as it is; the message says what is wrong."""


def library_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_artifacts(recommender: Recommender, out: Path, **manifest_fields) -> dict:
    """Write everything into a temporary sibling directory, then rename it into place.

    A failure at any point leaves `out` as it was (absent, or the previous build).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp gives 0700: a server running as another user could not read
    try:
        recommender.index.save(staging / INDEX)
        recommender.items.write_parquet(staging / ITEMS)
        space = recommender.space
        np.savez(
            staging / EMBEDDINGS, cf=space.cf, content=space.content, popularity=space.popularity
        )
        recommender.interactions.write_parquet(staging / INTERACTIONS)
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": recommender.config.model_dump(mode="json"),
            "versions": library_versions(),
            "counts": {
                "items": recommender.items.height,
                "users": len(recommender.histories),
                "interactions": recommender.interactions.height,
                "dimension": recommender.index.dim,
            },
            **manifest_fields,
            "files": {
                name: _sha256(staging / name) for name in (INDEX, ITEMS, EMBEDDINGS, INTERACTIONS)
            },
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("wrote artifacts to %s", out)
    return manifest


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    retired = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def read_manifest(path: Path) -> dict:
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"{path}: no {MANIFEST}; build one with `recsplain build`")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{manifest_path}: format_version {manifest.get('format_version')!r}, this recsplain "
            f"reads {FORMAT_VERSION}; rebuild with `recsplain build`"
        )
    for name, expected in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            raise ArtifactError(f"{path}: {name} is missing")
        if _sha256(file) != expected:
            raise ArtifactError(f"{file}: checksum differs from {MANIFEST}; the file was changed")
    installed_versions = library_versions()
    for name, built_with in manifest.get("versions", {}).items():
        installed = installed_versions.get(name)
        if installed != built_with:
            log.warning("%s was built with %s %s, running %s", path, name, built_with, installed)
    return manifest


def load_recommender(path: Path, expected_data_hash: str | None = None) -> tuple[Recommender, dict]:
    """Load and cross-check an artifact directory."""
    path = Path(path)
    manifest = read_manifest(path)
    if expected_data_hash and manifest.get("data_hash") != expected_data_hash:
        raise ArtifactError(
            f"{path}: built from data {manifest.get('data_hash')}, expected {expected_data_hash}"
        )
    config = RetrievalConfig.model_validate(manifest["config"])
    items = pl.read_parquet(path / ITEMS)
    with np.load(path / EMBEDDINGS) as stored:
        space = ItemSpace(
            cf=stored["cf"], content=stored["content"], popularity=stored["popularity"]
        )
    index = VectorIndex.load(path / INDEX, config.index)
    if not (items.height == len(space.cf) == len(space.content) == index.size):
        raise ArtifactError(
            f"{path}: {items.height} items, {len(space.cf)} embeddings and {index.size} indexed "
            "vectors do not match"
        )
    if index.dim != space.dim:
        raise ArtifactError(f"{path}: index dimension {index.dim}, embeddings give {space.dim}")
    interactions = pl.read_parquet(path / INTERACTIONS)
    return Recommender(items, space, index, interactions, config), manifest
