"""Rules about collaborative shares: "38% of the people who play Garry's Mod also play
Unturned" is a number tied to one evidence item and the recommended one, and "nearly everyone
who liked Heat" is the same claim in words. Each must be one the evidence has, said of the
items it belongs to.
"""

from __future__ import annotations

import re

from serve.explain.lang import patterns_of_every_pack
from serve.explain.verify import ratings
from serve.explain.verify.evidence import Evidence, Reading
from serve.explain.verify.titles import Mention

# Where a sentence ends: a stop before a space, unless a lower-case word goes on ("Monsters,
# Inc. also liked": the stop is the title's).
SENTENCE_END = re.compile(r"[!?;](?=\s|$)|\.(?=\s|$)(?!\s+[a-zß-öø-ÿ])")
# "nearly everyone", "la mayoría", "fast alle": more than half of the people, in any language.
_MAJORITY = patterns_of_every_pack("majority")
MAJORITY_SHARE = 50


def without_titles(reading: Reading) -> str:
    """The text with every title blanked out, positions kept: "12 Monkeys" is no number."""
    masked = list(reading.text)
    for mention in (*reading.catalog_mentions, *reading.task_mentions):
        masked[mention.start : mention.end] = " " * (mention.end - mention.start)
    return "".join(masked)


def same(value: float, rating: float | None) -> bool:
    return rating is not None and abs(value - rating) < 1e-6


def sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentence around `text[start:end]` starts and stops."""
    ends = [0, *(m.end() for m in SENTENCE_END.finditer(text)), len(text)]
    return max(e for e in ends if e <= start), min(e for e in ends if e >= end)


def _named_in(mentions: list[Mention], start: int, stop: int) -> set[str]:
    return {i for m in mentions if start <= m.start < stop for i in m.item_ids}


def wrong_share(reading: Reading, evidence: Evidence) -> str | None:
    """A percentage no evidence item's share is, as the prompt rounds it ("wrong_share"), or one
    said in a sentence whose evidence titles have other shares, or that does not name the
    recommended item ("misattributed_share"): "38% of the people who play Garry's Mod also play
    Unturned" is only true of Garry's Mod and the recommended Unturned (an answer cut off after
    "also play", or one that pins the share on two evidence items, is not). A share claimed in
    words ("most people who", "casi todos") needs an item whose share is over half."""
    text = without_titles(reading)
    for quote in ratings.percent_quotes(text):
        if not any(same(quote.value, share) for share in evidence.percent_of.values()):
            return "wrong_share"
        start, stop = sentence_of(text, quote.start, quote.end)
        in_sentence = _named_in(reading.task_mentions, start, stop)
        named = {i for i in in_sentence if i in evidence.percent_of or i in evidence.rating_of}
        if named and not any(same(quote.value, evidence.percent_of.get(i)) for i in named):
            return "misattributed_share"
        if evidence.recommended_id not in in_sentence:
            return "misattributed_share"
    for claim in _MAJORITY.finditer(text):
        start, stop = sentence_of(text, claim.start(), claim.end())
        named = _named_in(reading.task_mentions, start, stop) & evidence.percent_of.keys()
        shares = [evidence.percent_of[i] for i in named or evidence.percent_of]
        if not any(share > MAJORITY_SHARE for share in shares):
            return "overclaimed_share"
    return None
