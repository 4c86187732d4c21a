"""The language packs (serve/explain/lang/): one file holds every word of one language, so every
pack must fill every field, and the packs must agree on what their tables are keyed by."""

from __future__ import annotations

from dataclasses import fields

import pytest

from serve.explain.lang import (
    LANGUAGES,
    PACKS,
    LanguagePack,
    VerbLast,
    Wording,
    of_every_pack,
    pack,
)
from serve.explain.text import word_set
from serve.explain.verify.evidence import PEOPLE

# Grammar only some languages have (German puts the verb last and writes compounds).
# English and German say who did what with a pronoun, never with the verb's ending alone.
OPTIONAL_GRAMMAR = frozenset({"verb_last", "first_person_endings"})
# The catalog's own verb ("played") is English: other languages' templates never use it.
ENGLISH_ONLY_WORDING = frozenset({"top_action", "did_action", "generic_action"})


def _filled(value) -> bool:
    return isinstance(value, bool) or bool(value)


@pytest.mark.parametrize("code", list(PACKS))
def test_every_pack_fills_every_field(code):
    found = PACKS[code]
    assert found.code == code
    empty = [
        f.name
        for f in fields(LanguagePack)
        if f.name not in OPTIONAL_GRAMMAR and not _filled(getattr(found, f.name))
    ]
    assert not empty, f"{code}: empty fields {empty}"
    wording = found.template
    empty = [
        f.name
        for f in fields(Wording)
        if (code == "en" or f.name not in ENGLISH_ONLY_WORDING)
        and not _filled(getattr(wording, f.name))
    ]
    assert not empty, f"{code}: empty template fields {empty}"
    if found.verb_last is not None:
        empty = [f.name for f in fields(VerbLast) if not getattr(found.verb_last, f.name)]
        assert not empty, f"{code}: empty verb-last fields {empty}"


def test_packs_agree_on_their_keys():
    english = PACKS["en"]
    for code, found in PACKS.items():
        assert found.item_words.keys() == english.item_words.keys(), code
        assert found.domain_nouns.keys() == english.domain_nouns.keys(), code
        assert found.genre_names.keys() == english.genre_names.keys(), code
        assert found.few_shot_endings.keys() == english.few_shot_endings.keys(), code
        assert set(found.number_words.values()) == {float(n) for n in range(11)}, code
        assert set(found.number_articles.split()) <= set(found.number_words), code


def test_languages_are_the_packs_in_order():
    assert list(LANGUAGES) == ["en", "de", "fr", "es"]
    assert pack("fr").name == "French"
    with pytest.raises(ValueError, match="unsupported language 'it'; supported: en, de, fr, es"):
        pack("it")


@pytest.mark.parametrize("code", list(PACKS))
def test_closed_mode_s_general_words_carry_no_content(code):
    """Closed mode's wider lists (`ClosedWords`) are grammar and the ways of recommending: no
    claim, insult or name of any language, and no number but the articles ("one", "un")."""
    found = PACKS[code]
    words = word_set(f"{found.closed.grammar} {found.closed.explaining}")
    assert found.closed.grammar and found.closed.explaining, code
    content = of_every_pack("claim_words") | of_every_pack("disparaging") | PEOPLE
    numbers = word_set(" ".join(found.number_words)) - word_set(found.number_articles)
    assert not words & content, sorted(words & content)
    assert not words & numbers, sorted(words & numbers)
