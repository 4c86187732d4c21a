"""Accepting or rejecting what the LLM wrote: an explanation is shown only when it is well formed,
in the language asked for, and says nothing the evidence does not support.

Tiny models parrot, invent ("directed by Christopher Nolan"), misquote ratings, pin a rating on
the wrong title, talk of the recommended item as if the user had already seen it, leak few-shot
titles, echo their instructions and obey instructions hidden in catalog text. Each rule (`rules`,
`roles`) catches one of those lexically and deterministically; a rejected explanation is replaced
by a template, so a false rejection costs some fluency and a false acceptance costs trust.

The verifier is also a security boundary (issue 10): text is refused before it is read when it
hides characters, links or markup (`surface`); names, claims and genres are looked up in word
lists whatever their case or place (`claims`); ratings are read however they are worded
(`ratings`); free-text user tags are quoted only whole, in lower case, and only when harmless.
It cannot tell a true sentence from a false one that uses only allowed words ("a shark
terrorises a town" with other nouns): an entailment check against the evidence would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from serve.explain.explanation import ExplainTask
from serve.explain.text import tokenize, words_of
from serve.explain.verify import (
    claims,
    frequency,
    grounding,
    roles,
    rules,
    shares,
    surface,
    unexplained,
)
from serve.explain.verify.evidence import Evidence, Reading, phrase_spans, without_elision
from serve.explain.verify.injection import is_unsafe
from serve.explain.verify.rules import ngrams
from serve.explain.verify.titles import CatalogTitles

# Bumped whenever the rules change what is accepted: it is part of the explanation cache's
# namespace, so answers verified by older rules (e.g. a precomputed file) are asked for again.
RULES_REVISION = 10

# Talk about the prompt rather than about the films, and prompt fields parroted ("similarity
# 0.83"): no reader needs to see those.
_META_TALK = re.compile(
    r"ignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+instructions"
    r"|\bdisregard\b|\bsystem\s+prompt\b|\bas\s+an\s+ai\b|\blanguage\s+model\b|\bjson\b"
    r"|\bthe\s+user\b|\bthe\s+evidence\b|</?\s*[a-z_]+\s*/?>|[{}]|\[/?inst\]|<\|"
    r"|\bsimilarity\b|\b\d+\.\d{2,}\b|\bgenres\s+and\s+tags\b|\bclosest\s+to\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Verdict:
    """Whether an explanation may be shown; `reason` is a short machine-readable code."""

    ok: bool
    reason: str
    text: str = ""
    cited_item_ids: tuple[str, ...] = ()
    detail: str = ""  # what broke the rule ("ungrounded_word": the word); kept out of metrics


class Verifier:
    """Checks LLM output against the task it was asked to explain."""

    def __init__(
        self,
        titles: CatalogTitles,
        few_shot_titles: list[str],
        instruction_phrases: list[str],
        max_chars: int = 300,
        closed: bool = False,
    ) -> None:
        """With `closed`, every word must also be grounded (`grounding`): an allow-list after
        the deny-lists, for what no rule names."""
        self._titles = titles
        self._few_shot = CatalogTitles((f"few-shot:{t}", t) for t in few_shot_titles)
        self._instruction_ngrams = frozenset(
            ngram for phrase in instruction_phrases for ngram in ngrams(words_of(phrase))
        )
        self._max_chars = max_chars
        self._closed = closed
        frequency.warm()

    def check(self, raw: str, task: ExplainTask) -> Verdict:
        """The first rule `raw` breaks, or ok with the cleaned text and the evidence it cites."""
        text = _explanation_text(raw)
        if text is None:
            return Verdict(False, "not_json")
        if not text:
            return Verdict(False, "empty", text)
        if surface.has_hidden_characters(text):
            return Verdict(False, "hidden_characters", text)
        text = surface.normalized(text)
        if len(text) > self._max_chars:
            return Verdict(False, "too_long", text)
        evidence = Evidence.of(task)
        reading = self._read(text, evidence)
        reason = (
            rules.foreign_script(reading)
            or rules.unsafe_catalog_text(reading, evidence)
            or self._instruction_echo(reading)
            or rules.link_or_markup(reading)
            or rules.garbage(reading)
            or rules.repetitive(reading)
            or rules.wrong_language(reading, evidence, task.language)
            or self._few_shot_leak(reading)
            or self._foreign_title(reading, evidence)
            or rules.stray_year(reading)
        )
        if reason:
            return Verdict(False, reason, text)
        cited = rules.cited(reading, task)
        reason = (
            ("no_evidence_cited" if not cited else None)
            or roles.wrong_person(reading, task.language)
            or rules.invented_entity(reading, evidence, task.language)
            or rules.disparaging(reading)
            or rules.invented_user_fact(reading)
            or rules.wrong_genre(reading, evidence, task.language)
            or rules.wrong_label(reading, evidence)
            or rules.borrowed_label(reading, evidence)
            or rules.foreign_domain_word(reading, evidence)
            or shares.wrong_share(reading, evidence)
            or roles.wrong_rating(reading, evidence)
            or roles.recommended_as_seen(reading, evidence, task.language)
            or roles.known_called_new(reading, task.known)
            or roles.evidence_as_recommended(reading, evidence)
        )
        if not reason and not self._closed:  # closed mode refuses every such word below
            reason = unexplained.unexplained_words(reading, task)
        if reason:
            return Verdict(False, reason, text)
        if self._closed:
            word = grounding.ungrounded_word(
                reading.tokens, reading.bare_norms, reading.allows, task, wide=True
            )
            if word is not None:
                return Verdict(False, "ungrounded_word", text, detail=word)
        return Verdict(True, "ok", text, cited)

    def _read(self, text: str, evidence: Evidence) -> Reading:
        tokens = tokenize(text)
        catalog_mentions = self._titles.find_in_tokens(tokens)
        task_mentions = evidence.titles.find_in_tokens(tokens)
        allowed = [(m.start, m.end) for m in task_mentions]
        allowed += [(m.start, m.end) for m in catalog_mentions if m.item_ids & evidence.allowed_ids]
        allowed += phrase_spans(tokens, evidence.genre_labels)
        allowed += phrase_spans(tokens, evidence.quotable_tags, lower_case=True)
        # A one-word tag in title case ("Pixar") is still the tag, as a name is written, unless
        # it names another title; in capitals ("AFI", "HDTV") or as a capitalized phrase ("a Car
        # Chase") it reads as a claim or a title of its own.
        titled = [
            (m.start, m.end) for m in catalog_mentions if not m.item_ids & evidence.allowed_ids
        ]
        allowed += [
            (start, end)
            for start, end in phrase_spans(tokens, evidence.quotable_tags)
            if text[start:end].istitle()
            and " " not in text[start:end]
            and not any(s < end and start < e for s, e in titled)
        ]
        bare = [without_elision(text, token) for token in tokens]
        # A tag shared with the evidence may be written as a name ("De Palma", "d'Almodóvar"),
        # unless it is all of another title ("Lucas" is a film, "George Lucas" a name).
        allowed += [
            (start, end)
            for start, end in phrase_spans(tokens, evidence.name_tags, bare_norms=bare)
            if not any(s <= start and end <= e for s, e in titled)
        ]
        return Reading(text, tokens, catalog_mentions, task_mentions, allowed, bare)

    def _instruction_echo(self, reading: Reading) -> str | None:
        echoed = not self._instruction_ngrams.isdisjoint(
            ngrams([token.norm for token in reading.tokens])
        )
        talks_to_model = (
            _META_TALK.search(reading.text)
            or claims.META_TALK.search(reading.text)
            or is_unsafe(reading.text)
        )
        return "instruction_echo" if echoed or talks_to_model else None

    def _few_shot_leak(self, reading: Reading) -> str | None:
        leaks = (
            m
            for m in self._few_shot.find_in_tokens(reading.tokens)
            if not reading.allows(m.start, m.end)
        )
        return "few_shot_leak" if any(leaks) else None

    def _foreign_title(self, reading: Reading, evidence: Evidence) -> str | None:
        foreign = (
            m
            for m in reading.catalog_mentions
            if not m.item_ids & evidence.allowed_ids and not reading.allows(m.start, m.end)
        )
        return "foreign_title" if any(foreign) else None


def _explanation_text(raw: str) -> str | None:
    """The explanation of a `{"explanation": "..."}` object, whitespace collapsed; None when
    `raw` is anything else (no JSON, trailing junk, a missing or extra key, a non-string)."""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(value, dict) or value.keys() != {"explanation"}:
        return None
    explanation = value["explanation"]
    return " ".join(explanation.split()) if isinstance(explanation, str) else None
