"""What an explanation looks like before what it says: characters a reader cannot see, letters
that only look Latin, links and markup.

Every lexical rule of the verifier compares words; "No\u200blan" or "N\u043elan" (a Cyrillic "o") is
a different word to it and the same one to a reader. So text with format characters is refused
outright, what is left is NFKC-normalised (full-width letters, ligatures), and a word with
letters of another script is refused unless the evidence itself is written that way.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

# Links, e-mail addresses and markup: an explanation is one plain sentence, and a reader who
# follows a link leaves the evidence behind.
LINK_OR_MARKUP = re.compile(
    r"(?:https?|ftp|file|javascript|data|mailto)\s*:"
    r"|\bwww\s*\."
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"
    # Spelled out or defanged: "moviez dot com", "www point", "punto com", "imdb[.]com", "hxxps".
    r"|\bwww\b|\b(?:dot|punkt|point|punto)\s+(?:com|net|org|io|info|tv)\b|\bdot\s+(?:de|fr|es)\b"
    r"|[\[(]\s*(?:\.|dot|punkt|point|punto)\s*[\])]|\bhxxps?\b"
    r"|\b[\w-]+\.(?:com|net|org|io|co|de|fr|es|uk|us|ly|me|info|biz|xyz|app|dev|tv|gg|link"
    r"|site|online|ru|cn|to)\b"
    r"|<\s*/?\s*[a-z!][^>]*>|\[[^\]]*\]\s*\([^)]*\)|&#?\w+;|!\[|```"
    r"|\*\*|__\w|\w__|^\s*#{1,6}\s",
    re.IGNORECASE,
)


# Punctuation piled up: "!!!!!!!!", "?!?!", "....." (an ellipsis is fine).
_PILED = re.compile(r"[!?¡¿]{3,}|\.{4,}")


def garbage(text: str) -> bool:
    """Whether punctuation or symbols pile up: "!!!!!!!!" or "🔥🔥🔥", two symbols in a row."""
    if _PILED.search(text):
        return True
    symbols = [not char.isascii() and _symbol(char) for char in text]
    return any(a and b for a, b in itertools.pairwise(symbols))


@lru_cache(maxsize=4096)
def _symbol(char: str) -> bool:
    return unicodedata.category(char).startswith("S")


def has_hidden_characters(text: str) -> bool:
    """Whether `text` has a character a reader cannot see or that is not text at all: format
    (zero-width spaces and joiners, bidi controls, soft hyphens), control, private-use,
    surrogate or unassigned code points."""
    return any(not char.isascii() and _hidden(char) for char in text)


@lru_cache(maxsize=4096)
def _hidden(char: str) -> bool:
    return unicodedata.category(char) in {"Cf", "Cc", "Co", "Cs", "Cn"}


def normalized(text: str) -> str:
    """`text` in NFKC: full-width and compatibility forms become the letters they stand for."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def foreign_script(word: str) -> bool:
    """Whether `word` has a letter of a script other than Latin (a Cyrillic or Greek look-alike
    in a Latin word, or a word of another alphabet)."""
    return not word.isascii() and any(_non_latin_letter(char) for char in word)


@lru_cache(maxsize=4096)
def _non_latin_letter(char: str) -> bool:
    return char.isalpha() and not unicodedata.name(char, "").startswith("LATIN")
