"""Reading the ratings and counts a text quotes, however it words them.

"4/5", "nine out of ten", "four and a half stars", "gave Heat a 3", "rated it 4", "mit 4
bewertet", "a perfect score": every one of them is a rating, and the verifier checks each
against the evidence on the catalog's scale. A number near a rating verb is read as a rating
even without a scale, since a reader reads it so. Titles must be masked out of the text first
("12 Monkeys" is no rating).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from serve.explain.lang import PACKS

_NUMBER_WORDS: dict[str, float] = {
    word: value for p in PACKS.values() for word, value in p.number_words.items()
}
# Words that are also articles: a number where a scale or "stars" follows, not merely near a
# rating verb ("gave it one more look", "donné un 4").
_ARTICLES = frozenset(word for p in PACKS.values() for word in p.number_articles.split())

_HALF = (
    r"(?P<half>\s*½|\s+and\s+a\s+half|-and-a-half|\s+et\s+demie?|\s+y\s+medio|einhalb"
    r"|\s+und\s+ein\s+halb)?"
)


def _value_pattern(words: Iterable[str]) -> str:
    alternatives = "|".join(sorted(words, key=len, reverse=True))
    return rf"(?<![\w.,])(?P<value>\d+(?:[.,]\d+)?(?!\d)|(?:{alternatives})\b){_HALF}"


_VALUE = _value_pattern(_NUMBER_WORDS)
# Near a rating verb, "a", "un" and "eine" are articles: "gave Heat a 3" is a 3.
_CUED_VALUE = _value_pattern(set(_NUMBER_WORDS) - _ARTICLES)
_SCALE = r"(?P<scale>\d{1,3}|five|ten|fünf|zehn|cinq|dix|cinco|diez)\b"
# Verbs and nouns of rating, in every supported language.
_CUES = (
    r"rated|rate|rates|rating|ratings|gave|give|given|giving|scored|score|scores|scoring"
    r"|graded|grade|grading"
    r"|bewertet|bewertest|bewertung|benotet|vergeben|gabst|noté|notée|notés|note|donné|donnée"
    r"|attribué|valoraste|valorado|valorada|valoración|calificaste|calificación|puntuaste"
    r"|puntuación|diste|otorgaste"
    # "Tu as mis un 9", "Le pusiste un 5", "Du hast ihm eine 9 gegeben".
    r"|mis|mise|mettez|mets|pusiste|pones|puso|gegeben|gibst|vergabst"
)
# Ordered: "4 von 5 Sternen" is one rating of 4, not also one of 5 stars.
_SCALED = re.compile(
    rf"{_VALUE}\s*(?:/|\bout\s+of\b|\bsur\b|\bvon\b|\baus\b|\bde\b)\s*{_SCALE}", re.IGNORECASE
)
_STARS = re.compile(
    rf"{_VALUE}(?:\s*-\s*|\s+)(?:stars?|sterne?n?|étoiles?|estrellas?|points?|punkte?n?|puntos?)\b",
    re.IGNORECASE,
)
_PERFECT = re.compile(
    r"\b(?:perfect\s+(?:score|rating|ten|10|five|5|marks)|full\s+marks|top\s+marks"
    r"|volle\s+punktzahl|höchstnote|note\s+(?:parfaite|maximale)"
    r"|(?:puntuación|nota|calificación)\s+(?:perfecta|máxima))\b",
    re.IGNORECASE,
)
# "gave Heat (1995) a 3", "rated it a solid 4": the first number after a cue in its clause.
_CUED = re.compile(rf"\b(?:{_CUES})\b[^.!?;:,]{{0,60}}?{_CUED_VALUE}", re.IGNORECASE)
# German puts the verb last: "Heat mit 4 bewertet".
_CUED_BEFORE = re.compile(
    rf"\bmit\s+{_CUED_VALUE}(?=[^.!?;:,]{{0,40}}\b(?:bewertet|benotet)\b)", re.IGNORECASE
)
# A cheap first look: whether the text has anything the patterns above could read.
_MAY_RATE = re.compile(
    rf"\d|½|\b(?:{'|'.join(_NUMBER_WORDS)}|perfect|full|top|volle|höchstnote|note|nota"
    r"|puntuación|calificación)\b",
    re.IGNORECASE,
)
# Counts are never evidence (the prompt gives none), so "you played it 300 times" is invented.
_COUNT = re.compile(
    rf"{_VALUE}(?:\s+|\s*-\s*)(?:times|plays|listens|streams|hours|clicks|visits"
    r"|purchases|mal|fois|veces|stunden|heures|horas|écoutes|reproducciones|wiedergaben)\b",
    re.IGNORECASE,
)


# A share of people, as the prompt gives it ("38%") or as a model words it ("38 Prozent").
_PERCENT = re.compile(
    r"(?<![\w.,])(?P<value>\d+(?:[.,]\d+)?)\s*(?:%|\b(?:per\s*cent|percent|prozent|pour\s*cent"
    r"|por\s*ciento)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Quote:
    """A rating in a text: where its number stands, and its value on the catalog's scale."""

    start: int
    end: int
    value: float
    scale: float | None = None  # the scale it was quoted on, when it says ("9/10": 10)
    bare: bool = False  # a number by a rating verb, with no scale and no stars ("gave it a 9")


def quotes_count(text: str) -> bool:
    """Whether `text` quotes a count ("300 times", "zwölf Mal")."""
    return _COUNT.search(text) is not None


def percent_quotes(text: str) -> list[Quote]:
    """Every percentage `text` quotes, with its value in percent ("38 %": 38)."""
    return [
        Quote(match.start(), match.end(), float(match["value"].replace(",", ".")))
        for match in _PERCENT.finditer(text)
    ]


def rating_quotes(text: str, scale_max: float) -> list[Quote]:
    """Every rating `text` quotes, each once, with its value on a scale up to `scale_max`:
    "9/10" is 4.5 on a 5 scale, "a perfect score" is `scale_max`."""
    quotes: list[Quote] = []
    taken: list[tuple[int, int]] = []
    if not _MAY_RATE.search(text):  # most texts: no digit, no number word, no "perfect"
        return quotes

    def free(start: int) -> bool:
        return not any(s <= start < e for s, e in taken)

    for pattern in (_SCALED, _STARS):
        for match in pattern.finditer(text):
            if free(match.start("value")):
                taken.append(match.span())
                value, scale = _value(match), None
                if pattern is _SCALED:  # "9/10" is 4.5 on a 5 scale
                    scale = _number(match["scale"])
                    value = value / max(scale, 1e-9) * scale_max
                quotes.append(Quote(match.start("value"), match.end(), value, scale))
    for match in _PERFECT.finditer(text):
        if free(match.start()):
            taken.append(match.span())
            quotes.append(Quote(match.start(), match.end(), scale_max))
    for pattern in (_CUED, _CUED_BEFORE):
        for match in pattern.finditer(text):
            start = match.start("value")
            if free(start):
                taken.append((start, match.end()))
                quotes.append(Quote(start, match.end(), _value(match), bare=True))
    return sorted(quotes, key=lambda quote: quote.start)


def _value(match: re.Match[str]) -> float:
    return _number(match["value"]) + (0.5 if match["half"] else 0.0)


def _number(text: str) -> float:
    word = text.lower()
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else float(word.replace(",", "."))
