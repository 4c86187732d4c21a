"""The verifier measured on a labelled corpus of explanations (`recsplain verifier-eval`).

A corpus is a YAML list of cases in the format of `tests/data/verifier_*.yaml`: an explanation's
`text`, its `label` (good or bad), and the facts the prompt showed (`recommended`, `evidence`,
`shared_tags`, `language`). Each case goes through the production verifier, built as the service
builds it for the case's catalog, so that anyone can measure it on text we never saw.

Rejection is the positive class: recall is the share of bad explanations rejected, and
`good_rejected_rate` the share of good ones lost to templates.

A case names its catalog (`catalog:`, default `movielens`): the verifier needs every title of the
catalog to tell a recommended title from another one. The shipped catalogs are known by name;
`--catalog NAME=CONFIG.yaml` reads your own; any other name is built from the corpus's own facts.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from retrieval.config import DataConfig, RetrievalConfig
from serve.config import PROJECT_ROOT, VerifierMode, load_settings
from serve.explain.explanation import ExplainTask, Fact
from serve.explain.lang import LANGUAGES
from serve.explain.policy import grounding_verifier
from serve.explain.vocabulary import Vocabulary

MOVIELENS = "movielens"
MUSIC_CONFIG = PROJECT_ROOT / "data" / "configs" / "synthetic-music.yaml"
MUSIC_DATA = PROJECT_ROOT / "data" / "synthetic-music"
# A title-only game log (hours played), as issue 15 met it: its titles come from the corpus.
GAMES = Vocabulary(
    kind="implicit", scale=None, item="game", items="games", action="played",
    years_in_titles=False, labelled=False,
)  # fmt: skip
# The shipped corpora's title-only game catalogs, built from their own facts.
FACT_VOCABULARIES = {"title-only-games": GAMES, "holdout2-games": GAMES}


class CorpusError(ValueError):
    """A corpus that cannot be read; the message names the file, the case and the field."""


class _Case(BaseModel):
    model_config = ConfigDict(extra="allow")


class CaseFact(_Case):
    item_id: str | int
    title: str = Field(min_length=1)
    genres: list[str] | None = None
    tags: list[str] | None = None
    rating: float | None = None
    top_share: float | None = Field(None, ge=0, le=1)
    also_share: float | None = Field(None, ge=0, le=1)

    def fact(self) -> Fact:
        return Fact(
            item_id=str(self.item_id),
            title=self.title,
            genres=tuple(self.genres or ()),
            tags=tuple(self.tags or ()),
            rating=self.rating,
            top_share=self.top_share,
            also_share=self.also_share,
        )


class CaseVocabulary(BaseModel):
    """A case's overrides of its catalog's words (`Vocabulary`); only the fields it sets count.
    A scale is `[min, max]` or `{min: ..., max: ...}`; `null` for implicit feedback."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["explicit", "implicit"] | None = None
    scale: tuple[float, float] | None = None
    item: str | None = None
    items: str | None = None
    action: str | None = None
    translations: tuple[tuple[str, str, str], ...] | None = None  # (language, singular, plural)
    years_in_titles: bool | None = None
    labelled: bool | None = None

    @field_validator("scale", mode="before")
    @classmethod
    def _min_max(cls, value):
        if isinstance(value, dict) and set(value) == {"min", "max"}:
            return (value["min"], value["max"])
        return value

    def overrides(self) -> dict:
        return self.model_dump(exclude_unset=True)


class Case(_Case):
    id: str | int
    label: Literal["good", "bad"]
    language: str
    text: str
    category: str = "uncategorized"
    catalog: str = MOVIELENS
    recommended: CaseFact
    evidence: list[CaseFact] = Field(min_length=1)
    shared_tags: list[str] = Field(default_factory=list)
    vocabulary: CaseVocabulary | None = None  # overrides of the catalog's, e.g. {scale: [1, 10]}
    why: str | None = None

    def facts(self) -> Iterator[CaseFact]:
        yield self.recommended
        yield from self.evidence


@dataclass(frozen=True)
class Catalog:
    """One catalog as the service sees it: its items (id → title, genres, tags) and words."""

    items: dict[str, dict]
    vocabulary: Vocabulary

    def titles(self) -> list[tuple[str, str]]:
        """(item_id, title) pairs: what the Retriever hands the ingress's verifier."""
        return [(item_id, row["title"]) for item_id, row in self.items.items()]


