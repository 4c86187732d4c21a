"""The explanation cache: an explanation depends on the evidence, not on who asked.

Two users whose top item is recommended because of the same rated items get the same prompt (see
`prompts.messages`), so they can share one answer. The key is everything the prompt is made of:
the model, the prompt version, the catalog build, the language, the recommended item and the
evidence items with their ratings. Identical keys in flight share one LLM call, which is
cancelled only when the last request waiting for it gives up. It is a bounded LRU per ingress
replica; `recsplain explain-batch --precompute` writes a file it loads at start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from serve import metrics
from serve.config import RecsplainSettings
from serve.explain import prompts
from serve.explain.explanation import ExplainTask, Explanation, TemplateReason
from serve.explain.verify.verifier import RULES_REVISION
from serve.explain.vocabulary import UNDECLARED, Vocabulary

log = logging.getLogger(__name__)

CacheKey = tuple  # (namespace, language, recommended id, ((evidence id, rating), ...))


@dataclass(frozen=True)
class Namespace:
    """What makes two otherwise equal prompts produce different answers."""

    model: str
    prompt_version: str  # the prompts and the verifier rules that accepted the answers
    data_hash: str

    @classmethod
    def of(
        cls, settings: RecsplainSettings, data_hash: str, vocabulary: Vocabulary = UNDECLARED
    ) -> Namespace:
        """The namespace of the configured model and prompts over one catalog build, in that
        catalog's words."""
        checked_by = f"verifier={settings.explain.verifier}.{RULES_REVISION}"
        return cls(
            settings.llm.model_source,
            f"{prompts.prompt_version(settings.explain.few_shot, vocabulary)}|{checked_by}",
            data_hash,
        )

    def __str__(self) -> str:
        return f"{self.model}|{self.prompt_version}|{self.data_hash}"


def cache_key(namespace: Namespace, task: ExplainTask) -> CacheKey:
    """A known item's prompt says so, so its key does too (and only then: keys of the items
    recsplain recommends, and the cache files that hold them, stay as they were)."""
    key = (
        str(namespace),
        task.language,
        task.recommended.item_id,
        tuple((fact.item_id, fact.rating) for fact in task.evidence),
    )
    return (*key, "known") if task.known else key


# Outcomes worth keeping: a verified answer, or the verifier's refusal of both tries (asking
# again would most likely fail again). Deadlines, overload and errors say nothing of the key.
CACHEABLE = (None, TemplateReason.REJECTED)


class ExplanationCache:
    def __init__(self, namespace: Namespace, size: int):
        self.namespace = namespace
        self.size = size
        self._entries: OrderedDict[CacheKey, Explanation] = OrderedDict()
        self._in_flight: dict[CacheKey, _Shared] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, task: ExplainTask) -> CacheKey:
        return cache_key(self.namespace, task)

    def get(self, key: CacheKey) -> Explanation | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return replace(found, cached=True)

    def put(self, key: CacheKey, explanation: Explanation) -> None:
        if self.size == 0 or explanation.reason not in CACHEABLE:
            return
        self._entries[key] = replace(explanation, cached=False)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def in_flight(self, key: CacheKey) -> bool:
        return key in self._in_flight

    async def get_or_compute(
        self, key: CacheKey, compute: Callable[[], Awaitable[Explanation]]
    ) -> Explanation:
        """The cached explanation, or the result of one shared `compute` for this key."""
        found = self.get(key)
        if found is not None:
            metrics.CACHE_LOOKUPS.labels(result="hit").inc()
            return found
        shared = self._in_flight.get(key)
        if shared is None:
            metrics.CACHE_LOOKUPS.labels(result="miss").inc()
            shared = self._in_flight[key] = _Shared(asyncio.ensure_future(compute()))
            shared.task.add_done_callback(lambda task: self._settle(key, task))
        else:
            metrics.CACHE_LOOKUPS.labels(result="shared").inc()
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.task)
        except asyncio.CancelledError:
            shared.waiters -= 1
            if shared.waiters == 0:  # nobody wants it any more: abort the LLM call
                shared.task.cancel()
            raise

    def _settle(self, key: CacheKey, task: asyncio.Future) -> None:
        self._in_flight.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self.put(key, task.result())

    # Precomputed explanations: one JSON object per line after a header naming the namespace.

    def save(self, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(path.suffix + ".partial")
        with staging.open("w") as out:
            out.write(json.dumps({"namespace": str(self.namespace)}) + "\n")
            for key, explanation in self._entries.items():
                out.write(json.dumps(_entry(key, explanation)) + "\n")
        staging.replace(path)
        return len(self._entries)

    def load(self, path: Path) -> int:
        """Add the explanations in `path` if they were written for this namespace."""
        with path.open() as lines:
            header = json.loads(next(lines, "{}"))
            if header.get("namespace") != str(self.namespace):
                log.warning(
                    "ignoring %s: written for %s, serving %s",
                    path,
                    header.get("namespace"),
                    self.namespace,
                )
                return 0
            loaded = 0
            for line in lines:
                key, explanation = _from_entry(str(self.namespace), json.loads(line))
                self.put(key, explanation)
                loaded += 1
        log.info("loaded %d precomputed explanations from %s", loaded, path)
        return loaded


@dataclass
class _Shared:
    task: asyncio.Future
    waiters: int = 0


def _entry(key: CacheKey, explanation: Explanation) -> dict:
    _, language, recommended, evidence, *known = key
    return {
        **({"known": True} if known else {}),
        "language": language,
        "recommended": recommended,
        "evidence": [list(pair) for pair in evidence],
        "text": explanation.text,
        "cited_item_ids": list(explanation.cited_item_ids),
        "source": explanation.source,
        "reason": explanation.reason,
    }


def _from_entry(namespace: str, entry: dict) -> tuple[CacheKey, Explanation]:
    key = (
        namespace,
        entry["language"],
        entry["recommended"],
        tuple((item_id, rating) for item_id, rating in entry["evidence"]),
    ) + (("known",) if entry.get("known") else ())
    reason = TemplateReason(entry["reason"]) if entry["reason"] else None
    explanation = Explanation(
        entry["text"], tuple(entry["cited_item_ids"]), entry["source"], entry["language"], reason
    )
    return key, explanation
