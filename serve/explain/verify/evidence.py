"""What a task allows an explanation to say (`Evidence`, prepared once per check) and what an
explanation says (`Reading`: its words and the titles and labels found in it), with the helpers
both are made with: which catalog text is unsafe or quotable, and where phrases stand."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from serve.explain.explanation import ExplainTask
from serve.explain.text import Token, catalog_words, normalize_word, words_of
from serve.explain.verify import claims, surface
from serve.explain.verify.injection import is_unsafe
from serve.explain.verify.languages import ALL_STOPWORDS
from serve.explain.verify.titles import CatalogTitles, Mention
from serve.explain.vocabulary import percent

# Words of an injected text shorter than this are too common to forbid ("say", "now").
MIN_UNSAFE_WORD_CHARS = 4

PEOPLE = claims.FIRST_NAMES | claims.KNOWN_PEOPLE


@dataclass(frozen=True)
class Evidence:
    """What a task allows an explanation to say, prepared once per check."""

    genre_labels: tuple[str, ...]
    # Free-text user tags that may be quoted, each only as a whole phrase in lower case: none
    # that names a person, makes a claim or disparages.
    quotable_tags: tuple[str, ...]
    # Tags the recommended item shares with the evidence, which may be written as the names
    # they are, whole but in any case ("an Almodóvar drama", "Guy Ritchie"): true of both
    # items, so even a person's name is no claim about one of them. None that makes a claim
    # or disparages.
    name_tags: tuple[str, ...]
    # Titles (as they may be written) and labels: catalog language, not the answer's.
    catalog_phrases: tuple[str, ...]
    # Words free to use anywhere: of titles, catalog genres and item words, never of tags.
    vocabulary: frozenset[str]
    # Genres (`claims.GENRES` names) of the recommended item, and those it shares with the
    # evidence: "another Horror film" needs the first, "both are comedies" the second.
    genres: frozenset[str]
    shared_genres: frozenset[str]
    forbidden_words: frozenset[str]
    # Ratings the text may quote: none unless the catalog's feedback is ratings on a scale.
    ratings: tuple[float, ...]
    # Each evidence item's own rating (None when unrated), to check whom a rating is pinned on.
    rating_of: dict[str, float | None]
    scale_max: float
    rated: bool  # whether the catalog's feedback is ratings at all
    # Evidence among the user's highest valued (most played, best rated): their favourites.
    top_ids: frozenset[str]
    # Each evidence item's collaborative share in percent, as the prompt rounds it ("38%").
    percent_of: dict[str, int]
    # The recommended item has no label at all: talk of genres or tags is made up.
    unlabelled: bool
    foreign_nouns: frozenset[str]  # nouns of other kinds of catalog ("film" of a game)
    label_words: frozenset[str]  # every word of the task's genres and tags
    recommended_id: str
    # Labels (folded) of the recommended item itself, and the evidence's labels it lacks.
    own_labels: frozenset[str]
    borrowed_labels: tuple[str, ...]
    allowed_ids: frozenset[str]
    titles: CatalogTitles

    @classmethod
    def of(cls, task: ExplainTask) -> Evidence:
        facts = (task.recommended, *task.evidence)
        genres = list(dict.fromkeys(genre for fact in facts for genre in fact.genres))
        known = {genre.casefold() for genre in genres}
        tags = list(
            dict.fromkeys(
                label
                for label in (*(tag for fact in facts for tag in fact.tags), *task.shared_tags)
                if label.casefold() not in known
            )
        )
        labels = tuple(genres + tags)
        sources = [fact.title for fact in facts] + list(labels)
        unsafe = [text for text in sources if _unsafe_source(text)]
        safe_words = {
            word for text in sources if text not in unsafe for word in catalog_words(text)
        }
        forbidden = {
            word
            for text in unsafe
            for word in catalog_words(text)
            if len(word) >= MIN_UNSAFE_WORD_CHARS and word.isalpha() and word not in safe_words
        }
        titles = [v for fact in facts for v in CatalogTitles.display_variants(fact.title)]
        words = task.vocabulary
        item_words = {*words.all_nouns(), *words.nouns(task.language).model_dump().values()}
        rated = words.kind == "explicit"
        # A one- or two-word tag ("horror", "dark comedy") says a genre too.
        recommended = task.recommended
        own_labels = (*recommended.genres, *recommended.tags, *task.shared_tags)
        own = [*recommended.genres, *(t for t in recommended.tags if len(catalog_words(t)) <= 2)]
        shared = [label for label in task.shared_tags if len(catalog_words(label)) <= 2]
        # A genre the recommended item and a history item both have is shared, whatever the
        # caller's `shared_tags` says (a sentence naming both may give it as their reason).
        history_genres = {g.casefold() for fact in task.evidence for g in fact.genres}
        shared += [g for g in recommended.genres if g.casefold() in history_genres]
        return cls(
            genre_labels=tuple(genre for genre in genres if genre not in unsafe),
            quotable_tags=tuple(tag for tag in tags if tag not in unsafe and _quotable(tag)),
            name_tags=tuple(
                tag for tag in task.shared_tags if not _unsafe_source(tag) and _harmless(tag)
            ),
            catalog_phrases=tuple(titles) + labels,
            vocabulary=frozenset(
                word for text in (*titles, *genres, *item_words) for word in catalog_words(text)
            ),
            genres=frozenset(genre for label in own for genre in _genres(label)),
            shared_genres=frozenset(genre for label in shared for genre in _genres(label)),
            forbidden_words=frozenset(forbidden - ALL_STOPWORDS),
            ratings=tuple(f.rating for f in task.evidence if f.rating is not None and rated),
            rating_of={f.item_id: f.rating if rated else None for f in task.evidence},
            scale_max=words.scale_max,
            rated=rated,
            top_ids=frozenset(f.item_id for f in task.evidence if words.is_top(f.top_share)),
            percent_of={
                f.item_id: percent(f.also_share) for f in task.evidence if f.also_share is not None
            },
            unlabelled=not (recommended.genres or recommended.tags or task.shared_tags),
            own_labels=frozenset(label.casefold() for label in own_labels),
            # Not a label whose every word is one of the item's own ("dark" of "dark comedy").
            borrowed_labels=tuple(
                label
                for label in labels
                if label.casefold() not in {own.casefold() for own in own_labels}
                and not set(catalog_words(label))
                <= {w for own in own_labels for w in catalog_words(own)}
            ),
            foreign_nouns=words.foreign_nouns(task.language) | words.foreign_nouns("en"),
            label_words=frozenset(word for label in labels for word in catalog_words(label)),
            recommended_id=task.recommended.item_id,
            allowed_ids=frozenset(f.item_id for f in facts),
            titles=CatalogTitles(((f.item_id, f.title) for f in facts), expected=True),
        )


# Catalog text recurs across tasks: each title and label is judged and split once.
@lru_cache(maxsize=1 << 14)
def _unsafe_source(text: str) -> bool:
    return is_unsafe(text) or _instruction_like(text)


@lru_cache(maxsize=1 << 14)
def _genres(label: str) -> frozenset[str]:
    return frozenset(claims.genres_of(list(catalog_words(label))))


@dataclass(frozen=True)
class Reading:
    """An explanation's words and the titles and labels found in it."""

    text: str
    tokens: list[Token]
    catalog_mentions: list[Mention]
    task_mentions: list[Mention]
    allowed_spans: list[tuple[int, int]]
    # Each word's norm without a French or Italian elision ("d'horreur": "horreur").
    bare_norms: list[str]

    def allows(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.allowed_spans)


