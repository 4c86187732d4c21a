"""One directory per built model, written atomically and checked when loaded.

Layout: `index.faiss`, `items.parquet`, `embeddings.npz` (cf, content, popularity),
`interactions.parquet` (stored users' histories), `itemitem.npz` (the served item-item weights:
a sparse matrix, or EASE's dense block over the items seen in train; empty for the hybrid) and
`manifest.json` (format version, data hash, parameters, library versions, created_at, evaluation
metrics, and a checksum per file).

A build is either written to a fixed directory (`write_artifacts`, swapped in atomically) or, for
roll-outs, as a new immutable version `ROOT/<UTC time>-<data_hash[:8]>` (`write_version`) that
never replaces an existing one. Its files are made read-only: a build is never edited in place.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from retrieval.config import RetrievalConfig
from retrieval.hybrid import ItemSpace
from retrieval.index import VectorIndex
from retrieval.itemitem import ItemItem
from retrieval.recommender import Recommender

log = logging.getLogger(__name__)

# 2: resolved feedback and domain, a weight column, top_share evidence; 3: the served model is
# chosen per build (config.model) and item-item weights are stored; 4: EASE may be stored whole,
# as a dense block (`active`, `dense`), and model.max_weights_mb replaces model.neighbors
FORMAT_VERSION = 4
INDEX, ITEMS, EMBEDDINGS, INTERACTIONS, ITEM_ITEM, MANIFEST = (
    "index.faiss",
    "items.parquet",
    "embeddings.npz",
    "interactions.parquet",
    "itemitem.npz",
    "manifest.json",
)
DATA_FILES = (INDEX, ITEMS, EMBEDDINGS, INTERACTIONS, ITEM_ITEM)
READ_ONLY = 0o444
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
    """Write everything into a temporary sibling directory, then swap it into place atomically.

    A failure at any point leaves `out` as it was (absent, or the previous build).
    """
    out = Path(out)
    staging, manifest = _stage(recommender, out.parent, out.name, manifest_fields)
    try:
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("wrote artifacts to %s", out)
    return manifest


def version_name(created_at: datetime, data_hash: str) -> str:
    """`20261130T020231Z-1a2b3c4d`: sorts by time, and says which data it was built from."""
    return f"{created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{data_hash[:8]}"


def write_version(recommender: Recommender, root: Path, **manifest_fields) -> tuple[Path, dict]:
    """Write a new immutable version under `root` and return its path; older versions stay.

    The rename into place refuses an existing non-empty directory, so a version is never
    overwritten, even by a concurrent build of the same data in the same second.
    """
    root = Path(root)
    staging, manifest = _stage(recommender, root, "version", manifest_fields)
    created_at = datetime.fromisoformat(manifest["created_at"])
    target = root / version_name(created_at, str(manifest.get("data_hash", "nodata")))
    try:
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
            raise ArtifactError(f"{target} already exists; versions are never overwritten") from exc
        raise
    log.info("wrote artifact version %s", target)
    return target, manifest


def _stage(
    recommender: Recommender, parent: Path, name: str, manifest_fields: dict
) -> tuple[Path, dict]:
    """A complete, read-only build in a hidden temporary directory of `parent`."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent))
    staging.chmod(0o755)  # mkdtemp gives 0700: a server running as another user could not read
    try:
        recommender.index.save(staging / INDEX)
        recommender.items.write_parquet(staging / ITEMS)
        space = recommender.space
        np.savez(
            staging / EMBEDDINGS, cf=space.cf, content=space.content, popularity=space.popularity
        )
        recommender.interactions.write_parquet(staging / INTERACTIONS)
        _save_item_item(staging / ITEM_ITEM, recommender)
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
            "files": {name: _sha256(staging / name) for name in DATA_FILES},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for file in staging.iterdir():
            file.chmod(READ_ONLY)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, manifest


