"""The served model against the baselines on every dataset we can get, in one table.

For each config in `data/configs/` (skipped, and listed as such, where its data is not on this
machine) it runs `recsplain evaluate` with tuning on, which chooses the served model exactly as
`recsplain build` does, and times a tuned build of the same data. The result is one committed
file, `benchmarks/results/datasets.json`, a plot, `datasets.png`, and the README's quality table
between its `datasets-table` markers, generated from that file:

    python -m benchmarks.datasets                 # every config (tens of minutes on 2 cores)
    python -m benchmarks.datasets --only movielens --only synthetic-music
    python -m benchmarks.datasets --readme        # redraw the table and the plot from the json

A config listed with `--only` is re-run and merged into the existing file, so one dataset can be
refreshed without the others; each row records its own time, CPU and data hash.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml

from retrieval.build import build
from retrieval.config import RetrievalConfig
from retrieval.evaluate import evaluate
from serve.hardware import cpu_info

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "data" / "configs"
RESULTS = ROOT / "benchmarks" / "results" / "datasets.json"
PLOT = RESULTS.with_suffix(".png")
README = ROOT / "README.md"
BASELINES = ("popularity", "itemknn", "ease", "als", "content")
MARKERS = ("<!-- datasets-table:start -->", "<!-- datasets-table:end -->")

log = logging.getLogger("benchmarks.datasets")
COLD_MAX_ITEMS = 20_000  # first builds embed the whole catalog: about 52 min per million items
app = typer.Typer(add_completion=False)


def timed_build(config: RetrievalConfig, out: Path, tune: bool) -> tuple[dict, float]:
    """A build's manifest and its seconds."""
    started = time.perf_counter()
    manifest = build(config, out, progress=False, tune=tune)
    return manifest, round(time.perf_counter() - started, 1)


def cold_builds(config: RetrievalConfig) -> dict:
    """A first build's seconds, tuned and untuned, each with an empty embedding cache: what a
    new user's `recsplain build` costs, where embedding the catalog is part of both."""
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, tune in (("tuned", True), ("untuned", False)):
            cache = Path(scratch) / f"{label}-embeddings"
            content = config.content.model_copy(update={"cache_dir": cache})
            cold = config.model_copy(update={"content": content})
            seconds[label] = timed_build(cold, Path(scratch) / label, tune)[1]
    return {
        "cold_build_seconds": seconds["tuned"],
        "cold_untuned_build_seconds": seconds["untuned"],
    }


def run_one(name: str, path: Path, cold: bool = False) -> dict:
    """Evaluate (tuned) and build (tuned) one config; the JSON row of the table. `cold` also
    times first builds (`cold_builds`), for catalogs up to COLD_MAX_ITEMS."""
    raw = yaml.safe_load(path.read_text()) or {}
    config = RetrievalConfig.model_validate(raw)
    data_path = config.data.path if config.data.path.is_absolute() else ROOT / config.data.path
    if not data_path.is_dir():
        return {"dataset": name, "skipped": f"{config.data.path} not on this machine"}
    config = config.model_copy(update={"data": config.data.model_copy(update={"path": data_path})})
    started = time.perf_counter()
    report = evaluate(config, tune=True)
    evaluate_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as out:
        manifest, build_seconds = timed_build(config, Path(out) / "build", tune=True)
        # The same build without the search, embeddings as warm: what tuning costs a rebuild.
        _, untuned_seconds = timed_build(config, Path(out) / "untuned", tune=False)
    first = {}
    if cold and report["protocol"]["catalog_items"] <= COLD_MAX_ITEMS:
        first = cold_builds(config)
    k = report["k"]
    ndcg = {model: metrics[f"ndcg@{k}"] for model, metrics in report["models"].items()}
    best = max(BASELINES, key=lambda model: ndcg.get(model, -1.0))
    return {
        "dataset": name,
        "config": str(path.relative_to(ROOT)),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu_info().as_dict(),
        "protocol": {
            key: report["protocol"][key]
            for key in ("split", "feedback", "catalog_items", "users_evaluated", "data_hash")
        },
        "k": k,
        "models": report["models"],
        "served_model": report["protocol"]["selection"]["chosen"],
        "best_baseline": best,
        "served_over_best": round(ndcg["served"] / max(ndcg[best], 1e-12), 3),
        "evaluate_seconds": round(evaluate_seconds, 1),
        "build_seconds": build_seconds,
        "untuned_build_seconds": untuned_seconds,
        "build_timings": manifest["timings"],
        "build_served_model": manifest["selection"]["chosen"],
        **first,
    }


