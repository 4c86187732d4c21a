"""The LLM stage on the same prompts, three ways: the seed's one-at-a-time HF `generate`, vLLM's
offline engine (the ceiling, with prefix caching on or off), and the served endpoint.

The prompts are the real explanation prompts, k per user, so they share long prefixes. All three
generate plain text greedily with the same `max_tokens`, so output tokens/s compare like for like.
Each engine runs in its own process (`python -m benchmarks.llm_stage MODE ...`), one at a time.
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
    from serve import prompts
    from serve.config import load_settings
    from serve.tasks import TaskFactory

    recommender, _ = load_recommender(load_settings().artifacts_path())
    factory = TaskFactory(recommender)
    conversations = []
    for user in list(recommender.histories)[:users]:
        recs = recommender.recommend([Query(recommender.user_history(user))], k)[0]
        tasks = [factory.task(rec, "en") for rec in recs]
        history = prompts.shared_history(tasks)
        conversations += [prompts.messages(task, history) for task in tasks]
    return conversations


def seed_generate(model: str, conversations: list[list[dict]], max_tokens: int) -> dict:
    """The seed's method: transformers `generate`, one prompt at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    llm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.bfloat16)
    tokens = 0
    start = time.perf_counter()
    for messages in conversations:
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            output = llm.generate(**inputs, max_new_tokens=max_tokens, do_sample=False)
        tokens += output.shape[1] - inputs["input_ids"].shape[1]
    return {"output_tokens": tokens, "seconds": time.perf_counter() - start}


def offline_generate(
    model: str, conversations: list[list[dict]], max_tokens: int, prefix_caching: bool
) -> dict:
    """vLLM's offline engine: all prompts in one continuously batched call."""
    from vllm import LLM, SamplingParams

    from serve.config import load_settings

    engine_kwargs = {**load_settings().llm.engine_kwargs, "enable_prefix_caching": prefix_caching}
    llm = LLM(model=model, **engine_kwargs)
    params = SamplingParams(max_tokens=max_tokens, temperature=0.0)
    start = time.perf_counter()
    outputs = llm.chat(conversations, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    tokens = sum(len(output.outputs[0].token_ids) for output in outputs)
    return {"output_tokens": tokens, "seconds": seconds}


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


def in_subprocess(mode: str, model: str, users: int, k: int, max_tokens: int) -> dict:
    """Run one engine-bound measurement in a fresh process and return its figures."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.llm_stage",
            mode,
            model,
            str(users),
            str(k),
            str(max_tokens),
            str(out),
        ]
        subprocess.run(command, check=True)
        return json.loads(out.read_text())


def _main() -> None:
    mode, model, users, k, max_tokens, out = sys.argv[1:7]
    conversations = explanation_prompts(int(users), int(k))
    if mode == "seed":
        result = seed_generate(model, conversations, int(max_tokens))
    else:
        result = offline_generate(model, conversations, int(max_tokens), mode == "vllm-prefix")
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":  # vLLM spawns processes that re-import the main module
    _main()
