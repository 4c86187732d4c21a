"""Basic text functions, defined once for the whole explanation stage: folding, the two ways of
splitting a text into words, tokens with their context, word lists, and the year patterns.

Two splitters on purpose, each keeping the behaviour its callers were measured with:
- `words_of` (and `tokenize`, `word_set`, `catalog_words`): the normalized words titles are keyed
  by: a word is kept whole across apostrophes ("Schindler's" gives "schindler"), digits count
  ("12 Monkeys" gives "12", "monkeys") and "&" is "and". Every word list of the project is
  folded this way.
- `letter_words`: folded runs of letters only, digits and punctuation dropped ("l'amour" gives
  "l", "amour"): how `verify.languages.looks_like` counts function words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A word, kept whole across apostrophes ("Schindler's", "L'Uomo"); "&" stands for "and".
APOSTROPHES = "'\u2019"
_TOKEN = re.compile(rf"[^\W_]+(?:[{APOSTROPHES}][^\W_]+)*|&")
_POSSESSIVE = re.compile(rf"[{APOSTROPHES}]s$", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+")
# Quote marks, and "*" for markdown emphasis, which small models use for titles.
_QUOTES = frozenset("\"'“”„«»*\u2018\u2019")
_SENTENCE_BREAKS = frozenset(".!?\n")
_PUNCTUATION = frozenset(",;:.!?\n")

# A year of the catalogs' range (1800-2099), and the forms it takes:
YEAR = r"(?:1[89]|20)\d\d"
# in a text, "(1977)" or a bare "1977" that is no part of a longer word or number;
YEAR_IN_TEXT = re.compile(rf"\({YEAR}\)|(?<![\w(]){YEAR}(?![\w)])")
# at the end of a title, "Heat (1995)";
TITLE_YEAR = re.compile(rf"\({YEAR}\)\s*$")
# after a title inside a sentence, " (1987)" with its space (to remove it);
SPACED_YEAR = re.compile(rf" \({YEAR}\)")
# and as a catalog writes it at the end of a title: any four digits, or a range ("(2005-2007)",
# "(2019-)"), the first year captured.
CATALOG_YEAR = re.compile(r"\s*\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?)?\)\s*$")


def fold(word: str) -> str:
    """Case- and accent-insensitive form of a word: "Léon" and "LEON" both give "leon"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1 << 16)
def normalize_word(word: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "Schindler's" gives "schindler"."""
    if word == "&":
        return "and"
    return fold(_POSSESSIVE.sub("", word).replace("'", "").replace("\u2019", ""))


def raw_words(text: str) -> list[str]:
    """The words of `text` as written, before normalizing (see `words_of`)."""
    return _TOKEN.findall(text)


def words_of(text: str) -> list[str]:
    """The normalized words of `text`, as titles are keyed."""
    return [normalize_word(word) for word in _TOKEN.findall(text)]


@lru_cache(maxsize=1 << 14)
def catalog_words(text: str) -> tuple[str, ...]:
    """`words_of` for catalog text (titles, labels), which recurs across tasks: split once."""
    return tuple(words_of(text))


def word_set(text: str) -> frozenset[str]:
    """A word list written as one string, folded like `words_of`: look it up with a token's
    `norm`."""
    return frozenset(words_of(text))


def letter_words(text: str) -> list[str]:
    """The folded words of `text`, digits and punctuation dropped."""
    return [fold(word) for word in _LETTERS.findall(text)]


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text, with what the text around it says about it."""

    norm: str
    start: int
    end: int
    capitalized: bool
    sentence_initial: bool
    quote_before: bool
    quote_after: bool
    punctuation_after: bool = False  # a comma or a sentence break before the next word


def tokenize(text: str) -> list[Token]:
    """The words of `text` with their positions, capitals, sentence starts and quotes."""
    matches = list(_TOKEN.finditer(text))
    tokens = []
    for index, match in enumerate(matches):
        before = text[matches[index - 1].end() if index else 0 : match.start()]
        following = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        after = text[match.end() : following]
        word = match.group()
        tokens.append(
            Token(
                norm=normalize_word(word),
                start=match.start(),
                end=match.end(),
                # A script without case ("ヘケム") writes every word as a name.
                capitalized=word[0].isupper() or (word[0].isalpha() and not word[0].islower()),
                sentence_initial=index == 0 or not _SENTENCE_BREAKS.isdisjoint(before),
                quote_before=before.rstrip()[-1:] in _QUOTES,
                quote_after=after.lstrip()[:1] in _QUOTES,
                punctuation_after=index + 1 == len(matches) or not _PUNCTUATION.isdisjoint(after),
            )
        )
    return tokens
