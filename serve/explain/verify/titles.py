"""Which catalog titles a text mentions, written the way people and small LLMs write them.

MovieLens writes "Godfather, The (1972)" and "Seven (a.k.a. Se7en) (1995)"; an explanation says
"The Godfather" or "Se7en". Each title is expanded once into the names it may be written as,
keyed by normalized words, so a query costs a few dictionary lookups per word whatever the size
of the catalog. Titles that are everyday words ("Heat", "Up", "Love Story") count only where the
text marks them as titles: with the year, in quotes, in capitals mid-sentence, in capitals at a
sentence start where no usual first word stands ("Alien fans"), or in lower case where a list of
titles is ("try alien and jaws").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from serve.explain.lang import of_every_pack
from serve.explain.text import CATALOG_YEAR, Token, normalize_word, raw_words, tokenize
from serve.explain.verify.languages import ALL_STOPWORDS, EVERYDAY_WORDS, SENTENCE_STARTERS

# Words that introduce a list of titles ("try alien and jaws", "like heat, ronin"), and those
# that join one: after a title, "and jaws" is the next.
_LIST_START = of_every_pack("list_start")
_LIST_JOIN = of_every_pack("list_join")
_AKA = re.compile(r"^\s*a\.?k\.?a\.?\s+", re.IGNORECASE)
# Articles MovieLens moves to the end: "Godfather, The", "Cité des enfants perdus, La".
_ARTICLES = (
    *("The", "A", "An", "La", "Le", "Les", "L'", "Il", "Lo", "El", "Los", "Las"),
    *("Der", "Die", "Das", "Den", "Det"),
)
_INVERTED = re.compile(r"^(.+),\s+(" + "|".join(map(re.escape, _ARTICLES)) + r")$")
_SUBTITLE = re.compile(r":\s+|\s+-\s+")
# A single word written without the year counts only from this length ("Heat", not "Big").
MIN_SINGLE_WORD_CHARS = 4


@dataclass(frozen=True, slots=True)
class Mention:
    """A stretch of text naming a title (with its year, if written, up to the year's last
    digit); several ids when several titles share the name."""

    start: int
    end: int
    item_ids: frozenset[str]
    with_year: bool


def _uninvert(name: str) -> tuple[str, str | None]:
    """("The Godfather", "Godfather") for "Godfather, The"; (name, None) when not inverted."""
    match = _INVERTED.match(name)
    if not match:
        return name, None
    head, article = match.groups()
    return (article + head if article.endswith("'") else f"{article} {head}"), head


@lru_cache(maxsize=1 << 12)
def _parse(title: str) -> tuple[tuple[tuple[str, ...], ...], str | None]:
    """The names a title goes by, strongest claim first, and its year. Tiers: full names
    ("The Godfather", "Godfather, The", alternates in parentheses), names without the inverted
    article ("Godfather"), series names before a colon ("Star Wars")."""
    year_match = CATALOG_YEAR.search(title)
    rest = (title[: year_match.start()] if year_match else title).strip()
    whole = rest
    alternates: list[str] = []
    while rest.endswith(")") and "(" in rest:
        opening = rest.rfind("(")
        head = rest[:opening].strip()
        if not head:
            break
        alternates.insert(0, _AKA.sub("", rest[opening + 1 : -1]).strip())
        rest = head
    full: list[str] = []
    heads: list[str] = []
    for name in filter(None, [rest, *alternates]):
        uninverted, head = _uninvert(name)
        full += [uninverted, name]
        heads += [head] if head else []
    full.append(whole)
    series = [name.split(":", 1)[0].strip() for name in full + heads if ":" in name]
    # "Skyrim", "The Two Towers", "The Empire Strikes Back": what follows the series name.
    subtitles = [_SUBTITLE.split(name)[-1].strip() for name in full if _SUBTITLE.search(name)]
    tiers = (full, heads, [name for name in series if name], [n for n in subtitles if n])
    return tuple(tuple(dict.fromkeys(tier)) for tier in tiers), (
        year_match.group(1) if year_match else None
    )


def _key_forms(name: str) -> set[tuple[str, ...]]:
    """The word keys of a name, possessives both ways: "Schindler's" as "schindler" (how
    `normalize_word` reads it in a text) and as "schindlers" (how it reads "Schindlers")."""
    words = raw_words(name)
    spelled = [word.replace("'", "").replace("\u2019", "") for word in words]
    return {tuple(map(normalize_word, words)), tuple(map(normalize_word, spelled))} - {()}


class _Rule(Enum):
    """What a mention without the year needs, decided by the title's words."""

    NEEDS_YEAR = "only function words and numbers: 'It', 'Up There', '300'"
    SINGLE_WORD = "one word: capitalized mid-sentence or quoted, and long enough: 'Heat'"
    CAPITALIZED = "one distinctive or only everyday words: 'The Heat', 'Number 23', 'Love Story'"
    ANY_CASE = "two distinctive words, one unusual: 'the big lebowski' counts"


