"""What an explanation is built from and what it becomes: the contract between the retriever,
the prompt, the verifier and the template."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from serve.explain.vocabulary import UNDECLARED, Vocabulary

Source = Literal["llm", "template"]


class TemplateReason(StrEnum):
    """Why a template stands in for the LLM: each one points an operator at a different fix."""

    DEADLINE = "deadline"  # the LLM did not answer within the request's budget
    OVERLOADED = "overloaded"  # admission control: the LLM's queue could not finish in time
    CAPPED = "capped"  # beyond the LLM calls one request may start
    REJECTED = "rejected"  # the verifier refused the LLM's answers
    LLM_ERROR = "llm_error"  # the LLM call failed
    NO_EVIDENCE = "no_evidence"  # nothing in the history to ground an explanation on


@dataclass(frozen=True)
class Fact:
    """One item the explanation may talk about, with what the catalog and the user say of it."""

    item_id: str
    title: str
    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rating: float | None = None  # the user's value on the catalog's scale: a rating, a count, 1
    similarity: float | None = None
    top_share: float | None = None  # share of the user's history valued higher (0: their top)
    # Of the users who liked this (evidence) item, the share who also liked the recommended one,
    # to two places: the collaborative reason a catalog without genres still has.
    also_share: float | None = None


@dataclass(frozen=True)
class ExplainTask:
    """Everything needed to explain one recommended item to one user, and nothing more."""

    recommended: Fact
    evidence: tuple[Fact, ...]
    shared_tags: tuple[str, ...]
    language: str = "en"
    vocabulary: Vocabulary = UNDECLARED
    known: bool = False  # the recommended item is in the user's history (a caller's own list)


@dataclass(frozen=True)
class Explanation:
    text: str
    cited_item_ids: tuple[str, ...]
    source: Source
    language: str
    reason: TemplateReason | None = None  # set exactly when source is "template"
    cached: bool = False
