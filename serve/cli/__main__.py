"""`python -m serve.cli`: the same as the `recsplain` console script."""

from serve.cli import app

if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
