"""`recsplain explain-batch --in PAIRS`: a table of (user_id, item_id) rows explained on Ray Data.

Three stages, each an actor pool that Ray places on any node of the cluster:
- evidence (CPU): the recommender, loaded once per actor, turns each row into the task the server
  would build for that user and item, or the row's `error` (unknown user or item);
- explain (the LLM's node, a GPU there): vLLM's engine with the server's `ExplanationPolicy` (cache,
  LLM, verifier, the stricter retry, template with `reason`), so batch and server agree;
- the driver writes what comes out.

Why not `ray.data.llm`'s processor for the middle stage: it maps one prompt to one completion,
while the policy is a conversation (a verified first answer, else a stricter retry, else a
template) that shares one call among equal evidence. Split over two processors it needs two
engines alive at once, or a second policy. One actor with one engine runs the policy unchanged.

Nothing lost, nothing twice: every input row gets its number (`row`); each block that comes out
is written as one part file, atomically (written aside, then renamed), under `OUT.parts/`. A job
started again with the same output skips the rows its parts hold, and when every row is there,
the parts are joined in input order into OUT and removed. A part is never half there, and a row
is in at most one part, because only rows that no part holds are sent through the stages.

One machine stays easy: without a cluster (`RAY_ADDRESS` unset), `ray.init()` starts a local one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
import pyarrow as pa

from serve.config import RecsplainSettings
from serve.explain.explanation import Explanation
from serve.explain.vocabulary import UNDECLARED

log = logging.getLogger(__name__)

ROW = "row"
OUTPUT_COLUMNS = ("explanation", "source", "reason", "cited_item_ids", "error")
# Where each row was computed: counted into the summary, never written.
NODE_COLUMNS = ("_evidence_node", "_explain_node")


class StaleParts(ValueError):
    """The parts beside OUT were written for another input or build."""


def _node() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()[:12]


class EvidenceStage:
    """Rows to pickled explanation tasks (without the catalog's vocabulary, which the explain
    stage has), or to the row's error: `serve.explain.batch.build_tasks`, as the server does."""

    def __init__(self, settings: dict):
        from retrieval.artifacts import load_recommender
        from serve.explain.tasks import TaskFactory

        resolved = RecsplainSettings(**settings)
        recommender, _ = load_recommender(resolved.artifacts_path())
        self.factory = TaskFactory(recommender)
        self.node = _node()

    def __call__(self, batch: pa.Table) -> pa.Table:
        from serve.explain.batch import build_tasks

        frame = pl.from_arrow(batch)
        tasks, errors = build_tasks(frame, self.factory)
        blobs = [
            None if task is None else pickle.dumps(replace(task, vocabulary=UNDECLARED))
            for task in tasks
        ]
        return (
            batch.append_column("task", pa.array(blobs, pa.binary()))
            .append_column("error", pa.array(errors, pa.string()))
            .append_column("_evidence_node", pa.array([self.node] * batch.num_rows, pa.string()))
        )