def _swap_into_place(staging: Path, out: Path) -> None:
    """`out` always names a complete build: exchanged in one step where the OS can."""
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now the previous build
        return
    retired = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(retired)  # elsewhere there is a moment without `out`
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(first: Path, second: Path) -> bool:
    """Swap two directories atomically (Linux renameat2); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd = -100
    done = renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE)
    return done == 0


def read_manifest(path: Path) -> dict:
    """The manifest of a complete, unchanged build; else an ArtifactError saying what is wrong."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise ArtifactError(f"{path}: not an artifact directory")
    if not manifest_path.is_file():
        raise ArtifactError(f"{path}: no {MANIFEST}; build one with `recsplain build`")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:  # truncated, not JSON or not UTF-8
        raise ArtifactError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{manifest_path}: not a manifest (a JSON object)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{manifest_path}: format_version {manifest.get('format_version')!r}, this recsplain "
            f"reads {FORMAT_VERSION}; rebuild with `recsplain build`"
        )
    checksums = manifest.get("files")
    if not isinstance(checksums, dict) or set(checksums) != set(DATA_FILES):
        raise ArtifactError(f"{manifest_path}: its files should list {', '.join(DATA_FILES)}")
    if not isinstance(manifest.get("data_hash"), str) or not manifest["data_hash"]:
        raise ArtifactError(f"{manifest_path}: no data_hash")
    for name, expected in checksums.items():
        file = path / name
        if not file.is_file():
            raise ArtifactError(f"{path}: {name} is missing")
        if _sha256(file) != expected:
            raise ArtifactError(
                f"{file}: checksum differs from {MANIFEST}; the file was changed or truncated"
            )
    installed_versions = library_versions()
    for name, built_with in manifest.get("versions", {}).items():
        installed = installed_versions.get(name)
        if installed != built_with:
            log.warning("%s was built with %s %s, running %s", path, name, built_with, installed)
    return manifest


def read_items(path: Path) -> pl.DataFrame:
    """The catalog table of a build (ids, titles, genres, tags), without the index."""
    return pl.read_parquet(Path(path) / ITEMS)


def load_recommender(path: Path, expected_data_hash: str | None = None) -> tuple[Recommender, dict]:
    """Load and cross-check an artifact directory."""
    path = Path(path)
    manifest = read_manifest(path)
    if expected_data_hash and manifest.get("data_hash") != expected_data_hash:
        raise ArtifactError(
            f"{path}: built from data {manifest.get('data_hash')}, expected {expected_data_hash}"
        )
    config = RetrievalConfig.model_validate(manifest["config"])
    items = read_items(path)
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
    item_item = None
    if config.model.kind != "hybrid":
        weights, active = _load_item_item(path / ITEM_ITEM, items.height)
        item_item = ItemItem(weights, space.popularity, config.model.popularity_blend, active)
    return Recommender(items, space, index, interactions, config, item_item), manifest


def _save_item_item(path: Path, recommender: Recommender) -> None:
    """A dense block as `active` and `dense` arrays, a sparse matrix in scipy's own format (an
    empty one for a hybrid build)."""
    item_item, count = recommender.item_item, recommender.items.height
    if item_item is not None and item_item.active is not None:
        np.savez(path, active=item_item.active, dense=item_item.weights)
        return
    weights = item_item.weights if item_item is not None else sp.csr_matrix((count, count))
    sp.save_npz(path, weights.astype(np.float32))


def _load_item_item(path: Path, count: int) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray | None]:
    with np.load(path) as stored:
        if "dense" in stored.files:
            active, dense = stored["active"], stored["dense"]
            if dense.shape != (len(active), len(active)) or (
                active.size and (active.min() < 0 or active.max() >= count)
            ):
                raise ArtifactError(f"{path}: dense weights {dense.shape} do not fit {count} items")
            return dense, active
    weights = sp.load_npz(path).tocsr()
    if weights.shape != (count, count):
        raise ArtifactError(f"{path}: {weights.shape}, not items x items ({count})")
    return weights, None
