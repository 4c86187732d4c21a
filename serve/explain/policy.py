"""The one explanation policy, online, in batch and in precompute.

For each recommended item: a cached answer if the same evidence was explained before; else ask
the LLM, verify, retry once with the stricter prompt, and fall back to a template that says why
(`TemplateReason`). Admission control decides up front which items may use the LLM at all, and
whatever misses the deadline is cancelled, so that abandoned calls are aborted inside the
engine instead of running on for nobody.

The LLM is reached through a `Generate` callable (a Ray Serve handle online, vLLM's async
engine in batch mode); cancelling the awaiting task must abort the engine request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

from serve import metrics
from serve.config import ExplainSettings, RecsplainSettings, VerifierMode
from serve.explain import prompts
from serve.explain.admission import Admission
from serve.explain.cache import ExplanationCache, Namespace
from serve.explain.explanation import ExplainTask, Explanation, TemplateReason
from serve.explain.templates import template_explanation
from serve.explain.verify.titles import CatalogTitles
from serve.explain.verify.verifier import Verifier
from serve.explain.vocabulary import UNDECLARED, Vocabulary

log = logging.getLogger(__name__)

# (messages, JSON schema) -> the model's raw text
Generate = Callable[[list[dict[str, str]], dict], Awaitable[str]]


def grounding_verifier(
    catalog: Iterable[tuple[str, str]],
    max_chars: int = 300,
    vocabulary: Vocabulary = UNDECLARED,
    mode: VerifierMode = "rules",
) -> Verifier:
    """The verifier for these prompts: the catalog's titles, the few-shot titles that must not
    leak, and the instructions (in the catalog's words) that must not be echoed; in "closed"
    mode, every word must also be grounded (`ExplainSettings.verifier`)."""
    return Verifier(
        CatalogTitles(catalog),
        prompts.FEW_SHOT_TITLES,
        prompts.instruction_phrases(vocabulary),
        max_chars,
        closed=mode == "closed",
    )


def build_policy(
    settings: RecsplainSettings,
    data_hash: str,
    catalog: Iterable[tuple[str, str]],
    vocabulary: Vocabulary,
    generate: Generate,
    admission: Admission,
    cache_size: int,
    cache_file: Path | None = None,
) -> ExplanationPolicy:
    """The policy of one build, online (the ingress, per build) and offline (batch, precompute):
    the verifier of its titles in the configured mode, a cache under its namespace (warmed from
    `cache_file` when there is one), and the LLM reached through `generate`."""
    explain = settings.explain
    verifier = grounding_verifier(catalog, explain.max_chars, vocabulary, explain.verifier)
    cache = ExplanationCache(Namespace.of(settings, data_hash, vocabulary), cache_size)
    if cache_file is not None:
        if cache_file.is_file():
            cache.load(cache_file)
        else:
            log.warning("no precomputed explanations at %s; starting cold", cache_file)
    return ExplanationPolicy(verifier, explain, generate, cache, admission)


class ExplanationPolicy:
    def __init__(
        self,
        verifier: Verifier,
        settings: ExplainSettings,
        generate: Generate,
        cache: ExplanationCache,
        admission: Admission,
    ):
        self.verifier = verifier
        self.settings = settings
        self.generate = generate
        self.cache = cache
        self.admission = admission
        self.schema = prompts.json_schema(settings.max_chars)

    def attempts(self) -> tuple[bool, ...]:
        """Whether each try uses the strict prompt."""
        return (False, True) if self.settings.retry else (False,)

    def _schema(self, task: ExplainTask, strict: bool) -> dict:
        """The answer's shape; the stricter retry's opening is held to the closest item's
        (`prompts.retry_prefix`) unless `explain.pin_retry_opening` is off."""
        if strict and self.settings.pin_retry_opening:
            return prompts.retry_schema(task, self.settings.max_chars)
        return self.schema

    async def warm_up(self, task: ExplainTask) -> None:
        """One call that nobody waits for, so the first user doesn't pay for the engine's first
        run, the answer grammar's compilation or the prompt prefix every task shares."""
        messages = prompts.messages(task, False, self.settings.few_shot)
        await self.generate(messages, self.schema)

    async def explain(self, task: ExplainTask, stop_at: float | None = None) -> Explanation:
        """One item, through the cache: concurrent requests for the same evidence share a call
        (and the deadline, `stop_at` on the monotonic clock, of the request that started it)."""
        if not task.evidence:
            return record(template_explanation(task, TemplateReason.NO_EVIDENCE))
        explanation = await self.cache.get_or_compute(
            self.cache.key(task), lambda: self._ask_llm(task, stop_at)
        )
        return record(explanation)

    async def _ask_llm(self, task: ExplainTask, stop_at: float | None = None) -> Explanation:
        calls = 0
        for tried, strict in enumerate(self.attempts(), start=1):
            if tried > 1 and not self._retry_fits(stop_at):
                # the verifier refused the only answer there was time for
                metrics.RETRIES_SKIPPED.inc()
                break
            calls = tried
            messages = prompts.messages(task, strict, self.settings.few_shot)
            token = self.admission.started()
            start = time.monotonic()
            completed = False
            try:
                raw = await self.generate(messages, self._schema(task, strict))
                completed = True
            except asyncio.CancelledError:
                metrics.LLM_CALLS_CANCELLED.inc()
                raise
            except Exception as exc:  # any LLM failure means a template, never a 5xx
                metrics.LLM_ERRORS.labels(kind=type(exc).__name__).inc()
                log.warning("LLM call failed (%s: %s); using a template", type(exc).__name__, exc)
                return template_explanation(task, TemplateReason.LLM_ERROR)
            finally:
                self.admission.finished(token, time.monotonic() - start, completed)
            verdict = self.verifier.check(raw, task)
            if verdict.ok:
                self.admission.item_done(tried)
                return Explanation(verdict.text, verdict.cited_item_ids, "llm", task.language)
            metrics.VERIFIER_FAILURES.labels(reason=verdict.reason).inc()
            log.debug("rejected explanation (%s): %r", verdict.reason, raw[:200])
        self.admission.item_done(calls)
        return template_explanation(task, TemplateReason.REJECTED)

    def _retry_fits(self, stop_at: float | None) -> bool:
        """Whether a retry is expected to finish before the deadline. One that cannot ends as a
        template anyway, at the deadline, and meanwhile slows the request's other calls, which
        share the engine (on a 2-core CPU, a third of German k=3 items reached the 45 s
        deadline)."""
        if stop_at is None:
            return True
        return self.admission.can_finish(1, stop_at - time.monotonic())

    async def explain_all(
        self, tasks: list[ExplainTask], deadline_s: float
    ) -> AsyncIterator[tuple[int, Explanation]]:
        """(index, explanation) in completion order. Cached items come first; of the rest, the
        best-ranked get the LLM as far as admission allows; what misses the deadline gets a
        template and its LLM call is cancelled."""
        pending: dict[asyncio.Future, int] = {}
        refused: list[tuple[int, TemplateReason]] = []
        to_ask = []
        for index, task in enumerate(tasks):
            key = self.cache.key(task) if task.evidence else None
            if key is None or self.cache.get(key) is not None or self.cache.in_flight(key):
                pending[asyncio.ensure_future(self.explain(task))] = index
            else:
                to_ask.append(index)
        plan = self.admission.plan(len(to_ask), deadline_s)
        stop_at = time.monotonic() + deadline_s
        for rank, index in enumerate(to_ask):
            if rank < plan.admitted:
                pending[asyncio.ensure_future(self.explain(tasks[index], stop_at))] = index
            elif rank < plan.admitted + plan.overloaded:
                refused.append((index, TemplateReason.OVERLOADED))
            else:
                refused.append((index, TemplateReason.CAPPED))
        if plan.overloaded:
            log.info(
                "admission: %d of %d LLM calls refused (queue %d, %.2f calls/s, budget %.1f s)",
                plan.overloaded,
                len(to_ask),
                self.admission.queue(),
                self.admission.rate(self.admission.queue() + len(to_ask)),
                deadline_s,
            )
        try:
            for index, reason in refused:
                yield index, record(template_explanation(tasks[index], reason))
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
                yield index, record(template_explanation(tasks[index], TemplateReason.DEADLINE))
            pending.clear()
        finally:  # also when the client goes away mid-stream: abort what is still running
            for future in pending:
                future.cancel()


def record(explanation: Explanation) -> Explanation:
    metrics.EXPLANATIONS.labels(source=explanation.source).inc()
    if explanation.reason is not None:
        metrics.TEMPLATE_REASONS.labels(reason=explanation.reason).inc()
    if explanation.cached:
        metrics.EXPLANATIONS_CACHED.inc()
    return explanation
