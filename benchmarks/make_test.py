"""`make test`'s duration from a fresh clone, as the README cites it: read from the log of

    git clone <repo> <clone> && cd <clone> && (time CI=true bash .ci/run) > LOG 2>&1
    python -m benchmarks.make_test LOG --commit <sha> --json benchmarks/results/make-test.json

(pytest's summary line, its `--durations` table and bash's `real` time), with the CPU it ran on.
The previous file's figures are kept as `previous_run`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)
SUMMARY = re.compile(r"=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s")
DURATION = re.compile(r"^(?P<seconds>[\d.]+)s (?P<phase>setup|call|teardown)\s+(?P<test>\S+)$")
REAL = re.compile(r"^real\s+(?P<minutes>\d+)m(?P<seconds>[\d.]+)s$")


def parse(log: str) -> dict:
    """Counts, pytest's seconds, the whole command's seconds, every test phase pytest listed
    (those of 3 s or more) and their sums by module: where the next cut in the suite's time is."""
    *_, summary = SUMMARY.finditer(log)
    counts = {
        name: int(number)
        for number, name in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary["counts"])
    }
    real = [REAL.match(line.strip()) for line in log.splitlines()]
    real = [m for m in real if m]
    slowest = [
        {"seconds": float(m["seconds"]), "phase": m["phase"], "test": m["test"]}
        for line in log.splitlines()
        if (m := DURATION.match(line.strip()))
    ]
    return {
        "passed": counts.get("passed", 0),
        "skipped": counts.get("skipped", 0),
        "failed": counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0),
        "pytest_seconds": float(summary["seconds"]),
        "total_seconds": round(int(real[-1]["minutes"]) * 60 + float(real[-1]["seconds"]), 1)
        if real
        else None,
        "slowest": slowest,
        "by_module": _by_module(slowest),
    }


def _by_module(phases: list[dict]) -> dict[str, float]:
    """Seconds of the listed phases per test module, largest first."""
    sums: dict[str, float] = {}
    for phase in phases:
        module = phase["test"].split("::")[0]
        sums[module] = round(sums.get(module, 0.0) + phase["seconds"], 2)
    return dict(sorted(sums.items(), key=lambda item: -item[1]))


@app.command()
def main(
    log: Path,
    commit: Annotated[str, typer.Option(help="the commit the clone was made at")],
    json_out: Annotated[Path, typer.Option("--json")] = Path("benchmarks/results/make-test.json"),
) -> None:
    from serve.hardware import cpu_info

    figures = parse(log.read_text(errors="replace"))
    cpu = cpu_info().as_dict()
    previous = json.loads(json_out.read_text()) if json_out.exists() else None
    result = {
        "command": "git clone <repo> && cd <clone> && time CI=true bash .ci/run  (make test)",
        "commit": commit,
        "date": datetime.now(UTC).date().isoformat(),
        "cpu": cpu,
        **figures,
    }
    if previous:
        result["previous_run"] = {
            key: previous.get(key)
            for key in ("commit", "passed", "failed", "pytest_seconds", "total_seconds")
        }
    json_out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "slowest"}))


if __name__ == "__main__":
    app()
