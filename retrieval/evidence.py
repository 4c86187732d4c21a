"""Evidence for an explanation: which of the user's own items make a recommendation plausible.

The LLM is told to explain only from this, so it must be small, true and checkable: the 1-3
history items most similar to the recommended item (with the user's rating and the similarity),
and the genres or tags the recommended item shares with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.config import EvidenceConfig
from retrieval.hybrid import History


@dataclass(frozen=True)
class EvidenceItem:
    """`rating` is the user's value for the item on the catalog's feedback scale (a rating, a
    count, 1); `top_share` the share of the user's history with a higher value (0: their most
    played), so counts can be told as "among your most played" without quoting them.

    `also_share` is the collaborative signal: of the users who liked this item, the share who
    also liked the recommended one (0.38: "38% of the people who play X also play Y"), rounded to
    two places as every prompt, template and the verifier see it; None where it is not known."""

    item_id: str
    title: str
    rating: float | None
    similarity: float
    top_share: float | None = None
    also_share: float | None = None


def evidence_positions(
    similarity_vectors: np.ndarray,
    history: History,
    recommended: list[int],
    config: EvidenceConfig,
    drivers: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> list[list[tuple[int, float, float]]]:
    """For each recommended position, (history position, value, similarity) triples, best first.

    Only liked history items can be evidence ("because you rated it 1/5" explains nothing); a
    history with no liked item falls back to all of it. Each recommendation gets at least its
    single most similar item, and up to `max_items` above `min_similarity`.

    `drivers` (an item-item model's weights from sources to targets, `ItemItem.pull`) makes the
    evidence what drove the
    score: the liked items with the largest weight towards the recommended one, up to
    `max_items` with a positive weight; the similarity order stands in where none has one.
    """
    if len(history.items) == 0 or not recommended:
        return [[] for _ in recommended]
    candidates = np.flatnonzero(history.positive)
    if len(candidates) == 0:
        candidates = np.arange(len(history.items))
    # The latest interaction wins when an item occurs twice in a history.
    _, last = np.unique(history.items[candidates][::-1], return_index=True)
    candidates = candidates[::-1][last]
    similarity = similarity_vectors[recommended] @ similarity_vectors[history.items[candidates]].T
    weight = (
        drivers(history.items[candidates], np.asarray(recommended)).T
        if drivers is not None
        else np.zeros_like(similarity)
    )
    # An item the history already holds (a caller's own list may name one) is never its own
    # evidence: "because you liked X" says nothing of X.
    itself = history.items[candidates][None, :] == np.asarray(recommended)[:, None]
    similarity[itself] = -np.inf
    weight[itself] = 0
    result = []
    for row, pull, own in zip(similarity, weight, itself, strict=True):
        order = np.argsort(-row, kind="stable")[: config.max_items]
        order = order[~own[order]]
        if len(order) == 0:  # the history is that item alone
            result.append([])
            continue
        chosen = [j for j in order if row[j] >= config.min_similarity] or [order[0]]
        if (pull > 0).any():
            by_pull = np.lexsort((-row, -pull))[: config.max_items]
            chosen = [j for j in by_pull if pull[j] > 0]
        result.append(
            [
                (
                    int(history.items[candidates[j]]),
                    float(history.ratings[candidates[j]]),
                    float(row[j]),
                )
                for j in chosen
            ]
        )
    return result


def shared_labels(recommended_labels: list[str], evidence_labels: list[list[str]]) -> list[str]:
    """The recommended item's genres and tags that an evidence item also has, in its order,
    each once whatever its case (a genre "Thriller" and a tag "thriller" are one label)."""
    evidence = {label.casefold() for labels in evidence_labels for label in labels}
    shared: dict[str, str] = {}
    for label in recommended_labels:
        if label.casefold() in evidence:
            shared.setdefault(label.casefold(), label)
    return list(shared.values())


def rating_or_none(rating: float) -> float | None:
    return None if math.isnan(rating) else rating


def top_share(history: History, value: float) -> float | None:
    """The share of `history` valued above `value` (0: the user's top), None without a value."""
    if math.isnan(value):
        return None
    known = history.ratings[~np.isnan(history.ratings)]
    return round(float(np.mean(known > value)), 4) if known.size else None
