"""Explanations that need no LLM: shown when the LLM's explanation is rejected, and for the
languages tiny models write badly.

A template names one evidence item, what the user's feedback says of it (a rating on the
catalog's scale; for counts, whether it is among their most played) and up to three shared labels,
so it is grounded by construction and passes the same Verifier as LLM output. Catalog text that
reads like an instruction (see `is_unsafe`) is never printed. When no evidence item is safe to
name, the sentence names none: such an explanation cites nothing, and is the one case where the
Verifier's "no_evidence_cited" rule does not hold for a template.
"""

from __future__ import annotations

from dataclasses import dataclass

from serve.explain.explanation import ExplainTask, Explanation, Fact, TemplateReason
from serve.explain.languages import LANGUAGES
from serve.explain.titles import CatalogTitles
from serve.explain.verifier import is_unsafe
from serve.explain.vocabulary import Vocabulary

MAX_LABELS = 3


@dataclass(frozen=True)
class _Wording:
    """One language's sentences; `{items}` and `{action}` come from the catalog's vocabulary."""

    rated: str  # explicit ratings: "{rating}" is quoted on the catalog's scale ("4.5/5")
    liked: str  # a history item given without a value
    top: str  # implicit: among the user's highest counts ("most played"), counts never quoted
    in_history: str  # implicit or binary, not among the highest
    shared: str
    similar: str
    generic: str
    generic_history: str  # implicit or binary catalogs, where "liked" is not known
    conjunction: str
    decimal_comma: bool
    # English only: the catalog's verb ("played") makes "most played" and "you played X".
    top_action: str | None = None
    did_action: str | None = None
    generic_action: str | None = None


_WORDINGS: dict[str, _Wording] = {
    "en": _Wording(
        rated="Because you rated {title} {rating}",
        liked="Because you liked {title}",
        top="Because {title} is among your favourites",
        in_history="Because {title} is in your history",
        shared=" and both {items} have {labels} in common.",
        similar=" and the two {items} are similar.",
        generic="Recommended because it is similar to {items} you liked.",
        generic_history="Recommended because it is similar to {items} in your history.",
        conjunction="and",
        decimal_comma=False,
        top_action="Because {title} is among your most {action}",
        did_action="Because you {action} {title}",
        generic_action="Recommended because it is similar to {items} you {action}.",
    ),
    "de": _Wording(
        rated="Weil du {title} mit {rating} bewertet hast",
        liked="Weil dir {title} gefallen hat",
        top="Weil {title} zu deinen Favoriten gehört",
        in_history="Weil {title} in deinem Verlauf ist",
        shared=" und beide {items} {labels} gemeinsam haben.",
        similar=" und beide {items} sich ähneln.",
        generic="Empfohlen, weil es dem ähnelt, was dir gefallen hat.",
        generic_history="Empfohlen, weil es deinem Verlauf ähnelt.",
        conjunction="und",
        decimal_comma=True,
    ),
    "fr": _Wording(
        rated="Parce que vous avez noté {title} {rating}",
        liked="Parce que vous avez aimé {title}",
        top="Parce que {title} fait partie de vos favoris",
        in_history="Parce que {title} fait partie de votre historique",
        shared=" et que les deux {items} ont {labels} en commun.",
        similar=" et que les deux {items} se ressemblent.",
        generic="Recommandé parce qu'il ressemble à ce que vous avez aimé.",
        generic_history="Recommandé parce qu'il ressemble à votre historique.",
        conjunction="et",
        decimal_comma=True,
    ),
    "es": _Wording(
        rated="Porque valoraste {title} con {rating}",
        liked="Porque te gustó {title}",
        top="Porque {title} está entre tus favoritos",
        in_history="Porque {title} está en tu historial",
        shared=" y ambos tienen {labels} en común.",
        similar=" y ambos se parecen.",
        generic="Recomendado porque se parece a lo que te gustó.",
        generic_history="Recomendado porque se parece a tu historial.",
        conjunction="y",
        decimal_comma=True,
    ),
}


def template_explanation(
    task: ExplainTask, reason: TemplateReason = TemplateReason.REJECTED
) -> Explanation:
    """A deterministic explanation of `task` in `task.language` from its first safe evidence
    item, in the catalog's words: "Because you rated Heat (1995) 5/5 and both have Crime and
    Thriller in common.", "Because Radiohead is among your most played and ..."; it carries
    `reason`, why no LLM text is shown."""
    wording = _WORDINGS.get(task.language)
    if wording is None:
        raise ValueError(
            f"unsupported language {task.language!r}; supported: {', '.join(LANGUAGES)}"
        )
    fact = next((fact for fact in task.evidence if not is_unsafe(fact.title)), None)
    if fact is None:
        return Explanation(_generic(task, wording), (), "template", task.language, reason)
    labels = [label for label in task.shared_tags if not is_unsafe(label)][:MAX_LABELS]
    items = task.vocabulary.nouns(task.language).plural
    ending = (
        wording.shared.format(labels=_listing(labels, wording), items=items)
        if labels
        else wording.similar.format(items=items)
    )
    text = _opening(fact, task.vocabulary, wording) + ending
    return Explanation(text, (fact.item_id,), "template", task.language, reason)


def _opening(fact: Fact, vocabulary: Vocabulary, wording: _Wording) -> str:
    title = CatalogTitles.display_variants(fact.title)[0]
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


def _generic(task: ExplainTask, wording: _Wording) -> str:
    vocabulary = task.vocabulary
    items = vocabulary.nouns(task.language).plural
    if vocabulary.kind == "explicit":
        return wording.generic.format(items=items)
    if vocabulary.action and wording.generic_action:
        return wording.generic_action.format(items=items, action=vocabulary.action)
    return wording.generic_history.format(items=items)


def _listing(labels: list[str], wording: _Wording) -> str:
    """Labels joined as "A", "A and B" or "A, B and C" in the template's language."""
    if len(labels) == 1:
        return labels[0]
    return f"{', '.join(labels[:-1])} {wording.conjunction} {labels[-1]}"
