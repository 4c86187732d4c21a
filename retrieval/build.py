"""`recsplain build`: data to a loadable artifact directory, with holdout metrics in its manifest.

The served model is first trained on the temporal train split and scored on the test split, so
the manifest says how good this build is; then it is retrained on all interactions and written.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from retrieval.artifacts import write_artifacts
from retrieval.config import RetrievalConfig
from retrieval.content import embed_texts, item_texts
from retrieval.data import load_dataset
from retrieval.evaluate import EvalData, served_metrics
from retrieval.preprocess import preprocess, temporal_split
from retrieval.recommender import Recommender

log = logging.getLogger(__name__)

STEPS = (
    "load data",
    "preprocess",
    "embed item text",
    "holdout evaluation",
    "fit and index",
    "write",
)


def build(config: RetrievalConfig, out: Path, progress: bool = True) -> dict:
    """Build artifacts for `config` into `out` and return the manifest."""
    with tqdm(total=len(STEPS), desc="build", unit="step", disable=not progress) as bar:

        def step(index: int) -> None:
            bar.set_description(STEPS[index])
            log.info("build: %s", STEPS[index])

        step(0)
        dataset = load_dataset(config.data)
        bar.update()
        step(1)
        interactions = preprocess(dataset.interactions, config.preprocess)
        bar.update()
        step(2)
        texts = item_texts(dataset.items, config.content.max_chars)
        content = embed_texts(texts, config.content, progress=progress)
        bar.update()
        step(3)
        split = temporal_split(interactions, config.preprocess.test_fraction)
        metrics = served_metrics(EvalData.from_split(split, dataset.items), content, config)
        log.info("holdout metrics: %s", metrics)
        bar.update()
        step(4)
        recommender = Recommender.fit(interactions, dataset.items, content, config)
        bar.update()
        step(5)
        manifest = write_artifacts(
            recommender,
            out,
            data_hash=dataset.data_hash,
            data_files=dataset.files,
            data_warnings=dataset.warnings,
            metrics={"protocol": "temporal holdout of the served model", **metrics},
        )
        bar.update()
    return manifest
