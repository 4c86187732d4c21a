"""How much the explanation cache can save: explanations served per unique cache key.

An explanation is keyed on its evidence (the recommended item and the rated items that explain
it), not on the user, so users with overlapping tastes share answers. This counts, for random
subsamples of the stored users, how many explanations their top-k needs and how many distinct
keys those are. No LLM is involved: the ratio is an upper bound on the cache's hit rate for a
warm cache (explanations / unique keys = how many requests each LLM call serves).

    python -m benchmarks.cache_reuse --k 3 --k 10 --json benchmarks/results/cache_reuse.json
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)
FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def reuse_curve(recommender, ks: list[int], seed: int = 0) -> list[dict]:
    from retrieval.recommender import Query
    from serve.explain.cache import Namespace, cache_key
    from serve.explain.tasks import TaskFactory

    factory = TaskFactory(recommender)
    namespace = Namespace("model", "prompt", "data")
    users = list(recommender.histories)
    queries = [Query(recommender.user_history(user)) for user in users]
    keys_by_k = {
        k: [
            [cache_key(namespace, factory.task(rec, "en")) for rec in found]
            for found in recommender.recommend(queries, k)
        ]
        for k in ks
    }
    order = random.Random(seed).sample(range(len(users)), len(users))
    rows = []
    for k in ks:
        for fraction in FRACTIONS:
            chosen = order[: max(1, round(fraction * len(users)))]
            keys = [key for user in chosen for key in keys_by_k[k][user]]
            unique = len(set(keys))
            rows.append(
                {
                    "k": k,
                    "users": len(chosen),
                    "explanations": len(keys),
                    "unique_keys": unique,
                    "explanations_per_key": round(len(keys) / unique, 3),
                    "warm_hit_rate_bound": round(1 - unique / len(keys), 3),
                }
            )
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for k in sorted({row["k"] for row in rows}):
        points = [row for row in rows if row["k"] == k]
        axis.plot(
            [row["users"] for row in points],
            [row["explanations_per_key"] for row in points],
            marker="o",
            label=f"k={k}",
        )
    axis.set_xlabel("users")
    axis.set_ylabel("explanations per unique key")
    axis.set_title("Explanation cache reuse as users are added")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


@app.command()
def main(
    k: Annotated[list[int], typer.Option(help="items per user; repeatable")] = (3, 10),
    json_path: Annotated[Path, typer.Option("--json")] = Path(
        "benchmarks/results/cache_reuse.json"
    ),
) -> None:
    from retrieval.artifacts import load_recommender
    from serve.config import load_settings

    recommender, manifest = load_recommender(load_settings().artifacts_path())
    rows = reuse_curve(recommender, list(k))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps({"data_hash": manifest["data_hash"], "curve": rows}, indent=2) + "\n"
    )
    plot(rows, json_path.with_suffix(".png"))
    for row in rows:
        print(row)


if __name__ == "__main__":
    app()