class ExplainStage:
    """One vLLM engine and the server's policy over it; each block's tasks are explained all
    at once, so continuous batching fills the engine and equal evidence shares one call.

    `__call__` is a coroutine, so Ray Data runs it on one event loop of its own, and the actor
    takes `batch.explain_blocks_in_flight` blocks at a time: the next block's calls fill the
    engine while the last one's slow answers and retries drain (one block at a time left the
    engine half idle at each block's tail)."""

    def __init__(self, settings: dict, data_hash: str):
        from serve.explain.admission import Admission
        from serve.explain.batch import AsyncEngine
        from serve.explain.catalog import Catalog
        from serve.explain.policy import build_policy

        resolved = RecsplainSettings(**settings)
        catalog = Catalog.load(resolved.artifacts_path(), data_hash)
        self.vocabulary = catalog.vocabulary
        # No loop runs here: the engine starts its output handler on Ray Data's loop, at the
        # first call.
        self.engine = AsyncEngine(resolved)
        admission = Admission(resolved.explain.expected_call_s, 1 << 30, enabled=False)
        self.policy = build_policy(
            resolved,
            data_hash,
            catalog.titles,
            catalog.vocabulary,
            self.engine.generate,
            admission,
            10_000,
        )
        self.node = _node()

    async def __call__(self, batch: pa.Table) -> pa.Table:
        blobs = batch.column("task").to_pylist()
        tasks = [
            None if blob is None else replace(pickle.loads(blob), vocabulary=self.vocabulary)
            for blob in blobs
        ]

        async def one(task) -> Explanation | None:
            return None if task is None else await self.policy.explain(task)

        done = await asyncio.gather(*(one(task) for task in tasks))
        out = batch.drop_columns(["task"])
        columns = {
            "explanation": pa.array([e and e.text for e in done], pa.string()),
            "source": pa.array([e and e.source for e in done], pa.string()),
            "reason": pa.array([e and e.reason and str(e.reason) for e in done], pa.string()),
            "cited_item_ids": pa.array(
                [list(e.cited_item_ids) if e else [] for e in done], pa.list_(pa.string())
            ),
            "_explain_node": pa.array([self.node] * batch.num_rows, pa.string()),
        }
        for name, values in columns.items():
            out = out.append_column(name, values)
        return out


@dataclass
class Summary:
    """What the job did, for the end of the run and for tests."""

    rows: int = 0
    skipped: int = 0  # already written by an earlier run of the same job
    written: int = 0
    seconds: float = 0.0
    sources: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    errors: int = 0
    nodes: dict[str, Counter] = field(default_factory=dict)

    def add(self, part: pl.DataFrame) -> None:
        self.written += part.height
        self.sources.update(s for s in part["source"].to_list() if s)
        self.reasons.update(r for r in part["reason"].to_list() if r)
        self.errors += part["error"].is_not_null().sum()
        for column in NODE_COLUMNS:
            stage = column.strip("_").removesuffix("_node")
            self.nodes.setdefault(stage, Counter()).update(part[column].to_list())

    def as_dict(self) -> dict:
        explained = sum(self.sources.values())
        return {
            "rows": self.rows,
            "skipped": self.skipped,
            "written": self.written,
            "errors": self.errors,
            "llm_share": round(self.sources["llm"] / explained, 3) if explained else None,
            "template_reasons": dict(sorted(self.reasons.items())),
            "seconds": round(self.seconds, 1),
            "rows_per_s": round(self.written / self.seconds, 3) if self.seconds else None,
            "nodes": {stage: dict(counts) for stage, counts in self.nodes.items()},
        }


def parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _fingerprint(frame: pl.DataFrame, source: str, data_hash: str) -> dict:
    return {
        "input": source,
        "rows": frame.height,
        "input_hash": str(frame.hash_rows(seed=0).sum()),
        "data_hash": data_hash,
    }


def _claim(parts: Path, job: dict) -> None:
    """The parts folder is this job's: make it, or check that earlier parts were for it."""
    marker = parts / "job.json"
    if marker.is_file():
        earlier = json.loads(marker.read_text())
        if earlier != job:
            raise StaleParts(
                f"{parts}: parts of another job ({earlier['input']}, {earlier['rows']} rows, "
                f"build {earlier['data_hash']}); remove the folder or choose another --out"
            )
        return
    parts.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(job, indent=2) + "\n")


def _written_rows(parts: Path) -> set[int]:
    done: set[int] = set()
    for part in sorted(parts.glob("part-*.parquet")):
        done.update(pl.read_parquet(part, columns=[ROW])[ROW].to_list())
    return done


def _write_part(parts: Path, table: pa.Table) -> pl.DataFrame:
    """One block, whole or not at all: written aside, then renamed into place."""
    frame = pl.from_arrow(table)
    name = f"part-{uuid.uuid4().hex}.parquet"
    staging = parts / f".{name}.tmp"
    frame.write_parquet(staging)
    os.replace(staging, parts / name)
    return frame


