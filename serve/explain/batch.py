"""Explanations offline, by the same policy as the server: the pieces both offline paths use.

Same evidence, prompts, verifier, templates and cache as online: every task goes through
`ExplanationPolicy` on vLLM's async engine (`AsyncEngine`), all at once, so continuous batching
does the rest and tasks with equal evidence share one LLM call. Two uses:
- a table of (user_id, item_id) pairs (`read_pairs`, `build_tasks`), explained on Ray Data by
  `serve/explain/pipeline.py` (an unknown user or item keeps its row with an `error`);
- `--precompute`: the top-k of every stored user, in this process, written as a cache file the
  server loads at start, so a deployment starts warm.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from pathlib import Path

import polars as pl

from retrieval.artifacts import load_recommender
from retrieval.recommender import Query, Recommender, UnknownItemsError, UnknownUserError
from serve.config import RecsplainSettings
from serve.explain.admission import Admission
from serve.explain.explanation import ExplainTask, Explanation
from serve.explain.policy import ExplanationPolicy, build_policy
from serve.explain.tasks import TaskFactory
from serve.explain.vocabulary import Vocabulary
from serve.hardware import resolve_dtype, set_engine_env

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("user_id", "item_id")


def read_pairs(path: Path | str) -> pl.DataFrame:
    """A table of pairs from a local file or an object-store URI (s3://, gs://, az://, https://),
    CSV (every column read as text: "007" stays "007") or Parquet."""
    uri = "://" in str(path)
    if not uri and not Path(path).is_file():
        raise FileNotFoundError(f"{path}: file not found")
    frame = (
        pl.read_parquet(path)
        if str(path).lower().endswith(".parquet")
        else pl.read_csv(path, infer_schema=False)
    )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing and "input_text" in frame.columns:
        raise ValueError(
            f"{path}: rows of free input_text have no retrieved evidence, so their explanations "
            "could not be checked for grounding; give user_id and item_id columns instead"
        )
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}"
        )
    language = pl.col("language") if "language" in frame.columns else pl.lit("en")
    return frame.with_columns(
        pl.col("user_id").cast(pl.String), pl.col("item_id").cast(pl.String), language=language
    )


def build_tasks(
    frame: pl.DataFrame, factory: TaskFactory
) -> tuple[list[ExplainTask | None], list[str | None]]:
    """One task per row, or the reason the row cannot be explained."""
    recommender = factory.recommender
    tasks: list[ExplainTask | None] = []
    errors: list[str | None] = []
    for user_id, item_id, language in frame.select("user_id", "item_id", "language").iter_rows():
        try:
            query = Query(recommender.user_history(user_id))
            [recommendation] = recommender.describe(query, [item_id])
            tasks.append(factory.task(recommendation, language))
            errors.append(None)
        except UnknownUserError:
            tasks.append(None)
            errors.append(f"unknown user_id {user_id!r}")
        except UnknownItemsError:
            tasks.append(None)
            errors.append(f"unknown item_id {item_id!r}")
    return tasks, errors


def top_k_tasks(
    recommender: Recommender, factory: TaskFactory, k: int, language: str, users: int | None
) -> list[ExplainTask]:
    """The explanation tasks of every stored user's top-k, as the server would build them."""
    user_ids = list(recommender.histories)[:users]
    queries = [Query(recommender.user_history(user)) for user in user_ids]
    return [
        factory.task(recommendation, language)
        for found in recommender.recommend(queries, k)
        for recommendation in found
    ]


class AsyncEngine:
    """vLLM's async engine with the server's engine settings; `generate` has the policy's
    signature, and cancelling it aborts the request inside the engine."""

    def __init__(self, settings: RecsplainSettings):
        from transformers import AutoTokenizer
        from vllm import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        llm = settings.llm
        engine_kwargs = dict(llm.engine_kwargs)
        engine_kwargs["dtype"] = resolve_dtype(engine_kwargs.get("dtype", "auto"), llm.accelerator)
        set_engine_env(llm.accelerator, llm.cpu_threads_bind, llm.cpu_reserved_cores)
        log.info("offline engine dtype: %s", engine_kwargs["dtype"])
        self.dtype = engine_kwargs["dtype"]
        self.settings = settings
        self.output_tokens = 0
        self.tokenizer = AutoTokenizer.from_pretrained(llm.resolved_source())
        self.engine = AsyncLLM.from_engine_args(
            AsyncEngineArgs(
                model=llm.resolved_source(),
                tensor_parallel_size=llm.tensor_parallel_size,
                **engine_kwargs,
            )
        )

    async def generate(self, messages: list[dict], schema: dict) -> str:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        prompt = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        params = SamplingParams(
            max_tokens=self.settings.explain.max_tokens,
            temperature=self.settings.explain.temperature,
            structured_outputs=StructuredOutputsParams(json=schema),
        )
        final = None
        async for output in self.engine.generate(prompt, params, uuid.uuid4().hex):
            final = output
        if final is None:
            raise RuntimeError("the engine returned no output")
        self.output_tokens += len(final.outputs[0].token_ids)
        return final.outputs[0].text

    def shutdown(self) -> None:
        # Drop the engine now: vLLM's finalizer shuts it down again, which fails noisily when
        # it only runs at interpreter exit.
        engine, self.engine = self.engine, None
        engine.shutdown()


def offline_policy(
    settings: RecsplainSettings,
    recommender: Recommender,
    manifest: dict,
    engine,
    cache_size: int,
) -> ExplanationPolicy:
    """The server's policy around an offline engine: no deadline, no admission limit. The
    cache holds `cache_size` explanations: every task's, for a precompute file to save them all."""
    vocabulary = Vocabulary.of_items(recommender.config.data, recommender.items)
    admission = Admission(settings.explain.expected_call_s, 1 << 30, enabled=False)
    return build_policy(
        settings,
        manifest["data_hash"],
        zip(recommender.item_ids, recommender.titles, strict=True),
        vocabulary,
        engine.generate,
        admission,
        cache_size,
    )


def precompute(
    out: Path, settings: RecsplainSettings, k: int, language: str = "en", users: int | None = None
) -> dict:
    """Explain the stored users' top-k and write them as a cache file for the server."""
    recommender, manifest = load_recommender(settings.artifacts_path())
    tasks = top_k_tasks(recommender, TaskFactory(recommender), k, language, users)
    explanations, policy, seconds = explain_tasks(settings, recommender, manifest, tasks)
    written = policy.cache.save(out)
    llm = sum(e.source == "llm" for e in explanations)
    reasons = Counter(str(e.reason) for e in explanations if e.source != "llm")
    return {
        "tasks": len(tasks),
        "unique_keys": len({policy.cache.key(task) for task in tasks}),
        "written": written,
        "llm": llm,
        "llm_share": round(llm / max(1, len(explanations)), 3),
        "template_reasons": dict(sorted(reasons.items())),
        "seconds": round(seconds, 1),
    }


def explain_tasks(
    settings: RecsplainSettings, recommender: Recommender, manifest: dict, tasks: list
) -> tuple[list[Explanation], ExplanationPolicy, float]:
    engine = AsyncEngine(settings)
    try:
        policy = offline_policy(settings, recommender, manifest, engine, len(tasks))
        start = time.perf_counter()
        explanations = asyncio.run(_with_progress(policy, tasks))
        return explanations, policy, time.perf_counter() - start
    finally:
        engine.shutdown()


async def _with_progress(policy: ExplanationPolicy, tasks: list) -> list[Explanation]:
    from tqdm import tqdm

    with tqdm(total=len(tasks), desc="explaining", unit="item") as bar:

        async def one(task):
            explanation = await policy.explain(task)
            bar.update()
            return explanation

        return list(await asyncio.gather(*(one(task) for task in tasks)))
