"""The README's reliability tables, rendered from the committed result files (issue 19, item 9).

Each table sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in README.md and is
written by this module from `benchmarks/results/NAME.json`, so a figure cannot drift from its
data: `python -m benchmarks.readme_figures` rewrites the tables, `--check` fails when one is
stale (tests/test_readme_figures.py runs it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
EN_DASH = "\u2013"
# The replica processes the soak table names, in its order.
SOAK_PROCESSES = ("proxy", "Ingress", "Retriever", "llm_replica", "llm_engine")


def _span(values: list[float], unit: str, digits: int = 0) -> str:
    low, high = min(values), max(values)
    return (
        f"{low:,.{digits}f}{unit}"
        if low == high
        else f"{low:,.{digits}f}{EN_DASH}{high:,.{digits}f}{unit}"
    )


def soak_table(result: dict) -> str:
    """The soak's totals, per-minute latencies and memory, from `soak.json`."""
    minutes = result["windows"]
    p50 = [
        latency["p50_ms"]
        for window in minutes
        for latency in window["latency"].values()
        if latency["p50_ms"] is not None
    ]
    recommend_p99 = [
        w["latency"]["recommend"]["p99_ms"]
        for w in minutes
        if w["latency"]["recommend"]["p99_ms"] is not None
    ]
    memory = [result["memory"][name] for name in SOAK_PROCESSES]
    grown = [m["end_mb"] - m["start_mb"] for m in memory]
    grows = any(m["grows"] for m in result["memory"].values())
    templates = ", ".join(f"{reason} {n:,}" for reason, n in result["explanations"].items())
    rows = [
        (
            f"soak, {result['duration_s'] / 60:.1f} min at {result['rate_rps']} req/s "
            f"(80% of {result['capacity_rps']} measured)",
            "figure",
        ),
        (
            "requests sent / ok / 4xx / 5xx / lost",
            " / ".join(f"{result[key]:,}" for key in ("sent", "ok", "4xx", "5xx", "lost")),
        ),
        (f"p50 per minute, every kind, {len(minutes)} minutes", _span(p50, " ms")),
        (
            "recommend-only p99 per minute, and over the whole run",
            f"{_span(recommend_p99, ' ms')}; {result['latency']['recommend']['p99_ms']:,.0f} ms",
        ),
        (
            "RSS after warm-up (proxy, Ingress, Retriever, LLM replica, engine)",
            ", ".join(f"{g:+.1f}" for g in grown)
            + f" MB; slopes {_span([m['slope_mb_per_min'] for m in memory], ' MB/min', 1)}, "
            f"growth {_span([100 * m['growth'] for m in memory], '%', 1)}: "
            + ("a process grows" if grows else "no growth"),
        ),
        ("explained items answered by a template, by reason", templates),
        ("every check passed", _yes(result["passed"])),
    ]
    return _table(rows, align="| --- | --- |")


def faults_table(result: dict) -> str:
    """Each fault's traffic, errors and recovery, from `faults.json`."""
    names = {"Retriever": "SIGKILL the Retriever replica", "llm_engine": "SIGKILL the vLLM engine"}
    rows = [
        (
            f"fault under ~{result['faults'][0]['rate_rps']:g} req/s of the soak's mix",
            "sent",
            "lost",
            "5xx",
            "recovery",
        )
    ]
    for fault in result["faults"]:
        recovery = fault["recovery_s"]
        llm = recovery["first_llm_explanation"]
        rows.append(
            (
                names.get(fault["killed"], fault["killed"]),
                f"{fault['sent']:,}",
                f"{fault['lost']}",
                f"{fault['5xx']}",
                f"first success {recovery['first_success']} s, healthy {recovery['healthy']} s, "
                f"first chat completion {recovery['first_chat_completion']} s, first "
                f"LLM-written explanation "
                + (f"{llm} s" if llm is not None else "not within the run"),
            )
        )
    rows.append(("passed (no 5xx, none lost, errors under 1%)", "", "", "", _yes(result["passed"])))
    return _table(rows, align="| --- | ---: | ---: | ---: | --- |")


def _yes(value: bool) -> str:
    return "yes" if value else "**no**"


def _table(rows: list[tuple[str, ...]], align: str) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", align]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


TABLES: dict[str, Callable[[dict], str]] = {"soak": soak_table, "faults": faults_table}


def render(readme: str) -> str:
    """`readme` with every table between its markers rewritten from its result file."""
    for name, table in TABLES.items():
        result = json.loads((RESULTS / f"{name}.json").read_text())
        block = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
        if not block.search(readme):
            raise ValueError(f"README.md has no <!-- {name}:begin --> … <!-- {name}:end -->")
        text = table(result)
        readme = block.sub(lambda m, text=text: m.group(1) + text + "\n" + m.group(2), readme)
    return readme


def main(
    check: Annotated[bool, typer.Option(help="only fail when a table is stale")] = False,
) -> None:
    current = README.read_text()
    rendered = render(current)
    if check:
        if rendered != current:
            raise typer.Exit(1)
        return
    README.write_text(rendered)


if __name__ == "__main__":
    typer.run(main)
