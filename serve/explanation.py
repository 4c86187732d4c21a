"""What an explanation is built from and what it becomes: the contract between the retriever,
the prompt, the verifier and the template."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Explanation:
    text: str
    cited_item_ids: tuple[str, ...]
    source: Source
    language: str
