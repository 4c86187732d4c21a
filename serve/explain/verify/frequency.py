"""How frequent a word is in each explanation language, from wordfreq's lists (in its wheel, no
download): what tells an ordinary word from a rare or foreign one (`unexplained`) and one
language from another (`languages`), and a common word from a name (`rules`)."""

from __future__ import annotations

from functools import lru_cache

from serve.explain.lang import LANGUAGES

# A word 10^1.5 ≈ 30 times more frequent in one language than in the others belongs to it.
MARGIN = 1.5


@lru_cache(maxsize=1 << 15)
def zipf(word: str) -> dict[str, float]:
    """`word`'s frequency in each language on the Zipf scale (log10 per billion words; 0 when
    unseen). Accents may be folded away: "podria" still reads as Spanish."""
    from wordfreq import zipf_frequency

    return {code: zipf_frequency(word, code) for code in LANGUAGES}


def own_and_other(word: str, language: str) -> tuple[float, float]:
    """`word`'s frequency in `language`, and its highest in any other."""
    frequency = zipf(word)
    return frequency[language], max(value for code, value in frequency.items() if code != language)


def common(word: str, language: str, at_least: float) -> bool:
    """Whether `word` is at least this frequent in `language` and not far more so elsewhere."""
    if any(char.isdigit() for char in word):
        return False
    own, other = own_and_other(word, language)
    return own >= at_least and other - own < MARGIN


def language_of(word: str) -> str | None:
    """The language `word` clearly belongs to, None when it is shared or unknown ("que", "as")."""
    frequency = zipf(word)
    ranked = sorted(frequency.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top > 0 and top - second >= MARGIN else None


def warm() -> None:
    """Load the four word lists (about a second) before the first explanation needs them."""
    zipf("warm")