def phrase_spans(
    tokens: list[Token],
    phrases: Iterable[str],
    lower_case: bool = False,
    bare_norms: list[str] | None = None,
) -> list[tuple[int, int]]:
    """Character spans of the text where one of `phrases` occurs, word for word; with
    `lower_case`, only where no word of it is capitalized but by a sentence start; with
    `bare_norms` (the tokens' norms without an elision), also where an elision is glued to
    its first word ("d'Almodóvar")."""
    by_first: dict[str, set[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(words_of(phrase))
        if words:
            by_first.setdefault(words[0], set()).add(words)
    norms = [token.norm for token in tokens]
    firsts = bare_norms or norms
    spans = []
    for start, norm in enumerate(norms):
        candidates = by_first.get(norm, set())
        if firsts[start] != norm:
            candidates = candidates | by_first.get(firsts[start], set())
        for words in candidates:
            end = start + len(words)
            if tuple(norms[start + 1 : end]) != words[1:]:
                continue
            if lower_case and any(
                token.capitalized and not token.sentence_initial for token in tokens[start:end]
            ):
                continue
            spans.append((tokens[start].start, tokens[end - 1].end))
    return spans


_ELISION = re.compile(r"(?:[cdjlmnst]|qu)['\u2019](?=\w)", re.IGNORECASE)


def without_elision(text: str, token: Token) -> str:
    elided = _ELISION.match(text, token.start, token.end)
    return normalize_word(text[elided.end() : token.end]) if elided else token.norm


# A tag that speaks to someone ("mention the director") is an instruction, not a label.
_IMPERATIVE = re.compile(
    r"^\W*(?:say|tell|write|mention|call|describe|claim|state|recommend|add|include|use"
    r"|reply|answer|respond|print|output|always|never|do\s+not|don['\u2019]t|make\s+sure"
    r"|be\s+sure|remember|sag|schreib|erwähne|écris|mentionne|escribe|menciona)\b"
    r"|\byou\s+(?:must|should|have\s+to)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1 << 14)
def _quotable(tag: str) -> bool:
    """Whether a user's tag may be quoted: not when it names a person ("tom hanks"), nor when
    it is not `_harmless`."""
    return _harmless(tag) and PEOPLE.isdisjoint(catalog_words(tag))


@lru_cache(maxsize=1 << 14)
def _harmless(tag: str) -> bool:
    """Whether a user's tag makes no claim ("oscar winner"), does not disparage ("boring") and
    is no code ("toplist10", "afi 100")."""
    return not any(
        word in claims.CLAIM_WORDS
        or word in claims.DISPARAGING
        or any(char.isdigit() for char in word)
        for word in catalog_words(tag)
    ) and not claims.CLAIM_PHRASES.search(tag)


def _instruction_like(label: str) -> bool:
    return (
        _IMPERATIVE.search(label) is not None
        or surface.LINK_OR_MARKUP.search(label) is not None
        or surface.has_hidden_characters(label)
    )
