"""How a catalog's items and its users' feedback are put into words, per supported language.

The build records what the items are (`retrieval.config.DomainConfig`: "artist", "book") and what
an interaction's value means (`FeedbackConfig`: a rating on a scale, a play count, a yes). The
prompts, the templates and the verifier take their words from a `Vocabulary`, so that nothing
assumes movies rated out of 5: a play count is told as "among your most played", never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.config import DataConfig, DomainConfig, FeedbackConfig, ItemWords

# A history item valued above all but this share of the user's history is "among their most
# played" (counts are never quoted: 13,883 plays means nothing out of context).
TOP_SHARE = 0.25

# Common item words in each supported language, keyed by the English singular; a catalog's own
# `domain.translations` win, and a word not here falls back to the language's word for "item".
ITEM_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "item": {"en": ("item", "items"), "de": ("Artikel", "Artikel"),
             "fr": ("article", "articles"), "es": ("artículo", "artículos")},
    "movie": {"en": ("movie", "movies"), "de": ("Film", "Filme"), "fr": ("film", "films"),
              "es": ("película", "películas")},
    "artist": {"en": ("artist", "artists"), "de": ("Künstler", "Künstler"),
               "fr": ("artiste", "artistes"), "es": ("artista", "artistas")},
    "band": {"en": ("band", "bands"), "de": ("Band", "Bands"), "fr": ("groupe", "groupes"),
             "es": ("banda", "bandas")},
    "song": {"en": ("song", "songs"), "de": ("Lied", "Lieder"), "fr": ("chanson", "chansons"),
             "es": ("canción", "canciones")},
    "track": {"en": ("track", "tracks"), "de": ("Track", "Tracks"),
              "fr": ("morceau", "morceaux"), "es": ("pista", "pistas")},
    "album": {"en": ("album", "albums"), "de": ("Album", "Alben"), "fr": ("album", "albums"),
              "es": ("álbum", "álbumes")},
    "podcast": {"en": ("podcast", "podcasts"), "de": ("Podcast", "Podcasts"),
                "fr": ("podcast", "podcasts"), "es": ("pódcast", "pódcasts")},
    "book": {"en": ("book", "books"), "de": ("Buch", "Bücher"), "fr": ("livre", "livres"),
             "es": ("libro", "libros")},
    "game": {"en": ("game", "games"), "de": ("Spiel", "Spiele"), "fr": ("jeu", "jeux"),
             "es": ("juego", "juegos")},
    "product": {"en": ("product", "products"), "de": ("Produkt", "Produkte"),
                "fr": ("produit", "produits"), "es": ("producto", "productos")},
    "series": {"en": ("series", "series"), "de": ("Serie", "Serien"),
               "fr": ("série", "séries"), "es": ("serie", "series")},
    "show": {"en": ("show", "shows"), "de": ("Sendung", "Sendungen"),
             "fr": ("émission", "émissions"), "es": ("programa", "programas")},
    "recipe": {"en": ("recipe", "recipes"), "de": ("Rezept", "Rezepte"),
               "fr": ("recette", "recettes"), "es": ("receta", "recetas")},
    "course": {"en": ("course", "courses"), "de": ("Kurs", "Kurse"), "fr": ("cours", "cours"),
               "es": ("curso", "cursos")},
    "restaurant": {"en": ("restaurant", "restaurants"), "de": ("Restaurant", "Restaurants"),
                   "fr": ("restaurant", "restaurants"), "es": ("restaurante", "restaurantes")},
    "article": {"en": ("article", "articles"), "de": ("Artikel", "Artikel"),
                "fr": ("article", "articles"), "es": ("artículo", "artículos")},
}  # fmt: skip

# Every word above, for the verifier: "the artist Heat", "der Künstler" are everyday words.
KNOWN_ITEM_WORDS: frozenset[str] = frozenset(
    word for languages in ITEM_WORDS.values() for pair in languages.values() for word in pair
)


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

    @classmethod
    def of(cls, data: DataConfig, titles: Sequence[str] = ()) -> Vocabulary:
        """The vocabulary of a build's (resolved) data config and its catalog's titles."""
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
        )

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
    def scale_max(self) -> float:
        return self.scale[1] if self.scale else 1.0

    def rating_text(self, value: float) -> str:
        """A rating as the explanation quotes it: "4.5/5", "8/10"."""
        return f"{value:g}/{self.scale_max:g}"

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


_TITLE_YEAR = re.compile(r"\((?:1[89]|20)\d\d\)\s*$")


def _mostly_with_years(titles: Sequence[str], sample: int = 1000) -> bool:
    """Whether most titles end in "(1995)", judged on an evenly spread sample."""
    step = max(1, len(titles) // sample)
    picked = titles[::step]
    return sum(bool(_TITLE_YEAR.search(title)) for title in picked) * 2 > len(picked)


# A catalog that declares nothing: "items", rated on a 0.5-5 scale.
UNDECLARED = Vocabulary()
