"""How a catalog's items and its users' feedback are put into words, per supported language.

The build records what the items are (`retrieval.config.DomainConfig`: "artist", "book") and what
an interaction's value means (`FeedbackConfig`: a rating on a scale, a play count, a yes). The
prompts, the templates and the verifier take their words from a `Vocabulary`, so that nothing
assumes movies rated out of 5: a play count is told as "among your most played", never quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from retrieval.config import DataConfig, DomainConfig, FeedbackConfig, ItemWords
from serve.explain.lang import PACKS
from serve.explain.text import TITLE_YEAR, fold

# A history item valued above all but this share of the user's history is "among their most
# played" (counts are never quoted: 13,883 plays means nothing out of context).
TOP_SHARE = 0.25

# Common item words in each supported language, keyed by the English singular; a catalog's own
# `domain.translations` win, and a word not here falls back to the language's word for "item".
ITEM_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    item: {code: p.item_words[item] for code, p in PACKS.items()} for item in PACKS["en"].item_words
}

# Every word above, for the verifier: "the artist Heat", "der Künstler" are everyday words.
KNOWN_ITEM_WORDS: frozenset[str] = frozenset(
    word for languages in ITEM_WORDS.values() for pair in languages.values() for word in pair
)

# Nouns that belong to one kind of catalog, per language: "another Drama story" is true of a
# movie and nonsense of an artist or a game. A catalog may use its own domain's nouns; the
# verifier refuses the others. A catalog whose item word has no domain here ("item", "product")
# is not checked: nothing says what its items are, and a "film" may be true of them.
DOMAIN_NOUNS: dict[str, dict[str, str]] = {
    domain: {code: p.domain_nouns[domain] for code, p in PACKS.items()}
    for domain in PACKS["en"].domain_nouns
}

# The domain of each item word above that has one.
ITEM_DOMAINS: dict[str, str] = {
    **dict.fromkeys(("movie", "series", "show"), "screen"),
    "book": "books",
    **dict.fromkeys(("artist", "band", "song", "track", "album", "podcast"), "music"),
    "game": "games",
}
# Domains whose items tell a story: their examples may say "another Drama story".
STORY_DOMAINS = frozenset(("screen", "books"))


@dataclass(frozen=True)
class Vocabulary:
    """One catalog's words: what its items are and what its feedback values mean.

    The default describes a catalog that declares nothing: "items" rated on a 0.5-5 scale.
    """

    kind: str = "explicit"
    scale: tuple[float, float] | None = (0.5, 5.0)
    item: str = "item"
    items: str = "items"
    action: str | None = None
    translations: tuple[tuple[str, str, str], ...] = ()  # (language, singular, plural)
    # Whether the catalog's titles end in a year, "Heat (1995)": examples follow its style.
    years_in_titles: bool = True
    # Whether its items carry genres or tags: without, prompts and examples speak of none.
    labelled: bool = True

    @classmethod
    def of(cls, data: DataConfig, titles: Sequence[str] = (), labelled: bool = True) -> Vocabulary:
        """The vocabulary of a build's (resolved) data config and its catalog's titles, and
        whether any of its items has a genre or tag."""
        feedback = data.feedback if data.feedback.kind != "auto" else FeedbackConfig()
        domain = data.domain or DomainConfig()
        kind = feedback.kind if feedback.kind != "auto" else "explicit"
        return cls(
            kind=kind,
            scale=(tuple(feedback.scale) if feedback.scale else cls.scale)
            if kind == "explicit"
            else None,
            item=domain.item.singular,
            items=domain.item.plural,
            action=domain.action,
            translations=tuple(
                sorted((lang, w.singular, w.plural) for lang, w in domain.translations.items())
            ),
            years_in_titles=_mostly_with_years(titles) if titles else True,
            labelled=labelled,
        )

    @classmethod
    def of_items(cls, data: DataConfig, items) -> Vocabulary:
        """The vocabulary of a build from its catalog table (`item_id`, `title`, `genres`,
        `tags`): the one way every user of a build (ingress, batch, CLI, tasks) makes it, so
        they agree on whether the catalog has labels."""
        labelled = any(
            (items[column].list.len() > 0).any() for column in ("genres", "tags") if column in items
        )
        return cls.of(data, items["title"].to_list(), labelled)

    def nouns(self, language: str) -> ItemWords:
        """The item word in `language`: the catalog's translation, the built-in one, or the
        language's word for "item"."""
        if language == "en":
            return ItemWords(singular=self.item, plural=self.items)
        for lang, singular, plural in self.translations:
            if lang == language:
                return ItemWords(singular=singular, plural=plural)
        known = ITEM_WORDS.get(self.item.lower(), ITEM_WORDS["item"])
        singular, plural = known.get(language, ITEM_WORDS["item"][language])
        return ItemWords(singular=singular, plural=plural)

    def all_nouns(self) -> set[str]:
        """Every word this catalog's items may be called, in any language."""
        words = {self.item, self.items}
        words |= {w for _, singular, plural in self.translations for w in (singular, plural)}
        return words

    @property
    def domain(self) -> str | None:
        """What kind of catalog this is ("screen", "music"), None when its item word says not."""
        return ITEM_DOMAINS.get(self.item.lower())

    @property
    def tells_stories(self) -> bool:
        return self.domain in STORY_DOMAINS

    @lru_cache(maxsize=64)  # noqa: B019 (few vocabularies, each checked per explanation)
    def foreign_nouns(self, language: str) -> frozenset[str]:
        """Nouns of other kinds of catalog in `language` (folded), this catalog's own item
        words excepted: "film" said of a game; none where the catalog's kind is not known."""
        if self.domain is None:
            return frozenset()
        own = DOMAIN_NOUNS.get(self.domain or "", {}).get(language, "").split()
        own += [*self.all_nouns(), *self.nouns(language).model_dump().values()]
        own_folded = {fold(word) for text in own for word in text.split()}
        return frozenset(
            fold(word)
            for domain, nouns in DOMAIN_NOUNS.items()
            if domain != self.domain
            for word in nouns.get(language, "").split()
        ).difference(own_folded)

    @property
    def scale_max(self) -> float:
        return self.scale[1] if self.scale else 1.0

    def rating_text(self, value: float) -> str:
        """A rating as the explanation quotes it: "4.5/5", "8/10"."""
        return f"{value:g}/{self.scale_max:g}"

    @property
    def liked(self) -> str:
        """The English verb for a user's positive interaction: the catalog's, else "liked"."""
        return self.action or "liked"

    def is_top(self, top_share: float | None) -> bool:
        """Whether an implicit value is among the user's highest."""
        return top_share is not None and top_share < TOP_SHARE

    def describe(self) -> dict:
        """For /healthz and logs."""
        out: dict = {"kind": self.kind, "item": self.item, "items": self.items}
        if self.kind == "explicit" and self.scale:
            out["scale"] = {"min": self.scale[0], "max": self.scale[1]}
        if self.action:
            out["action"] = self.action
        return out


def percent(share: float) -> int:
    """A collaborative share as every prompt, template and the verifier state it: 0.38 is 38."""
    return round(share * 100)


def percent_text(share: float, language: str) -> str:
    """ "38%" in English, "38 %" in German, French and Spanish."""
    return f"{percent(share)}%" if language == "en" else f"{percent(share)} %"


def _mostly_with_years(titles: Sequence[str], sample: int = 1000) -> bool:
    """Whether most titles end in "(1995)", judged on an evenly spread sample."""
    step = max(1, len(titles) // sample)
    picked = titles[::step]
    return sum(bool(TITLE_YEAR.search(title)) for title in picked) * 2 > len(picked)


# A catalog that declares nothing: "items", rated on a 0.5-5 scale.
UNDECLARED = Vocabulary()
