"""The languages explanations may be written in, their everyday words, and a cheap check that a
text is in the language asked for.

Tiny LLMs drift into English when asked for German, or the other way round; a full language
identifier is overkill for one or two sentences, so the check counts common function words that
belong to one language only, and words wordfreq finds far more often in one language than in
the others. Titles and catalog labels are removed first: "Das Boot" in an
English sentence says nothing about the sentence's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from serve.explain.lang import LANGUAGES, PACKS, of_every_pack
from serve.explain.text import letter_words, word_set
from serve.explain.verify.frequency import language_of

# Below this many words there is too little to judge: the text passes.
MIN_SCORABLE_WORDS = 4
# A text this long with no function word of the language asked for is not in that language.
MIN_WORDS_FOR_ABSENCE = 8
# Another language dominates when it has at least this many hits, and more than twice as many.
MIN_DOMINANT_HITS = 2

_QUOTED = re.compile(r"\"[^\"]{1,100}\"|“[^”]{1,100}”|„[^“”]{1,100}[“”]|«[^»]{1,100}»")


# Function words of each language: frequent, never names, never titles by themselves.
STOPWORDS: dict[str, frozenset[str]] = {code: word_set(p.stopwords) for code, p in PACKS.items()}
# Everyday words of explanations: neither names nor evidence, so they may be capitalized (German
# nouns always are), and a title made only of them ("Love Story") needs capitals to count.
COMMON_WORDS: dict[str, frozenset[str]] = {
    code: word_set(p.common_words) for code, p in PACKS.items()
}
# The stopwords of any language (`grounding.FUNCTION_WORDS` is the longer list of closed mode).
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())
EVERYDAY_WORDS: frozenset[str] = ALL_STOPWORDS.union(*COMMON_WORDS.values())
# Capitalized words that start sentences of explanations: at a sentence start, a capitalized
# word that is none of these, no everyday word and no evidence is read as a name ("Nolan fans").
SENTENCE_STARTERS: frozenset[str] = of_every_pack("sentence_starters")

# Only words of a single language are evidence for it ("la", "que", "in" are not).
_MARKERS: dict[str, frozenset[str]] = {
    language: words.difference(*(other for name, other in STOPWORDS.items() if name != language))
    for language, words in STOPWORDS.items()
}


def looks_like(text: str, language: str, ignore: Iterable[str] = ()) -> bool:
    """Whether `text` is in `language`, within reason: lenient on short texts, false when
    another language clearly dominates or a long text has no word of the language at all.

    Quoted passages and the phrases in `ignore` (titles, catalog labels) are not scored.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
    words = _without_phrases(letter_words(_QUOTED.sub(" ", text)), ignore)
    if len(words) < MIN_SCORABLE_WORDS:
        return True
    hits = {name: sum(word in markers for word in words) for name, markers in _MARKERS.items()}
    # Beyond the function words: words that clearly belong to one language ("devrait", "libro").
    for word in words:
        if (owner := language_of(word)) is not None and word not in _MARKERS[owner]:
            hits[owner] += 1
    asked = hits.pop(language)
    other = max(hits.values())
    if asked == 0:
        return other == 0 and len(words) < MIN_WORDS_FOR_ABSENCE
    return not (other >= MIN_DOMINANT_HITS and other > 2 * asked)


def _without_phrases(words: list[str], phrases: Iterable[str]) -> list[str]:
    """`words` with every occurrence of each phrase's word sequence removed, longest first."""
    sequences = sorted(
        {tuple(letter_words(phrase)) for phrase in phrases} - {()}, key=len, reverse=True
    )
    if not sequences:
        return words
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for sequence in sequences:
        by_first.setdefault(sequence[0], []).append(sequence)
    kept: list[str] = []
    position = 0
    while position < len(words):
        candidates = by_first.get(words[position], ())
        length = next(
            (len(s) for s in candidates if tuple(words[position : position + len(s)]) == s), 0
        )
        if length:
            position += length
        else:
            kept.append(words[position])
            position += 1
    return kept
