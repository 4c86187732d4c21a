"""`recsplain explain-batch`: explain a table of (user_id, item_id) pairs offline.

Same evidence, prompts, verifier and templates as the server, on vLLM's offline engine: all
prompts go in one `LLM.chat` call (continuous batching), rejected answers are retried together
with the strict prompt, and what still fails gets a template. A row that cannot be explained
(unknown user or item) keeps its place with an `error` and no explanation.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from retrieval.artifacts import load_recommender
from retrieval.recommender import Query, UnknownItemsError, UnknownUserError
from serve import prompts
from serve.config import RecsplainSettings
from serve.explainer import Explainer, grounding_verifier, record
from serve.explanation import ExplainTask, Explanation
from serve.tasks import TaskFactory
from serve.templates import template_explanation

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("user_id", "item_id")


def read_pairs(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    frame = (
        pl.read_parquet(path)
        if path.suffix.lower() == ".parquet"
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


class OfflineEngine:
    """vLLM's offline engine with the settings the server uses."""

    def __init__(self, settings: RecsplainSettings):
        from vllm import LLM

        self.settings = settings
        self.output_tokens = 0
        self.llm = LLM(
            model=settings.llm.resolved_source(),
            tensor_parallel_size=settings.llm.tensor_parallel_size,
            **settings.llm.engine_kwargs,
        )

    def generate(self, conversations: list[list[dict]], schema: dict) -> list[str]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        params = SamplingParams(
            max_tokens=self.settings.explain.max_tokens,
            temperature=self.settings.explain.temperature,
            structured_outputs=StructuredOutputsParams(json=schema),
        )
        outputs = self.llm.chat(conversations, params, use_tqdm=True)
        self.output_tokens += sum(len(output.outputs[0].token_ids) for output in outputs)
        return [output.outputs[0].text for output in outputs]


def explain_tasks(
    tasks: list[ExplainTask], users: list[str], explainer: Explainer, engine: OfflineEngine
) -> list[Explanation]:
    """Batched first pass, batched strict retry, templates for the rest."""
    by_user: dict[str, list[ExplainTask]] = {}
    for task, user in zip(tasks, users, strict=True):
        by_user.setdefault(user, []).append(task)
    # As online: one history block per user, so that user's prompts share a cached prefix.
    histories = {user: prompts.shared_history(user_tasks) for user, user_tasks in by_user.items()}
    results: list[Explanation | None] = [None] * len(tasks)
    for strict in explainer.attempts():
        todo = [i for i, result in enumerate(results) if result is None and tasks[i].evidence]
        if not todo:
            break
        conversations = [
            prompts.messages(tasks[i], histories[users[i]], strict, explainer.settings.few_shot)
            for i in todo
        ]
        for i, raw in zip(todo, engine.generate(conversations, explainer.schema), strict=True):
            results[i] = explainer.accept(raw, tasks[i])
    return [
        result or record(template_explanation(task))
        for task, result in zip(tasks, results, strict=True)
    ]


def run_batch(source: Path, out: Path, settings: RecsplainSettings) -> pl.DataFrame:
    """Explain every row of `source` and write the table to `out` (parquet or CSV)."""
    frame = read_pairs(source)
    recommender, _ = load_recommender(settings.artifacts_path())
    factory = TaskFactory(recommender)
    tasks, errors = build_tasks(frame, factory)
    explainable = [i for i, task in enumerate(tasks) if task is not None]
    log.info("%d rows, %d explainable", frame.height, len(explainable))
    verifier = grounding_verifier(
        zip(recommender.item_ids, recommender.titles, strict=True), settings.explain.max_chars
    )
    explainer = Explainer(verifier, settings.explain)
    users = frame["user_id"].to_list()
    explanations: list[Explanation | None] = [None] * frame.height
    if explainable:
        engine = OfflineEngine(settings)
        done = explain_tasks(
            [tasks[i] for i in explainable], [users[i] for i in explainable], explainer, engine
        )
        for i, explanation in zip(explainable, done, strict=True):
            explanations[i] = explanation
    result = frame.with_columns(
        explanation=pl.Series([e.text if e else None for e in explanations], dtype=pl.String),
        source=pl.Series([e.source if e else None for e in explanations], dtype=pl.String),
        cited_item_ids=pl.Series(
            [list(e.cited_item_ids) if e else [] for e in explanations],
            dtype=pl.List(pl.String),
        ),
        error=pl.Series(errors, dtype=pl.String),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.with_columns(pl.col("cited_item_ids").list.join(" ")).write_csv(out)
    else:
        result.write_parquet(out)
    return result