def table(rows: list[dict]) -> str:
    """The README's quality table (NDCG@10 per model, served ÷ best baseline, build time)."""
    header = (
        "| dataset | items | popularity | ItemKNN | EASE | ALS | content | **served** "
        "| served / best | served model | tuned build | untuned build | first build, tuned "
        "/ untuned |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['dataset']} | skipped: {row['skipped']} |" + " |" * 11)
            continue
        k = row["k"]
        ndcg = {m: row["models"][m][f"ndcg@{k}"] for m in row["models"]}
        cells = [f"{ndcg[m]:.3f}" if m in ndcg else "n/a" for m in BASELINES]
        lines.append(
            f"| {row['dataset']} | {row['protocol']['catalog_items']:,} | "
            + " | ".join(cells)
            + f" | **{ndcg['served']:.3f}** | {row['served_over_best']:.2f}x "
            f"{row['best_baseline']} | `{row['served_model']}` | {row['build_seconds']:.0f} s | "
            + (
                f"{row['untuned_build_seconds']:.0f} s |"
                if "untuned_build_seconds" in row
                else "not measured |"
            )
            + (
                f" {row['cold_build_seconds']:.0f} s / {row['cold_untuned_build_seconds']:.0f} s |"
                if "cold_build_seconds" in row
                else " not measured |"
            )
        )
    return header + "\n".join(lines) + "\n"


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [row for row in rows if "skipped" not in row]
    models = [*BASELINES, "served"]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(models)
    for index, model in enumerate(models):
        values = [row["models"].get(model, {}).get(f"ndcg@{row['k']}", 0) for row in measured]
        xs = [i + index * width for i in range(len(measured))]
        ax.bar(xs, values, width, label=model, color="black" if model == "served" else None)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(measured))])
    ax.set_xticklabels([row["dataset"] for row in measured], rotation=15)
    ax.set_ylabel("NDCG@10 (test split)")
    ax.set_title("served model (chosen on validation) vs baselines, same split")
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


def write_readme(rows: list[dict]) -> None:
    text = README.read_text()
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {start} … {end} block")
    README.write_text(pattern.sub(lambda _: f"{start}\n{table(rows)}{end}", text))


@app.command()
def main(
    only: Annotated[list[str] | None, typer.Option(help="config names (file stems)")] = None,
    readme: Annotated[bool, typer.Option(help="only redraw the README table and plot")] = False,
    cold: Annotated[
        bool, typer.Option(help="also time first builds (empty embedding cache), tuned and not")
    ] = False,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    existing = json.loads(RESULTS.read_text())["rows"] if RESULTS.exists() else []
    rows = {row["dataset"]: row for row in existing}
    if not readme:
        for path in sorted(CONFIGS.glob("*.yaml")):
            if only and path.stem not in only:
                continue
            log.info("dataset %s", path.stem)
            rows[path.stem] = run_one(path.stem, path, cold)
            ordered = [rows[name] for name in sorted(rows)]
            RESULTS.write_text(
                json.dumps({"machine": platform.node(), "rows": ordered}, indent=2) + "\n"
            )
    ordered = [rows[name] for name in sorted(rows)]
    plot(ordered)
    write_readme(ordered)
    print(table(ordered))


if __name__ == "__main__":
    app()
