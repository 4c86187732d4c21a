"""The explanation languages, one pack each (`pack.LanguagePack`): every word recsplain reads or
writes in a language is in that language's file. The prompts, templates and vocabulary write
with them and the verifier reads with them, so the packs sit beside both wings, not in either.

Adding a language is one more file here (its few-shot answers included) and one line below.
"""

from __future__ import annotations

import re

from serve.explain.lang import de, en, es, fr
from serve.explain.lang.pack import ClosedWords, LanguagePack, VerbLast, Wording
from serve.explain.text import word_set

# In this order everywhere (the API's choices, the prompt version's hash).
PACKS: dict[str, LanguagePack] = {pack.code: pack for pack in (en.PACK, de.PACK, fr.PACK, es.PACK)}
LANGUAGES: dict[str, str] = {code: pack.name for code, pack in PACKS.items()}

__all__ = [
    "LANGUAGES",
    "PACKS",
    "ClosedWords",
    "LanguagePack",
    "VerbLast",
    "Wording",
    "of_every_pack",
    "pack",
    "patterns_of_every_pack",
]


def pack(language: str) -> LanguagePack:
    """The pack of `language`; a ValueError naming the supported ones for any other."""
    found = PACKS.get(language)
    if found is None:
        raise ValueError(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
    return found


def of_every_pack(field: str) -> frozenset[str]:
    """A word-list field of every pack, folded, as one set ("any language's negations")."""
    return frozenset().union(*(word_set(getattr(p, field)) for p in PACKS.values()))


def patterns_of_every_pack(field: str) -> re.Pattern[str]:
    """A regex-list field of every pack as one case-blind pattern ("any language's meta talk")."""
    patterns = (pattern for p in PACKS.values() for pattern in getattr(p, field))
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)
