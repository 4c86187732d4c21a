"""Explanations that need no LLM: shown when the LLM's explanation is rejected, and for the
languages tiny models write badly.

A template names the recommended item, one evidence item and what the user's feedback says of it
(a rating on the catalog's scale; for counts, whether it is among their most played), and the
best reason the catalog supports: up to three shared labels, else the share of people who liked
both, else that no other history item is more like it. It is grounded by construction and passes
the same Verifier as LLM output. Catalog text that reads like an instruction (see `is_unsafe`) is
never printed. When no evidence item (or the recommended item) is safe to name, the sentence names
none: such an explanation cites nothing, and is the one case where the Verifier's
"no_evidence_cited" rule does not hold for a template.
"""

from __future__ import annotations

from serve.explain import lang
from serve.explain.explanation import ExplainTask, Explanation, Fact, TemplateReason
from serve.explain.lang import Wording
from serve.explain.verify.injection import is_unsafe
from serve.explain.verify.titles import CatalogTitles
from serve.explain.vocabulary import Vocabulary, percent_text

MAX_LABELS = 3


def template_explanation(
    task: ExplainTask, reason: TemplateReason = TemplateReason.REJECTED
) -> Explanation:
    """A deterministic explanation of `task` in `task.language` from its first safe evidence
    item, in the catalog's words, naming the recommended item: "Ronin (1998) is recommended
    because you rated Heat (1995) 5/5 and both movies have Crime and Thriller in common.",
    "Unturned is recommended because Garry's Mod is among your most played, and 38% of the
    people who played it also played Unturned."; it carries `reason`, why no LLM text is shown."""
    wording = lang.pack(task.language).template  # a ValueError for another language
    safe = [fact for fact in task.evidence if not is_unsafe(fact.title)]
    if not safe or is_unsafe(task.recommended.title):
        return Explanation(_generic(task, wording), (), "template", task.language, reason)
    labels = [label for label in task.shared_tags if not is_unsafe(label)][:MAX_LABELS]
    # With no label to share, the history item people share it with says most; else the closest.
    fact = next((f for f in safe if f.also_share is not None), safe[0]) if not labels else safe[0]
    vocabulary = task.vocabulary
    items = vocabulary.nouns(task.language).plural
    recommended = _display(task.recommended.title)
    if labels:
        ending = wording.shared.format(labels=_listing(labels, wording), items=items)
    elif fact.also_share is not None:
        ending = wording.also.format(
            percent=percent_text(fact.also_share, task.language),
            did=vocabulary.liked,
            recommended=recommended,
        )
    else:
        ending = wording.closest.format(items=items)
    clause = _clause(fact, vocabulary, wording)
    text = wording.lead.format(recommended=recommended, clause=clause) + ending
    return Explanation(text, (fact.item_id,), "template", task.language, reason)


def _display(title: str) -> str:
    return CatalogTitles.display_variants(title)[0]


def _clause(fact: Fact, vocabulary: Vocabulary, wording: Wording) -> str:
    """What the user did with the history item, as a clause after "because"."""
    title = _display(fact.title)
    if fact.rating is None:
        return wording.liked.format(title=title)
    if vocabulary.kind == "explicit":
        rating = vocabulary.rating_text(fact.rating)
        if wording.decimal_comma:
            rating = rating.replace(".", ",")
        return wording.rated.format(title=title, rating=rating)
    action = vocabulary.action
    if vocabulary.kind == "implicit" and vocabulary.is_top(fact.top_share):
        if action and wording.top_action:
            return wording.top_action.format(title=title, action=action)
        return wording.top.format(title=title)
    if action and wording.did_action:
        return wording.did_action.format(title=title, action=action)
    return wording.in_history.format(title=title)


def _generic(task: ExplainTask, wording: Wording) -> str:
    vocabulary = task.vocabulary
    items = vocabulary.nouns(task.language).plural
    if vocabulary.kind == "explicit":
        return wording.generic.format(items=items)
    if vocabulary.action and wording.generic_action:
        return wording.generic_action.format(items=items, action=vocabulary.action)
    return wording.generic_history.format(items=items)


def _listing(labels: list[str], wording: Wording) -> str:
    """Labels joined as "A", "A and B" or "A, B and C" in the template's language."""
    if len(labels) == 1:
        return labels[0]
    return f"{', '.join(labels[:-1])} {wording.conjunction} {labels[-1]}"
