"""Which small model explains better on CPU: the share of verified LLM explanations and speed.

Each model runs the same tasks (the top-2 recommendations of the first N users) through the
batch pipeline (vLLM offline engine, verifier, one strict retry, templates), each in its own
process so that only one engine lives at a time.

    python -m benchmarks.explainer_models --model models/SmolLM2-135M-Instruct \\
        --model models/Qwen2.5-Coder-0.5B-Instruct --users 20 --json out.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)


def measure(model: str, users: int) -> dict:
    from retrieval.artifacts import load_recommender
    from retrieval.recommender import Query
    from serve.batch import OfflineEngine, explain_tasks
    from serve.config import load_settings
    from serve.explainer import Explainer, grounding_verifier
    from serve.tasks import TaskFactory

    settings = load_settings()
    settings.llm.model_source = model
    recommender, _ = load_recommender(settings.artifacts_path())
    factory = TaskFactory(recommender)
    tasks, owners = [], []
    for user in list(recommender.histories)[:users]:
        for rec in recommender.recommend([Query(recommender.user_history(user))], 2)[0]:
            tasks.append(factory.task(rec, "en"))
            owners.append(user)
    verifier = grounding_verifier(zip(recommender.item_ids, recommender.titles, strict=True))
    engine = OfflineEngine(settings)
    start = time.perf_counter()
    explanations = explain_tasks(tasks, owners, Explainer(verifier, settings.explain), engine)
    seconds = time.perf_counter() - start
    sources = Counter(e.source for e in explanations)
    return {
        "model": model,
        "explanations": len(explanations),
        "llm_share": sources["llm"] / len(explanations),
        "seconds": round(seconds, 2),
        "output_tokens": engine.output_tokens,
        "output_tokens_per_s": round(engine.output_tokens / seconds, 1),
        "examples": [e.text for e in explanations if e.source == "llm"][:5],
    }


@app.command()
def main(
    model: Annotated[list[str], typer.Option(help="model folder or id; repeat to compare")],
    users: int = 20,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    one: Annotated[Path | None, typer.Option(hidden=True, help="measure one model into")] = None,
) -> None:
    if one:
        one.write_text(json.dumps(measure(model[0], users)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, name in enumerate(model):
            result = Path(scratch) / f"{index}.json"
            command = [sys.executable, "-m", "benchmarks.explainer_models", "--one", str(result)]
            command += ["--model", name, "--users", str(users)]
            subprocess.run(command, check=True)
            rows.append(json.loads(result.read_text()))
            print(json.dumps(rows[-1], indent=2))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"users": users, "models": rows}, indent=2) + "\n")


if __name__ == "__main__":
    app()
