"""Commands on explanations: a batch job over pairs, and the verifier on a corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from serve.cli.common import (
    app,
    console,
    fail,
)


@app.command("explain-batch")
def explain_batch_command(
    out: Annotated[Path, typer.Option(help="parquet or .csv table; with --precompute, a cache")],
    input_path: Annotated[
        str | None,
        typer.Option(
            "--in",
            help="CSV or parquet, a path or an object-store URI: user_id, item_id[, language]",
        ),
    ] = None,
    precompute: Annotated[
        bool, typer.Option(help="explain every stored user's top-k for the server's cache")
    ] = False,
    k: Annotated[int, typer.Option(min=1, help="with --precompute: items per user")] = 3,
    users: Annotated[int | None, typer.Option(min=1, help="with --precompute: first N")] = None,
    language: Annotated[str, typer.Option(help="with --precompute")] = "en",
    config: Annotated[Path | None, typer.Option(help="Ray Serve config file")] = None,
) -> None:
    """Explain (user_id, item_id) pairs on Ray Data (a local Ray, or the cluster at RAY_ADDRESS;
    a killed job run again with the same --out resumes), or precompute the server's explanation
    cache; both with the server's policy on vLLM's engine."""
    from retrieval.artifacts import ArtifactError
    from serve.config import CONFIG_FILE, load_settings
    from serve.explain.batch import precompute as precompute_cache
    from serve.explain.pipeline import run_job

    settings = load_settings(config or CONFIG_FILE)
    if precompute == (input_path is not None):
        raise fail("give either --in PAIRS or --precompute")
    try:
        if precompute:
            summary = precompute_cache(out, settings, k, language, users)
        else:
            _, summary = run_job(input_path, out, settings)
    except (FileNotFoundError, ValueError, ArtifactError) as exc:
        raise fail(str(exc)) from None
    console.print(f"[green]wrote[/] {out}")
    print(json.dumps(summary))  # the last line, for scripts


@app.command("verifier-eval")
def verifier_eval_command(
    corpus: Annotated[Path, typer.Argument(help="YAML corpus as tests/data/verifier_*.yaml")],
    mode: Annotated[
        str, typer.Option(help="rules, or closed (every word grounded): serve/config.py")
    ] = "rules",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the JSON lines here, not to stdout")
    ] = None,
    catalog: Annotated[
        list[str] | None,
        typer.Option(help="NAME=CONFIG.yaml: a catalog the corpus names, read from your data"),
    ] = None,
) -> None:
    """Run every case of a labelled corpus through the verifier: one JSON line per case (its
    verdict and reason), the summary (recall, good rejected) last."""
    from serve.config import VerifierMode
    from serve.explain import verifier_eval

    if mode not in ("rules", "closed"):
        raise fail(f"--mode: {mode!r} is not rules or closed")
    configs = {}
    for spec in catalog or ():
        name, _, path = spec.partition("=")
        if not name or not path:
            raise fail(f"--catalog: {spec!r} is not NAME=CONFIG.yaml")
        configs[name] = Path(path)
    try:
        cases = verifier_eval.load_corpus(corpus)
        catalogs = verifier_eval.catalogs_for(cases, configs)
    except (OSError, ValueError) as error:  # CorpusError, DataError
        raise fail(str(error)) from None
    checked: VerifierMode = mode  # type: ignore[assignment]
    outcomes = verifier_eval.evaluate(cases, catalogs, checked)
    head = verifier_eval.summary(outcomes, str(corpus), checked)
    text = "\n".join(verifier_eval.lines(outcomes, head)) + "\n"
    if json_path is None:
        typer.echo(text, nl=False)
        return
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(text, encoding="utf-8")
    rejection = head["rejection"]
    console.print(
        f"[green]wrote[/] {json_path}: recall {rejection['recall']}, "
        f"{rejection['good_rejected']} good rejected ({rejection['good_rejected_rate']})"
    )
