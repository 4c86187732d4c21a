"""Grounded explanations or nothing: ask the LLM, verify, retry once stricter, else a template.

The LLM is reached through a `Generate` callable (a Ray Serve handle online, vLLM's offline
engine in batch mode), so the same prompts and verifier serve both.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from serve import metrics, prompts
from serve.config import ExplainSettings
from serve.explanation import ExplainTask, Explanation, Fact
from serve.templates import template_explanation
from serve.titles import CatalogTitles
from serve.verifier import Verifier

log = logging.getLogger(__name__)

# (messages, JSON schema) -> the model's raw text
Generate = Callable[[list[dict[str, str]], dict], Awaitable[str]]


def grounding_verifier(catalog: Iterable[tuple[str, str]], max_chars: int = 300) -> Verifier:
    """The verifier for these prompts: the catalog's titles, the few-shot titles that must not
    leak, and the instructions that must not be echoed."""
    return Verifier(
        CatalogTitles(catalog), prompts.FEW_SHOT_TITLES, prompts.INSTRUCTION_PHRASES, max_chars
    )


class Explainer:
    def __init__(
        self, verifier: Verifier, settings: ExplainSettings, generate: Generate | None = None
    ):
        """`generate` may be None for batch mode, which drives the offline engine itself."""
        self.verifier = verifier
        self.settings = settings
        self.generate = generate
        self.schema = prompts.json_schema(settings.max_chars)

    def accept(self, raw: str, task: ExplainTask) -> Explanation | None:
        """The LLM's explanation if it passes the verifier; records why not otherwise."""
        verdict = self.verifier.check(raw, task)
        if not verdict.ok:
            metrics.VERIFIER_FAILURES.labels(reason=verdict.reason).inc()
            log.debug("rejected explanation (%s): %r", verdict.reason, raw[:200])
            return None
        return Explanation(verdict.text, verdict.cited_item_ids, "llm", task.language)

    def attempts(self) -> tuple[bool, ...]:
        """Whether each try uses the strict prompt."""
        return (False, True) if self.settings.retry else (False,)

    async def explain(self, task: ExplainTask, history: list[Fact]) -> Explanation:
        if task.evidence:
            for strict in self.attempts():
                try:
                    raw = await self.generate(
                        prompts.messages(task, history, strict, self.settings.few_shot), self.schema
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # any LLM failure means a template, never a 5xx
                    metrics.LLM_ERRORS.labels(kind=type(exc).__name__).inc()
                    log.warning(
                        "LLM call failed (%s: %s); using a template", type(exc).__name__, exc
                    )
                    break
                explanation = self.accept(raw, task)
                if explanation:
                    return record(explanation)
        return record(template_explanation(task))

    async def explain_all(
        self, tasks: list[ExplainTask], deadline_s: float
    ) -> AsyncIterator[tuple[int, Explanation]]:
        """(index, explanation) in completion order; what misses the deadline gets a template."""
        history = prompts.shared_history(tasks)
        pending = {
            asyncio.ensure_future(self.explain(task, history)): index
            for index, task in enumerate(tasks)
        }
        stop_at = time.monotonic() + deadline_s
        try:
            while pending:
                done, _ = await asyncio.wait(
                    pending,
                    timeout=max(0.0, stop_at - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    break
                for future in done:
                    yield pending.pop(future), future.result()
            for future in pending:
                future.cancel()
            for index in sorted(pending.values()):
                metrics.DEADLINE_MISSES.inc()
                yield index, record(template_explanation(tasks[index]))
        finally:  # also when the client goes away mid-stream
            for future in pending:
                future.cancel()


def record(explanation: Explanation) -> Explanation:
    metrics.EXPLANATIONS.labels(source=explanation.source).inc()
    return explanation
