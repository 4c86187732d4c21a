"""Commands on data: build a retriever, query it, evaluate it, sample pairs from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from serve.cli.common import (
    DEFAULT_ARTIFACTS,
    ConfigOption,
    DataOption,
    app,
    console,
    fail,
    load_config,
)


@app.command()
def build(
    out: Annotated[
        Path | None, typer.Option(help=f"artifact directory to write (default {DEFAULT_ARTIFACTS})")
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option(
            help="write a new immutable version ROOT/<UTC time>-<data hash> instead, and print its "
            "path (for `recsplain rollout`)"
        ),
    ] = None,
    data: DataOption = None,
    config: ConfigOption = None,
    tune: Annotated[
        bool,
        typer.Option(
            help="choose the served model on a validation split carved from train; --no-tune "
            "serves the config's model as written"
        ),
    ] = True,
) -> None:
    """Train the retriever on DATA and write an artifact directory."""
    from retrieval.artifacts import ArtifactError
    from retrieval.build import build as run_build
    from retrieval.data import DataError
    from retrieval.split import SplitError

    if out is not None and into is not None:
        raise fail("give --out or --into, not both")
    target = {"into": into} if into is not None else {"out": out or DEFAULT_ARTIFACTS}
    try:
        manifest = run_build(load_config(config, data), tune=tune, **target)
    except (DataError, SplitError, ArtifactError) as exc:
        raise fail(str(exc)) from None
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in manifest["metrics"].items() if k != "protocol")
    Console(stderr=True).print(
        f"[green]built[/] {manifest['path']}  ({manifest['counts']['items']} items; "
        f"holdout {metrics})"
    )
    if into is not None:
        print(manifest["path"])  # alone on stdout: `VERSION=$(recsplain build --into ...)`


@app.command()
def recommend(
    artifacts: Annotated[Path, typer.Option(help="artifact directory")] = DEFAULT_ARTIFACTS,
    user: Annotated[str | None, typer.Option(help="a stored user id")] = None,
    history: Annotated[
        str | None, typer.Option(help="comma-separated item ids the user liked, oldest first")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100)] = 10,
) -> None:
    """Print the top-k for a stored user or an anonymous history."""
    from retrieval.artifacts import ArtifactError, load_recommender
    from retrieval.recommender import Query, UnknownItemsError, UnknownUserError

    if (user is None) == (history is None):
        raise fail("give exactly one of --user and --history")
    try:
        recommender, _ = load_recommender(artifacts)
        if user is not None:
            query = Query(recommender.user_history(user))
        else:
            ids = [item.strip() for item in history.split(",") if item.strip()]
            query = Query(recommender.history_from_items([(item, None) for item in ids]))
    except ArtifactError as exc:
        raise fail(str(exc)) from None
    except UnknownUserError:
        raise fail(f"unknown user {user!r}; pass --history instead") from None
    except UnknownItemsError as exc:
        raise fail(str(exc)) from None
    from serve.explain.vocabulary import Vocabulary

    print_recommendations(
        recommender.recommend([query], k)[0],
        title=f"user {user or '(history)'}",
        vocabulary=Vocabulary.of_items(recommender.config.data, recommender.items),
    )


def _value_text(rating: float | None, vocabulary) -> str:
    """A history value for an operator: "4.5/5", "1234 played", "liked"."""
    if rating is None:
        return "liked"
    if vocabulary.kind == "explicit":
        return vocabulary.rating_text(rating)
    return f"{rating:g} {vocabulary.action or 'count'}"


def print_recommendations(recommendations, title: str, vocabulary) -> None:
    table = Table(title=title)
    for column in ("rank", "title", "score", "evidence"):
        table.add_column(column)
    for rec in recommendations:
        evidence = "; ".join(
            f"{e.title} ({_value_text(e.rating, vocabulary)}, sim {e.similarity:.2f})"
            for e in rec.evidence
        )
        if rec.shared_tags:
            evidence += f" | shared: {', '.join(rec.shared_tags[:4])}"
        table.add_row(str(rec.rank), rec.title, f"{rec.score:.3f}", evidence)
    console.print(table)


@app.command()
def evaluate(
    data: DataOption = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
    tune: Annotated[
        bool,
        typer.Option(
            help="choose the served model as `build` does, and tune the baselines, on a "
            "validation split carved from train"
        ),
    ] = True,
    model: Annotated[list[str] | None, typer.Option(help="evaluate only these models")] = None,
    config: ConfigOption = None,
) -> None:
    """Compare the served model with the baselines on a holdout split (see preprocess.split)."""
    from retrieval.data import DataError
    from retrieval.evaluate import MODELS
    from retrieval.evaluate import evaluate as run_evaluate
    from retrieval.split import SplitError

    models = tuple(model) if model else tuple(MODELS)
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise fail(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    try:
        with console.status("evaluating") as status:
            report = run_evaluate(
                load_config(config, data), models, tune=tune, progress=status.update
            )
    except (DataError, SplitError) as exc:
        raise fail(str(exc)) from None
    k = report["k"]
    table = Table(title=f"{report['protocol']['split']}; {report['protocol']['ranking']}")
    table.add_column("model")
    for metric in (f"recall@{k}", f"ndcg@{k}", f"coverage@{k}"):
        table.add_column(metric, justify="right")
    for name, metrics in report["models"].items():
        table.add_row(name, *(f"{value:.4f}" for value in metrics.values()))
    console.print(table)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {json_path}")


@app.command("sample-pairs")
def sample_pairs_command(
    out: Annotated[Path, typer.Option(help="CSV or .parquet of user_id, item_id")],
    users: Annotated[int, typer.Option(min=1, help="the first N stored users")] = 100,
    k: Annotated[int, typer.Option(min=1, help="items per user")] = 3,
    config: Annotated[Path | None, typer.Option(help="Ray Serve config file")] = None,
) -> None:
    """Write a table of pairs for `explain-batch` from the build itself: each of the first
    stored users' top-k recommendations (a demo input, or a load test of any size)."""
    import polars as pl

    from retrieval.artifacts import load_recommender
    from retrieval.recommender import rank_users
    from serve.config import CONFIG_FILE, load_settings

    recommender, _ = load_recommender(load_settings(config or CONFIG_FILE).artifacts_path())
    chosen = list(recommender.histories)[:users]
    ranked = rank_users(recommender, chosen, k)
    rows = [
        (user, recommender.item_ids[position])
        for user, top in zip(chosen, ranked, strict=True)
        for position in top
    ]
    pairs = pl.DataFrame(rows, schema=["user_id", "item_id"], orient="row")
    out.parent.mkdir(parents=True, exist_ok=True)
    pairs.write_parquet(out) if out.suffix.lower() == ".parquet" else pairs.write_csv(out)
    console.print(f"[green]wrote[/] {out}: {pairs.height} pairs of {len(chosen)} users")
