"""What every `recsplain` command shares: the Typer app, its console, options and errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

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


def fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)