def _join(parts: Path, out: Path, columns: list[str]) -> pl.DataFrame:
    """Every part, in input order, as OUT (parquet, or CSV with cited ids space-separated)."""
    frame = pl.concat(
        [pl.read_parquet(p) for p in sorted(parts.glob("part-*.parquet"))], how="vertical"
    ).sort(ROW)
    frame = frame.select(*columns, *OUTPUT_COLUMNS)
    staging = out.with_name(f".{out.name}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.with_columns(pl.col("cited_item_ids").list.join(" ")).write_csv(staging)
    else:
        frame.write_parquet(staging)
    os.replace(staging, out)
    return frame


def run_job(
    source: str,
    out: Path,
    settings: RecsplainSettings,
    progress: bool = True,
) -> tuple[pl.DataFrame, dict]:
    """Explain every row of `source` (a path or an object-store URI) into `out`, resuming from
    the parts an earlier run of the same job wrote; the table and the summary."""
    import ray
    from tqdm import tqdm

    from retrieval.artifacts import read_manifest
    from serve.explain.batch import read_pairs

    start = time.perf_counter()
    frame = read_pairs(source).with_row_index(ROW)
    input_columns = [c for c in frame.columns if c != ROW]
    data_hash = read_manifest(settings.artifacts_path())["data_hash"]
    parts = parts_dir(out)
    _claim(parts, _fingerprint(frame, source, data_hash))
    done = _written_rows(parts)
    pending = frame.filter(~pl.col(ROW).is_in(list(done))) if done else frame
    summary = Summary(rows=frame.height, skipped=len(done))
    if done:
        log.info("resuming %s: %d of %d rows already written", out, len(done), frame.height)
    if pending.height:
        if not ray.is_initialized():
            # "local": a new Ray of our own, never whatever cluster `ray start` last left
            # behind on this machine (ray.init's default would join that one).
            ray.init(address=os.environ.get("RAY_ADDRESS") or "local", log_to_driver=False)
        dataset = _pipeline(pending, settings, data_hash)
        with tqdm(total=pending.height, desc="explaining", unit="row", disable=not progress) as bar:
            for block in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                if block.num_rows:
                    summary.add(_write_part(parts, block))
                    bar.update(block.num_rows)
    missing = frame.height - len(_written_rows(parts))
    if missing:
        raise RuntimeError(f"{missing} rows came back from no stage; run the job again")
    result = _join(parts, out, input_columns)
    for part in parts.iterdir():
        part.unlink()
    parts.rmdir()
    summary.seconds = time.perf_counter() - start
    return result, summary.as_dict()


def _pipeline(pending: pl.DataFrame, settings: RecsplainSettings, data_hash: str):
    """The stages over `pending`, in blocks of `batch.batch_size` rows; each actor gets the
    driver's settings as they were resolved (file and environment)."""
    import ray

    args = settings.model_dump(mode="json")
    batch = settings.batch
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the job's own bar counts written rows
    table = pending.to_arrow()
    blocks = [table.slice(i, batch.batch_size) for i in range(0, table.num_rows, batch.batch_size)]
    # Each stage's actor is restarted if its process dies, and the block it held is redone.
    restart = {"max_restarts": batch.max_restarts, "max_task_retries": batch.max_restarts}
    return (
        ray.data.from_arrow(blocks)
        .map_batches(
            EvidenceStage,
            fn_constructor_kwargs={"settings": args},
            batch_size=None,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=batch.evidence_actors),
            num_cpus=batch.evidence_num_cpus,
            resources=batch.stage_resources.get("evidence") or None,
            **restart,
        )
        .map_batches(
            ExplainStage,
            fn_constructor_kwargs={"settings": args, "data_hash": data_hash},
            batch_size=None,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(
                size=batch.explain_actors,
                max_concurrent_calls_per_actor=batch.explain_blocks_in_flight,
            ),
            num_cpus=batch.explain_num_cpus,
            num_gpus=batch.explain_num_gpus or None,
            resources=batch.stage_resources.get("explain") or None,
            **restart,
        )
    )
