"""What the explanations say on each catalog, read by a reader that is not the verifier.

For a build (`RECSPLAIN_ARTIFACTS`) and the `make serve` model, it explains the first `--users`
stored users' top-k through the server's policy (cache, LLM, verifier, template; the batch
path, `serve.explain.batch`), writes every explanation with its task as JSON lines, and has
`benchmarks.reader` (written without reading the verifier) flag "none", labels the item lacks,
words of another domain, roles swapped, numbers off the evidence. The summary goes to
`benchmarks/results/explanations-<name>.json`, with the CPU it ran on:

    RECSPLAIN_ARTIFACTS=artifacts/music RECSPLAIN_LLM__MODEL_SOURCE=models/... \
        python -m benchmarks.explanations --name synthetic-music --users 34 --k 3
    python -m benchmarks.explanations --readme     # the README's table from the results
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.reader import check, format_summary, result_row, summarize
from serve.hardware import cpu_info

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
MARKERS = ("<!-- explanations-table:start -->", "<!-- explanations-table:end -->")
WATCHED = ("none_word", "label_not_on_item", "foreign_domain_noun", "recommended_as_seen",
           "evidence_as_recommended", "wrong_percent")  # fmt: skip

app = typer.Typer(add_completion=False)


class Rejections(logging.Handler):
    """Counts the verifier's reasons for each LLM answer it refused (the policy logs them at
    debug level), so a low LLM share says which rule to look at; every refused answer is kept
    with its reason, to read what the model does wrong in a language."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.refused: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("rejected explanation") and len(record.args) == 2:
            reason, raw = record.args
            self.reasons[reason] += 1
            self.refused.append((str(reason), str(raw)))
            shown = self.examples.setdefault(reason, [])
            if len(shown) < 3:
                shown.append(str(raw))


def audit_lines(name: str, tasks, explanations) -> list[dict]:
    """One reader line per explanation: the task as the LLM saw it, and what came back."""
    lines = []
    for task, explanation in zip(tasks, explanations, strict=True):
        vocabulary = task.vocabulary
        lines.append(
            {
                "catalog": name,
                "item_word": vocabulary.item,
                "language": task.language,
                "feedback": vocabulary.kind,
                "recommended": {
                    "item_id": task.recommended.item_id,
                    "title": task.recommended.title,
                    "labels": [*task.recommended.genres, *task.recommended.tags],
                },
                "evidence": [
                    {
                        "item_id": fact.item_id,
                        "title": fact.title,
                        "labels": [*fact.genres, *fact.tags],
                        "rating": fact.rating,
                        "also_share": getattr(fact, "also_share", None),
                    }
                    for fact in task.evidence
                ],
                "text": explanation.text,
                "source": explanation.source,
                "reason": None if explanation.reason is None else str(explanation.reason),
            }
        )
    return lines


def table() -> str:
    """One row per results file: LLM share, the reader's flags over LLM-written answers, and
    the verifier's commonest reasons for refusing an answer."""
    lines = [
        "| catalog | lang | explanations | LLM-written | "
        + " | ".join(WATCHED)
        + " | commonest refusals | seconds |",
        "|---" * (6 + len(WATCHED)) + "|",
    ]
    for path in sorted(RESULTS.glob("explanations-*.json")):
        report = json.loads(path.read_text())
        reader = report["reader"]
        flags = [str(reader["flags"][flag]["llm"]) for flag in WATCHED]
        refusals = list(report["verifier_rejections"]["reasons"].items())[:3]
        lines.append(
            f"| {report['catalog']} | {report['language']} | {reader['count']} | "
            f"{reader['llm_share']:.0%} | "
            + " | ".join(flags)
            + " | "
            + ", ".join(f"{reason} {count}" for reason, count in refusals)
            + f" | {report['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def write_readme() -> None:
    start, end = MARKERS
    text = README.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    README.write_text(pattern.sub(lambda _: f"{start}\n{table()}{end}", text))


@app.command()
def main(
    name: Annotated[str | None, typer.Option(help="the catalog's name in the results")] = None,
    users: Annotated[int, typer.Option(min=1)] = 34,
    k: Annotated[int, typer.Option(min=1)] = 3,
    language: str = "en",
    readme: Annotated[bool, typer.Option(help="only redraw the README's table")] = False,
) -> None:
    if readme or name is None:
        write_readme()
        print(table())
        return
    from retrieval.artifacts import load_recommender
    from serve.config import CONFIG_FILE, load_settings
    from serve.explain.batch import explain_tasks, top_k_tasks
    from serve.explain.tasks import TaskFactory

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rejections = Rejections()
    policy_log = logging.getLogger("serve.explain.policy")
    policy_log.setLevel(logging.DEBUG)
    policy_log.addHandler(rejections)
    settings = load_settings(CONFIG_FILE)
    recommender, manifest = load_recommender(settings.artifacts_path())
    tasks = top_k_tasks(recommender, TaskFactory(recommender), k, language, users)
    explanations, _, seconds = explain_tasks(settings, recommender, manifest, tasks)
    lines = audit_lines(name, tasks, explanations)
    suffix = "" if language == "en" else f"-{language}"
    raw = RESULTS / f"explanations-{name}{suffix}.jsonl"
    raw.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    summary = summarize(
        result_row(number, line, check(line)) for number, line in enumerate(lines, start=1)
    )
    report = {
        "catalog": name,
        "language": language,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu_info().as_dict(),
        "model": settings.llm.model_source,
        "artifacts": manifest["data_hash"][:12],
        "served_model": (manifest.get("selection") or {}).get("chosen"),
        "users": users,
        "k": k,
        "seconds": round(seconds, 1),
        "explanations": raw.name,
        "verifier_rejections": {
            "reasons": dict(rejections.reasons.most_common()),
            "examples": rejections.examples,
            "refused": rejections.refused,
        },
        "reader": summary,
    }
    out = RESULTS / f"explanations-{name}{suffix}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(lines)} explanations in {seconds:.0f} s")
    print("verifier rejections:", dict(rejections.reasons.most_common()))
    print(format_summary(summary))
    write_readme()


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
