"""Explanations that need no LLM: shown when the LLM's explanation is rejected, and for the
languages tiny models write badly.

A template names one evidence item, the user's own rating of it and up to three shared labels,
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

MAX_LABELS = 3


@dataclass(frozen=True)
class _Wording:
    rated: str
    liked: str
    shared: str
    similar: str
    generic: str
    conjunction: str
    decimal_comma: bool


_WORDINGS: dict[str, _Wording] = {
    "en": _Wording(
        rated="Because you rated {title} {rating}/5",
        liked="Because you liked {title}",
        shared=" and both have {labels} in common.",
        similar=" and this title is similar to it.",
        generic="Recommended because this title is similar to titles you liked.",
        conjunction="and",
        decimal_comma=False,
    ),
    "de": _Wording(
        rated="Weil du {title} mit {rating}/5 bewertet hast",
        liked="Weil dir {title} gefallen hat",
        shared=" und beide {labels} gemeinsam haben.",
        similar=" und dieser Titel ihm ähnelt.",
        generic="Empfohlen, weil dieser Titel den Titeln ähnelt, die dir gefallen haben.",
        conjunction="und",
        decimal_comma=True,
    ),
    "fr": _Wording(
        rated="Parce que vous avez noté {title} {rating}/5",
        liked="Parce que vous avez aimé {title}",
        shared=" et que les deux ont {labels} en commun.",
        similar=" et que ce titre lui ressemble.",
        generic="Recommandé parce que ce titre ressemble à des titres que vous avez aimés.",
        conjunction="et",
        decimal_comma=True,
    ),
    "es": _Wording(
        rated="Porque valoraste {title} con {rating}/5",
        liked="Porque te gustó {title}",
        shared=" y ambos tienen {labels} en común.",
        similar=" y este título se le parece.",
        generic="Recomendado porque este título se parece a los títulos que te gustaron.",
        conjunction="y",
        decimal_comma=True,
    ),
}


def template_explanation(
    task: ExplainTask, reason: TemplateReason = TemplateReason.REJECTED
) -> Explanation:
    """A deterministic explanation of `task` in `task.language` from its first safe evidence
    item: "Because you rated Heat (1995) 5/5 and both have Crime and Thriller in common."; it
    carries `reason`, why no LLM text is shown."""
    wording = _WORDINGS.get(task.language)
    if wording is None:
        raise ValueError(
            f"unsupported language {task.language!r}; supported: {', '.join(LANGUAGES)}"
        )
    fact = next((fact for fact in task.evidence if not is_unsafe(fact.title)), None)
    if fact is None:
        return Explanation(wording.generic, (), "template", task.language, reason)
    labels = [label for label in task.shared_tags if not is_unsafe(label)][:MAX_LABELS]
    ending = wording.shared.format(labels=_listing(labels, wording)) if labels else wording.similar
    text = _opening(fact, wording) + ending
    return Explanation(text, (fact.item_id,), "template", task.language, reason)


def _opening(fact: Fact, wording: _Wording) -> str:
    title = CatalogTitles.display_variants(fact.title)[0]
    if fact.rating is None:
        return wording.liked.format(title=title)
    rating = f"{fact.rating:g}"
    if wording.decimal_comma:
        rating = rating.replace(".", ",")
    return wording.rated.format(title=title, rating=rating)


def _listing(labels: list[str], wording: _Wording) -> str:
    """Labels joined as "A", "A and B" or "A, B and C" in the template's language."""
    if len(labels) == 1:
        return labels[0]
    return f"{', '.join(labels[:-1])} {wording.conjunction} {labels[-1]}"
