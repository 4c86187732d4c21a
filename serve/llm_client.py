"""The ingress's client of the LLM deployment: structured generation for the explanation policy,
a circuit that fails calls at once while the engine's replica is replaced, and a poller that
keeps admission control's view of the engine's queue fresh (and opens or closes the circuit).

It holds no route: `ingress.RecsplainIngress` makes one and hands `generate` to each build's
policy.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle
from ray.serve.llm.openai_api_models import ChatCompletionRequest, ErrorResponse

from serve import metrics
from serve.config import RecsplainSettings
from serve.explain.admission import Admission
from serve.resilience import Circuit

log = logging.getLogger(__name__)


class LLMClient:
    def __init__(self, handle: DeploymentHandle, settings: RecsplainSettings, admission: Admission):
        self.settings = settings
        self.model_id = settings.llm.model_id
        self.handle = handle
        self.stream = handle.options(stream=True)
        self.circuit = Circuit("LLM")  # open while the engine's replica is replaced
        self.admission = admission

    async def poll_engine_load(self) -> None:
        """Keep admission control's view of the engine's queue fresh."""
        while True:
            try:
                load = await asyncio.wait_for(
                    self.handle.engine_load.remote(),
                    timeout=max(5.0, self.settings.llm.load_poll_s),
                )
                self.admission.observe_engine(load["unfinished_requests"])
                self.circuit.observe(answered=True)
            except TimeoutError:
                # Queued behind chat calls on a saturated replica, or no replica up yet: neither
                # says the engine died, so the circuit keeps its state.
                log.debug("engine load poll timed out")
                self.admission.observe_engine(0)  # a stale queue would refuse every call
            except Exception as exc:  # the engine restarting must not stop the poller
                log.debug("engine load poll failed: %s: %s", type(exc).__name__, exc)
                self.admission.observe_engine(0)
                self.circuit.observe(answered=False)
            metrics.LLM_QUEUE.set(self.admission.queue())
            metrics.LLM_THROUGHPUT.set(self.admission.throughput)
            await asyncio.sleep(self.settings.llm.load_poll_s)

    async def generate(self, messages: list[dict], schema: dict) -> str:
        self.circuit.check()  # no waiting in Serve's router for a replica being replaced
        request = ChatCompletionRequest(
            model=self.model_id,
            messages=messages,
            max_tokens=self.settings.explain.max_tokens,
            temperature=self.settings.explain.temperature,
            stream=False,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "explanation", "schema": schema},
            },
        )
        start = time.perf_counter()
        response = self.stream.chat.remote(request)
        try:
            async for chunk in response:
                if isinstance(chunk, list):
                    chunk = chunk[0]
                if isinstance(chunk, ErrorResponse):
                    raise RuntimeError(chunk.error.message)
                return chunk.choices[0].message.content or ""
        except asyncio.CancelledError:
            # Cancelling the local await leaves the replica generating; this aborts the request
            # inside the engine (Ray cancels the replica's task, vLLM aborts the sequence).
            response.cancel()
            raise
        except BackPressureError:
            metrics.QUEUE_REJECTIONS.labels(deployment="llm").inc()
            raise
        finally:
            metrics.STAGE_SECONDS.labels(stage="llm_call").observe(time.perf_counter() - start)
        raise RuntimeError("the LLM returned no response")
