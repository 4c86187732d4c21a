"""The LLM stage on the same prompts, three ways: the seed's one-at-a-time HF `generate`, vLLM's
offline engine (the ceiling, with prefix caching on and off in one engine), and the served
endpoint.

The prompts are the real explanation prompts, k per user, so they share long prefixes. All three
generate plain text greedily with the same `max_tokens`, so output tokens/s compare like for like.
The seed and the offline engine run in one process of their own (`python -m benchmarks.llm_stage
...`), one after the other, before the served app starts.

The seed baseline and the offline engine use the served engine's dtype rule
(`serve.hardware.resolve_dtype` on the config's dtype and accelerator): `auto` is bfloat16 on a
GPU or a CPU with native bf16 and float32 elsewhere. HF gets the same dtype as a torch dtype,
vLLM as the string; each result records the dtype it ran in.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx


def explanation_prompts(users: int, k: int) -> list[list[dict]]:
    """k explanation prompts for each of the first `users` stored users, built as online."""
    from retrieval.artifacts import load_recommender
    from retrieval.recommender import Query
    from serve.config import load_settings
    from serve.explain import prompts
    from serve.explain.tasks import TaskFactory

    recommender, _ = load_recommender(load_settings().artifacts_path())
    factory = TaskFactory(recommender)
    conversations = []
    for user in list(recommender.histories)[:users]:
        recs = recommender.recommend([Query(recommender.user_history(user))], k)[0]
        tasks = [factory.task(rec, "en") for rec in recs]
        conversations += [prompts.messages(task) for task in tasks]
    return conversations


# vLLM's dtype names -> torch's
TORCH_DTYPES = {
    "float32": "float32",
    "float": "float32",
    "bfloat16": "bfloat16",
    "float16": "float16",
    "half": "float16",
}


def engine_dtype(settings=None) -> str:
    """The dtype the LLM engine runs in: the config's `engine_kwargs.dtype` ("auto" when unset)
    resolved for the config's accelerator and this machine's CPU."""
    from serve.config import load_settings
    from serve.hardware import resolve_dtype

    llm = (settings or load_settings()).llm
    return resolve_dtype(str(llm.engine_kwargs.get("dtype", "auto")), llm.accelerator)


def torch_dtype(name: str):
    """The torch dtype for a vLLM dtype name."""
    import torch

    if name not in TORCH_DTYPES:
        raise ValueError(f"no torch dtype for {name!r}; one of {sorted(TORCH_DTYPES)}")
    return getattr(torch, TORCH_DTYPES[name])


def seed_generate(
    model: str,
    conversations: list[list[dict]],
    max_tokens: int,
    dtype: str = "float32",
    device: str = "cpu",
) -> dict:
    """The seed's method: transformers `generate`, one prompt at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    llm = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype(dtype)).to(device)
    tokens = 0
    start = time.perf_counter()
    for messages in conversations:
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(device)
        with torch.inference_mode():
            output = llm.generate(**inputs, max_new_tokens=max_tokens, do_sample=False)
        tokens += output.shape[1] - inputs["input_ids"].shape[1]
    return {
        "output_tokens": tokens,
        "seconds": time.perf_counter() - start,
        "dtype": str(llm.dtype).removeprefix("torch."),
        "device": device,
    }


def seed_device(accelerator: str) -> str:
    """Where the seed runs: on the GPU when the engine does and torch sees one."""
    import torch

    return "cuda" if accelerator == "gpu" and torch.cuda.is_available() else "cpu"


def offline_engine(model: str, **overrides):
    """vLLM's offline engine with the served engine's settings (its CPU threads, dtype and
    `engine_kwargs`) and `overrides`, and the seconds it took to start."""
    from vllm import LLM

    from serve.config import load_settings
    from serve.hardware import set_engine_env

    settings = load_settings()
    llm_config = settings.llm
    threads = (llm_config.cpu_threads_bind, llm_config.cpu_reserved_cores)
    set_engine_env(llm_config.accelerator, *threads)
    kwargs = {**llm_config.engine_kwargs, "dtype": engine_dtype(settings), **overrides}
    started = time.perf_counter()
    llm = LLM(model=model, **kwargs)
    return llm, round(time.perf_counter() - started, 1)


