"""Decoding speed of one engine setting: why a small model on 2 cores is slow, and whether
compiling helps.

Each variant starts vLLM's offline engine in a fresh process with the served engine's settings
(dtype, threads, `engine_kwargs`) plus the variant's overrides, then times a plain prompt
decoded to exactly `--tokens` tokens at 1, 3 and 6 sequences at once. A variant named twice runs
twice, which is how a compile cache shows: its second start reads what the first wrote.

    python -m benchmarks.decode_speed --model models/SmolLM2-135M-Instruct \
        --variants eager,compiled,compiled --json benchmarks/results/decode-speed.json

`compiled` is `enforce_eager: false` with `VLLM_USE_AOT_COMPILE=0`: vLLM 0.32's AOT cache fails
to load on CPU ("'function' object has no attribute 'finalize_loading'") and compiles again at
every start, while the inductor cache that this falls back to is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)
VARIANTS: dict[str, tuple[dict, dict]] = {  # name: (engine kwargs, environment)
    "eager": ({"enforce_eager": True}, {}),
    "compiled": ({"enforce_eager": False}, {"VLLM_USE_AOT_COMPILE": "0"}),
}
BATCHES = (1, 3, 6)
PROMPT = [{"role": "user", "content": "Write a long story about a cat."}]


def measure(model: str, variant: str, tokens: int) -> dict:
    """In this process: start the engine, decode, report tokens/s per batch size."""
    from vllm import SamplingParams

    from benchmarks.llm_stage import offline_engine

    llm, start_s = offline_engine(model, **VARIANTS[variant][0])
    params = SamplingParams(max_tokens=tokens, temperature=0.0, ignore_eos=True)
    llm.chat(PROMPT, params, use_tqdm=False)  # warm-up
    tokens_per_s = {}
    for batch in BATCHES:
        begin = time.perf_counter()
        llm.chat([PROMPT] * batch, params, use_tqdm=False)
        tokens_per_s[str(batch)] = round(tokens * batch / (time.perf_counter() - begin), 1)
    return {"variant": variant, "start_s": start_s, "tokens_per_s": tokens_per_s}


def in_subprocess(model: str, variant: str, tokens: int) -> dict:
    """One variant in a fresh process, so each start pays its own imports and compile."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        env = {**os.environ, **VARIANTS[variant][1]}
        command = [sys.executable, "-m", "benchmarks.decode_speed", "--one", variant]
        command += ["--model", model, "--tokens", str(tokens), "--json", str(out)]
        subprocess.run(command, check=True, env=env)
        return json.loads(out.read_text())


@app.command()
def main(
    model: Annotated[str, typer.Option(help="a model folder")] = "models/SmolLM2-135M-Instruct",
    variants: Annotated[str, typer.Option(help=f"comma-separated, of {', '.join(VARIANTS)}")] = (
        "eager,compiled,compiled"
    ),
    tokens: Annotated[int, typer.Option(min=8)] = 96,
    json_path: Annotated[Path | None, typer.Option("--json")] = None,
    one: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Decode speed per variant, each in its own process, one after the other."""
    if one is not None:  # the child
        result = measure(model, one, tokens)
        if json_path is None:
            raise typer.BadParameter("the child writes --json")
        json_path.write_text(json.dumps(result))
        return
    names = [name.strip() for name in variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise typer.BadParameter(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    from benchmarks.run import machine

    runs = [in_subprocess(model, name, tokens) for name in names]
    result = {
        "command": " ".join(["python -m benchmarks.decode_speed", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "model": model,
        "tokens": tokens,
        "machine": machine(),
        "runs": runs,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text + "\n")


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    app()
