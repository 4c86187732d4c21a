"""The `recsplain` command line: one module per kind of command, on one Typer app."""

from serve.cli import data, explain, ops  # noqa: F401  (importing them registers the commands)
from serve.cli.common import app, load_config

__all__ = ["app", "load_config"]