def offline_generate(
    model: str, conversations: list[list[dict]], max_tokens: int, no_prefix: bool = True
) -> dict:
    """vLLM's offline engine: all prompts in one continuously batched call, with prefix caching
    and without, in one engine.

    The engine gets the served engine's CPU threads (before, it ran on vLLM's default: one of
    two cores, half of what the served engine has). Both runs follow the served measurement's
    warm-up (the first prompt, once), so all three start from the same state. Prefix caching
    "off" is every prompt under its own cache salt: nothing is shared between prompts, as with
    the cache disabled, but without a second engine start (a minute on 2 cores).
    """
    from vllm import SamplingParams

    llm, start_s = offline_engine(model, enable_prefix_caching=True)
    tokenizer = llm.get_tokenizer()
    token_ids = [
        tokenizer(
            tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True),
            add_special_tokens=False,
        )["input_ids"]
        for m in conversations
    ]
    params = SamplingParams(max_tokens=max_tokens, temperature=0.0)
    model_dtype = str(llm.llm_engine.model_config.dtype).removeprefix("torch.")

    def timed(prompts: list[dict]) -> dict:
        start = time.perf_counter()
        outputs = llm.generate(prompts, params, use_tqdm=False)
        seconds = time.perf_counter() - start
        tokens = sum(len(output.outputs[0].token_ids) for output in outputs)
        return {
            "output_tokens": tokens,
            "seconds": seconds,
            "dtype": model_dtype,
            "start_s": start_s,
        }

    timed([{"prompt_token_ids": token_ids[0]}])  # warm-up, as served_generate does
    result = {"prefix": timed([{"prompt_token_ids": ids} for ids in token_ids])}
    if no_prefix:
        alone = [
            {"prompt_token_ids": ids, "cache_salt": f"alone-{n}"} for n, ids in enumerate(token_ids)
        ]
        result["no_prefix"] = timed(alone)
    return result


async def served_generate(
    url: str, model_id: str, conversations: list[list[dict]], max_tokens: int, headers=None
) -> dict:
    """The served endpoint, all prompts in flight at once (its batching does the rest)."""
    async with httpx.AsyncClient(base_url=url, timeout=600, headers=headers) as client:

        async def one(messages: list[dict]) -> int:
            response = await client.post(
                "/v1/chat/completions",
                json={
                    "model": model_id,
                    "messages": messages,
                    "max_tokens": max_tokens,
                    "temperature": 0.0,
                },
            )
            response.raise_for_status()
            return response.json()["usage"]["completion_tokens"]

        await one(conversations[0])  # warm-up
        start = time.perf_counter()
        tokens = sum(await asyncio.gather(*(one(m) for m in conversations)))
        return {"output_tokens": tokens, "seconds": time.perf_counter() - start}


def in_subprocess(model: str, users: int, k: int, max_tokens: int) -> dict:
    """The seed's and the offline engine's figures, measured in a fresh process:
    {"seed": ..., "prefix": ..., "no_prefix": ...}."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.llm_stage", model, str(users), str(k)]
        subprocess.run([*command, str(max_tokens), str(out)], check=True)
        return json.loads(out.read_text())


def _main() -> None:
    """The seed first, then the engine: the seed's model is freed before the engine starts, and
    the process's imports are paid once."""
    from serve.config import load_settings

    model, users, k, max_tokens, out = sys.argv[1:6]
    conversations = explanation_prompts(int(users), int(k))
    settings = load_settings()
    seed = seed_generate(
        model,
        conversations,
        int(max_tokens),
        engine_dtype(settings),
        seed_device(settings.llm.accelerator),
    )
    result = {"seed": seed, **offline_generate(model, conversations, int(max_tokens))}
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    _main()