def _significant(words: tuple[str, ...]) -> tuple[int, ...]:
    """Positions of the words that make a title a name: not function words, not numbers."""
    return tuple(
        i for i, word in enumerate(words) if word not in ALL_STOPWORDS and not word.isdigit()
    )


def _rule_for(words: tuple[str, ...]) -> _Rule:
    significant = [words[i] for i in _significant(words)]
    if not significant:
        return _Rule.NEEDS_YEAR
    if len(words) == 1:
        return _Rule.SINGLE_WORD
    if len(significant) == 1 or all(word in EVERYDAY_WORDS for word in significant):
        return _Rule.CAPITALIZED
    return _Rule.ANY_CASE


@dataclass(frozen=True, slots=True)
class _Entry:
    rule: _Rule
    significant: tuple[int, ...]
    item_ids: frozenset[str]
    ids_by_year: dict[str | None, frozenset[str]]

    def accepts(
        self,
        text: list[Token],
        start: int,
        end: int,
        expected: bool = False,
        after_title: bool = False,
    ) -> bool:
        """Whether the words `text[start:end]`, written without the year, are marked enough to
        be this title: quoted, or every distinctive word capitalized and not all of them by a
        sentence start, unless that start is no usual first word ("Alien fans will love");
        in lower case, only where they stand in a list of titles ("try alien and jaws"; the
        list goes on `after_title`) and are no everyday words.

        An `expected` title (one the explanation was asked to cite) needs only its capitals,
        wherever it stands and however short: "Su is one of your most played" names the artist
        "Su" when "Su" is in the evidence, while the catalog at large would be guessing."""
        tokens = text[start:end]
        if self.rule is _Rule.ANY_CASE:
            return True
        if expected:  # a title of function words only ("Su", "The The") needs capitals too
            marked = [tokens[i] for i in self.significant] or tokens
            return all(token.capitalized for token in marked)
        if self.rule is _Rule.NEEDS_YEAR:
            return False
        significant = [tokens[i] for i in self.significant]
        if self.rule is _Rule.SINGLE_WORD and len(tokens[0].norm) < MIN_SINGLE_WORD_CHARS:
            return False
        if tokens[0].quote_before and tokens[-1].quote_after:
            return True
        unusual = not any(
            token.norm in EVERYDAY_WORDS or token.norm in SENTENCE_STARTERS for token in significant
        )
        if all(token.capitalized for token in significant):
            return unusual or not all(token.sentence_initial for token in significant)
        whole = len(significant) == len(tokens)  # "the heat", "12 monkeys" are just words
        return unusual and whole and _listed(text, start, end, after_title)


def _listed(tokens: list[Token], start: int, end: int, after_title: bool) -> bool:
    """Whether `tokens[start:end]` stand in a list of titles: after "try" or "like", or after
    "and" or a comma that follows a title; and before "and", a comma or a sentence end."""
    if start == 0:
        return False
    previous = tokens[start - 1]
    opens = previous.norm in _LIST_START or (
        after_title and (previous.norm in _LIST_JOIN or previous.punctuation_after)
    )
    return opens and (tokens[end - 1].punctuation_after or tokens[end].norm in _LIST_JOIN)


