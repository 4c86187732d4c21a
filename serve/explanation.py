"""What an explanation is built from and what it becomes: the contract between the retriever,
the prompt, the verifier and the template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["llm", "template"]


@dataclass(frozen=True)
class Fact:
    """One item the explanation may talk about, with what the catalog and the user say of it."""

    item_id: str
    title: str
    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rating: float | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class ExplainTask:
    """Everything needed to explain one recommended item to one user, and nothing more."""

    recommended: Fact
    evidence: tuple[Fact, ...]
    shared_tags: tuple[str, ...]
    language: str = "en"
    # Every item of the user's history: titles the explanation may name besides the evidence.
    history_item_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Explanation:
    text: str
    cited_item_ids: tuple[str, ...]
    source: Source
    language: str