@dataclass(frozen=True)
class Outcome:
    case: Case
    ok: bool
    reason: str | None
    seconds: float = 0.0  # the check alone, as the ingress pays it per explanation

    @property
    def correct(self) -> bool:
        return self.ok == (self.case.label == "good")

    def line(self) -> dict:
        """One case's verdict, a JSON line of `verifier-eval`."""
        case = self.case
        return {
            "id": case.id, "label": case.label, "category": case.category,
            "language": case.language, "catalog": case.catalog, "accepted": self.ok,
            "correct": self.correct, "reason": self.reason,
        }  # fmt: skip


def load_corpus(path: Path) -> list[Case]:
    """The cases of a corpus file, each checked; a bad one names the file, case and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CorpusError(f"{path}: {error}") from error
    if not isinstance(raw, list):
        raise CorpusError(f"{path}: a corpus is a YAML list of cases")
    cases = []
    for number, entry in enumerate(raw, start=1):
        name = entry.get("id", "?") if isinstance(entry, dict) else "?"
        try:
            case = Case.model_validate(entry)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(case)"
            raise CorpusError(
                f"{path}: case {number} (id {name}): field {field}: {first['msg']}"
            ) from error
        if case.language not in LANGUAGES:
            raise CorpusError(
                f"{path}: case {number} (id {name}): field language: {case.language!r} is "
                f"not one of {', '.join(LANGUAGES)}"
            )
        cases.append(case)
    if not cases:
        raise CorpusError(f"{path}: no cases")
    return cases


def _dataset_catalog(config: RetrievalConfig, strip_labels: bool = False) -> Catalog:
    from retrieval.data import load_dataset

    dataset = load_dataset(config.data)
    frame = dataset.items
    vocabulary = Vocabulary.of_items(
        config.for_dataset(dataset.feedback, dataset.domain).data, frame
    )
    items = {row["item_id"]: row for row in frame.iter_rows(named=True)}
    if strip_labels:
        items = {key: {**row, "genres": [], "tags": []} for key, row in items.items()}
        vocabulary = replace(vocabulary, labelled=False)
    return Catalog(items, vocabulary)


def _facts_catalog(name: str, cases: Iterable[Case]) -> Catalog:
    """A catalog known only from the corpus: the items its cases show, in words inferred from
    them (labels, years in titles) unless it is one of the shipped corpora's."""
    items = {
        str(fact.item_id): {
            "title": fact.title,
            "genres": fact.genres or [],
            "tags": fact.tags or [],
        }
        for case in cases
        if case.catalog == name
        for fact in case.facts()
    }
    vocabulary = FACT_VOCABULARIES.get(name) or Vocabulary.of(
        DataConfig(),
        [row["title"] for row in items.values()],
        labelled=any(row["genres"] or row["tags"] for row in items.values()),
    )
    return Catalog(items, vocabulary)


def catalogs_for(cases: list[Case], configs: dict[str, Path] | None = None) -> dict[str, Catalog]:
    """Every catalog the cases name: `configs` (name → retrieval config YAML) first, then the
    shipped ones (MovieLens, the synthetic artists with or without labels), then the corpus's
    own facts."""
    configs = configs or {}
    shipped = {
        MOVIELENS: lambda: _dataset_catalog(RetrievalConfig()),
        "synthetic-music": lambda: _dataset_catalog(
            RetrievalConfig.from_yaml(MUSIC_CONFIG, MUSIC_DATA)
        ),
        "synthetic-music-names": lambda: _dataset_catalog(
            RetrievalConfig.from_yaml(MUSIC_CONFIG, MUSIC_DATA), strip_labels=True
        ),
    }
    out: dict[str, Catalog] = {}
    for name in sorted({case.catalog for case in cases}):
        if name in configs:
            out[name] = _dataset_catalog(RetrievalConfig.from_yaml(configs[name]))
        elif name in shipped:
            out[name] = shipped[name]()
        else:
            out[name] = _facts_catalog(name, cases)
    return out


def case_vocabulary(case: Case, catalogs: dict[str, Catalog]) -> Vocabulary:
    """The catalog's vocabulary with the case's overrides (a 1-10 scale, say)."""
    overrides = case.vocabulary.overrides() if case.vocabulary else {}
    return replace(catalogs[case.catalog].vocabulary, **overrides)