class CatalogTitles:
    """Every title of a catalog, ready to be found in explanations."""

    def __init__(self, items: Iterable[tuple[str, str]], expected: bool = False) -> None:
        """`expected`: these are the titles an explanation should name (see `_Entry.accepts`)."""
        self._expected = expected
        # A weaker name refers to a title only when no title has it as a stronger name: "Heat"
        # is "Heat (1995)", not "Heat, The (2013)"; "Star Wars" is every episode.
        tiers: tuple[dict[tuple[str, ...], dict[str | None, set[str]]], ...] = ({}, {}, {}, {})
        for item_id, title in items:
            names, year = _parse(title)
            # A subtitle alone names only a title the text is expected to name: in the whole
            # catalog "Science Fiction" or "Judgment Day" would be some film's subtitle.
            for by_key, tier in zip(tiers, names if expected else names[:-1], strict=False):
                for name in tier:
                    for words in _key_forms(name):
                        by_key.setdefault(words, {}).setdefault(year, set()).add(item_id)
        self._entries: dict[str, _Entry] = {}
        # For each first two words, the most words a title starting with them has: bounds the
        # lookups to a few per word of text, however many titles start with "the".
        self._longest: dict[str, int] = {}
        for words in set().union(*tiers):
            by_year = next(by_key[words] for by_key in tiers if words in by_key)
            self._entries[" ".join(words)] = _Entry(
                rule=_rule_for(words),
                significant=_significant(words),
                item_ids=frozenset().union(*by_year.values()),
                ids_by_year={year: frozenset(ids) for year, ids in by_year.items()},
            )
            if len(words) > 1:
                pair = f"{words[0]} {words[1]}"
                self._longest[pair] = max(self._longest.get(pair, 0), len(words))

    @staticmethod
    def display_variants(title: str) -> list[str]:
        """How a text may write `title`, most readable first: "Godfather, The (1972)" gives
        "The Godfather (1972)", "The Godfather", "Godfather, The (1972)", ..., "Godfather"."""
        tiers, year = _parse(title)
        variants = []
        for name in (name for tier in tiers for name in tier):
            if year:
                variants.append(f"{name} ({year})")
            variants.append(name)
        return list(dict.fromkeys(variants))

    @staticmethod
    def matches(text: str, title: str) -> bool:
        """Whether `text` mentions `title`, by the same rules as a catalog of that one title."""
        return bool(CatalogTitles([("", title)]).find(text))

    def mentions(self, text: str) -> set[str]:
        """Ids of the titles `text` mentions."""
        return {item_id for mention in self.find(text) for item_id in mention.item_ids}

    def find(self, text: str) -> list[Mention]:
        """Title mentions in `text`, left to right; where titles overlap the longest wins."""
        return self.find_in_tokens(tokenize(text))

    def find_in_tokens(self, tokens: list[Token]) -> list[Mention]:
        """`find` on a text already tokenized, for callers that look at it several ways."""
        norms = [token.norm for token in tokens]
        found = []
        position = 0
        last_end = -2  # the word after the last title found
        while position < len(tokens):
            # "alien, jaws" or "alien and jaws": a list goes on after a title
            after_title = position - last_end in (0, 1)
            match = self._mention_at(tokens, norms, position, after_title)
            if match is None:
                position += 1
            else:
                mention, position = match
                last_end = position
                found.append(mention)
        return found

    def _mention_at(
        self, tokens: list[Token], norms: list[str], start: int, after_title: bool = False
    ) -> tuple[Mention, int] | None:
        """The longest title starting at word `start`, and the word after it."""
        pair = " ".join(norms[start : start + 2])
        longest = min(self._longest.get(pair, 1), len(norms) - start)
        for length in range(longest, 0, -1):
            entry = self._entries.get(" ".join(norms[start : start + length]))
            if entry is None:
                continue
            end = start + length
            year = norms[end] if end < len(norms) else None
            if year is not None and year in entry.ids_by_year:
                ids = entry.ids_by_year[year]
                return Mention(tokens[start].start, tokens[end].end, ids, True), end + 1
            if entry.accepts(tokens, start, end, self._expected, after_title):
                mention = Mention(tokens[start].start, tokens[end - 1].end, entry.item_ids, False)
                return mention, end
        return None
