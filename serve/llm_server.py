"""The LLM deployment: Ray Serve LLM's `LLMServer`, with settings resolved on the engine's own node.

Two things can only be decided where the engine runs, not where the app is built: the dtype
(`auto` depends on that node's CPU or GPU, see `serve.hardware`) and the CPU engine's OpenMP
thread binding. It also reports the engine's queue, which the ingress polls for admission
control and the tests use to prove that abandoned requests are aborted.

When the vLLM engine process dies, `check_health` (Ray Serve LLM's, which asks vLLM whether its
engine is dead) raises; after three failed checks in a row (every `health_check_period_s`, 2 s)
Serve replaces this replica, engine included. Calls that reach a dead engine fail at once, and
the explanation policy answers with templates (reason `llm_error`).
"""

from __future__ import annotations

import logging

from ray.serve.llm import LLMConfig
from ray.serve.llm.deployment import LLMServer

from serve.hardware import cpu_info, resolve_dtype, set_engine_env

log = logging.getLogger(__name__)


class RecsplainLLMServer(LLMServer):
    async def __init__(
        self,
        llm_config: LLMConfig,
        *,
        accelerator: str = "cpu",
        cpu_threads_bind: str = "auto",
        cpu_reserved_cores: int | None = None,
    ):
        requested = llm_config.engine_kwargs.get("dtype", "auto")
        dtype = resolve_dtype(requested, accelerator)
        # Not `engine_kwargs[...] = ...`: the config caches the engine's settings when it is
        # validated, and a bare dict edit never reached vLLM, which then ran a bf16 checkpoint in
        # bf16 on AVX2-only CPUs (4.5x slower than float32) while /healthz said float32.
        llm_config.update_engine_kwargs(dtype=dtype)
        # read by vLLM when it starts the engine process below; not the offline engines' one
        # process (serve/hardware.py)
        engine_env = set_engine_env(
            accelerator, cpu_threads_bind, cpu_reserved_cores, one_process=False
        )
        cpu = cpu_info().as_dict()
        await super().__init__(llm_config)
        running = self._running_dtype()
        if running != dtype:
            log.warning("LLM engine runs in %s, not the %s asked for", running, dtype)
        self.hardware = {
            "accelerator": accelerator,
            "dtype": running,
            "dtype_setting": requested,
            "cpu": cpu,
            "cpu_env": engine_env,
        }
        log.info(
            "LLM engine: dtype %s (setting %r) on %s %s, native bf16: %s, cpu env %s",
            running,
            requested,
            accelerator,
            cpu["model"],
            cpu["native_bf16"],
            self.hardware["cpu_env"],
        )

    def _running_dtype(self) -> str:
        """The dtype vLLM actually loaded the weights in, as /healthz reports it."""
        client = getattr(self.engine, "_engine_client", None)
        config = getattr(client, "model_config", None)
        return str(config.dtype).removeprefix("torch.") if config is not None else "unknown"

    async def engine_load(self) -> dict:
        """Requests the engine holds (running or waiting); 0 means every abandoned one is gone.

        Raises while the engine is dead, like `check_health`: the ingress's poll then opens its
        circuit at once, instead of only once Serve has stopped this replica."""
        await self.check_health()
        client = getattr(self.engine, "_engine_client", None)
        unfinished = client.get_num_unfinished_requests() if client is not None else 0
        return {"unfinished_requests": unfinished}

    async def engine_info(self) -> dict:
        return self.hardware