def case_task(case: Case, vocabulary: Vocabulary) -> ExplainTask:
    return ExplainTask(
        recommended=case.recommended.fact(),
        evidence=tuple(fact.fact() for fact in case.evidence),
        shared_tags=tuple(case.shared_tags),
        language=case.language,
        vocabulary=vocabulary,
    )


def evaluate(
    cases: list[Case], catalogs: dict[str, Catalog], mode: VerifierMode = "rules"
) -> list[Outcome]:
    """Every case through the production verifier in `mode`, one verifier per catalog and
    vocabulary, as the ingress builds one per build."""
    max_chars = load_settings().explain.max_chars
    verifiers = {}
    outcomes = []
    for case in cases:
        vocabulary = case_vocabulary(case, catalogs)
        key = (case.catalog, vocabulary)
        if key not in verifiers:
            verifiers[key] = grounding_verifier(
                catalogs[case.catalog].titles(), max_chars, vocabulary, mode
            )
        raw = json.dumps({"explanation": case.text}, ensure_ascii=False)
        task = case_task(case, vocabulary)
        started = time.perf_counter()
        verdict = verifiers[key].check(raw, task)
        seconds = time.perf_counter() - started
        reason = None if verdict.ok else ":".join(filter(None, (verdict.reason, verdict.detail)))
        outcomes.append(Outcome(case, verdict.ok, reason, seconds))
    return outcomes


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summary(outcomes: list[Outcome], source: str, mode: VerifierMode) -> dict:
    """Recall and precision of rejection, and the share of good explanations rejected."""
    bad = [o for o in outcomes if o.case.label == "bad"]
    good = [o for o in outcomes if o.case.label == "good"]
    rejected_bad = sum(not o.ok for o in bad)
    rejected_good = sum(not o.ok for o in good)
    return {
        "summary": True,
        "corpus": source,
        "mode": mode,
        "cases": {"good": len(good), "bad": len(bad)},
        "rejection": {
            "precision": _ratio(rejected_bad, rejected_bad + rejected_good),
            "recall": _ratio(rejected_bad, len(bad)),
            "bad_accepted": len(bad) - rejected_bad,
            "good_rejected": rejected_good,
            "good_rejected_rate": _ratio(rejected_good, len(good)),
        },
        "check_ms": _milliseconds([o.seconds for o in outcomes]),
    }


def _milliseconds(seconds: list[float]) -> dict:
    """What one check costs: mean, median and the slowest 1%, in milliseconds."""
    ordered = sorted(seconds)

    def at(quantile: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1e3, 3)

    return {"mean": round(sum(ordered) / len(ordered) * 1e3, 3), "p50": at(0.5), "p99": at(0.99)}


def report(outcomes: list[Outcome], source: str, mode: VerifierMode = "rules") -> dict:
    """The summary, the cases it got wrong, and the counts per category and language."""
    by_category: dict[str, dict] = {}
    by_language: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        case = outcome.case
        row = by_category.setdefault(
            case.category, {"label": case.label, "cases": 0, "rejected": 0}
        )
        row["cases"] += 1
        row["rejected"] += not outcome.ok
        by_language[case.language][case.label] += 1
        by_language[case.language][f"{case.label}_misclassified"] += not outcome.correct
    for row in by_category.values():
        row["rejection_rate"] = _ratio(row["rejected"], row["cases"])
    head = summary(outcomes, source, mode)
    del head["summary"], head["check_ms"]  # timings vary run to run; the command reports them
    return {
        **head,
        "bad_accepted": [
            {"id": o.case.id, "category": o.case.category, "text": o.case.text, "why": o.case.why}
            for o in outcomes
            if not o.correct and o.case.label == "bad"
        ],
        "good_rejected": [
            {"id": o.case.id, "category": o.case.category, "reason": o.reason}
            for o in outcomes
            if not o.correct and o.case.label == "good"
        ],
        "rejection_reasons": dict(Counter(o.reason for o in outcomes if not o.ok).most_common()),
        "by_category": dict(sorted(by_category.items(), key=lambda kv: (kv[1]["label"], kv[0]))),
        "by_language": {language: dict(counts) for language, counts in sorted(by_language.items())},
    }


def lines(outcomes: list[Outcome], head: dict) -> Iterator[str]:
    """The JSON lines `verifier-eval` writes: one verdict per case, the summary (`head`) last."""
    for outcome in outcomes:
        yield json.dumps(outcome.line(), ensure_ascii=False)
    yield json.dumps(head, ensure_ascii=False)
