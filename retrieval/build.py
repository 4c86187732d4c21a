"""`recsplain build`: data to a loadable artifact directory, with holdout metrics in its manifest.

The served model is chosen on a validation split carved from the holdout's train part
(`retrieval.selection`; `tune=False` keeps the config's model), then trained on the train part
and scored on the test split, so the manifest says how good this build is; then it is retrained
on all interactions and written.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from tqdm import tqdm

from retrieval.artifacts import write_artifacts, write_version
from retrieval.config import RetrievalConfig
from retrieval.content import embed_texts, item_texts
from retrieval.data import load_dataset
from retrieval.evaluate import EvalData, model_metrics
from retrieval.feedback import describe as describe_feedback
from retrieval.preprocess import preprocess
from retrieval.recommender import Recommender
from retrieval.selection import Validation, choose_model
from retrieval.split import holdout_split

log = logging.getLogger(__name__)

STEPS = (
    "load data",
    "preprocess",
    "embed item text",
    "choose model",
    "holdout evaluation",
    "fit and index",
    "write",
)


def build(
    config: RetrievalConfig,
    out: Path | None = None,
    progress: bool = True,
    *,
    into: Path | None = None,
    tune: bool = True,
) -> dict:
    """Build artifacts for `config` into `out`, or as a new version under `into`; return the
    manifest, with `path` (where it was written) added.

    The manifest's `timings` gives the seconds of each step, to see where a build's time goes;
    the written file has every step's but its own writing, which the returned dict adds.
    """
    if (out is None) == (into is None):
        raise ValueError("give exactly one of out and into")
    timings: dict[str, float] = {}
    with tqdm(total=len(STEPS), desc="build", unit="step", disable=not progress) as bar:
        started = time.perf_counter()

        def step(index: int) -> None:
            nonlocal started
            if index > 0:
                timings[STEPS[index - 1]] = round(time.perf_counter() - started, 3)
                bar.update()
            started = time.perf_counter()
            bar.set_description(STEPS[index])
            log.info("build: %s", STEPS[index])

        step(0)
        dataset = load_dataset(config.data)
        config = config.for_dataset(dataset.feedback, dataset.domain)
        step(1)
        interactions = preprocess(dataset.interactions, config.preprocess, dataset.feedback)
        # Split now: a split the data cannot give fails before the slow embedding.
        split = holdout_split(interactions, config.preprocess, dataset.has_timestamps)
        step(2)
        texts = item_texts(dataset.items, config.content.max_chars)
        content = embed_texts(texts, config.content, progress=progress)
        step(3)
        selection = {"chosen": "as configured", "model": config.model.model_dump(mode="json")}
        if tune:
            carved = holdout_split(split.train, config.preprocess, dataset.has_timestamps)
            validation = Validation.of(carved, dataset.items)
            config, selection = choose_model(config, validation, content, progress=progress)
        step(4)
        holdout = EvalData.from_split(split, dataset.items)
        metrics = model_metrics("served", holdout, content, config)
        log.info("holdout metrics: %s", metrics)
        step(5)
        recommender = Recommender.fit(interactions, dataset.items, content, config)
        step(6)
        fields = dict(
            data_hash=dataset.data_hash,
            data_files=dataset.files,
            data_warnings=dataset.warnings,
            feedback=describe_feedback(dataset.feedback),
            domain=dataset.domain.model_dump(mode="json"),
            metrics={"protocol": f"holdout of the served model: {split.description}", **metrics},
            selection=selection,
            timings=timings,
        )
        if into is not None:
            out, manifest = write_version(recommender, into, **fields)
        else:
            manifest = write_artifacts(recommender, out, **fields)
        timings[STEPS[-1]] = round(time.perf_counter() - started, 3)
        bar.update()
    log.info("build took %.1f s: %s", sum(timings.values()), timings)
    return {**manifest, "timings": timings, "path": str(out)}
