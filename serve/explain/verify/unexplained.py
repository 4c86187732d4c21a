"""Words that nothing in the task explains, counted rather than listed (issue 19, item 8).

The deny-lists of `rules` catch the claims someone named; what got through on text nobody had
seen was a plot told in plain words ("sends astronauts through a wormhole"), a setting, box
office, a link spelled out ("moviez dot com"), a clause in another language, a keyboard-mash
tail. `closed` mode refuses every ungrounded word and so loses a third of the good answers, whose
authors say "gripping" or "souvent". Between the two, this module counts:

- a **run**: `RUN_WORDS` ungrounded words (`grounding.ungrounded`) among `RUN_WINDOW`
  consecutive ones. A good explanation grounds almost every word and adds one adjective or
  adverb here and there; a plot, a place, a link or a foreign clause brings several together.
- **unfamiliar words**: an ungrounded word that is rare in the explanation's language (below
  `RARE_ZIPF` on wordfreq's Zipf scale, i.e. under once per million words: "wormhole",
  "taquilla"), or much more frequent in another of the four languages ("another" in German
  text), is one strike; a word no language has ("asdkj", "m0r0n", "tt0090605") is two.
  `STRIKES` strikes reject. The frequencies are wordfreq's lists, shipped in its wheel.

The thresholds were chosen on the tuning corpus and the older held-out corpora (which are
therefore no longer held out); tests/data/verifier_holdout4.yaml, run once, measures them.
"""

from __future__ import annotations

from functools import lru_cache

from serve.explain.explanation import ExplainTask
from serve.explain.verify import grounding
from serve.explain.verify.evidence import Reading
from serve.explain.verify.frequency import MARGIN as FOREIGN_MARGIN
from serve.explain.verify.frequency import own_and_other

RUN_WORDS = 3
RUN_WINDOW = 6
RARE_ZIPF = 3.0  # 1 per million words
FOREIGN_CEILING = 4.5  # above this a word is common in the language whatever its origin
STRIKES = 2


def unexplained_words(reading: Reading, task: ExplainTask) -> str | None:
    """A run of ungrounded words, else too many unfamiliar ones; the ungrounded words are found
    once for both."""
    loose = [
        index
        for index, bare in grounding.ungrounded(
            reading.tokens, reading.bare_norms, reading.allows, task
        )
        if any(char.isalpha() for char in bare)  # numbers are the rating rules'
    ]
    return _run(loose) or _unfamiliar(reading, loose, task.language)


def _run(loose: list[int]) -> str | None:
    """A stretch where most words come from nowhere in the task: a plot, a place, a link."""
    # Common words are not exempt: exempting those above Zipf 4.5 or 5 kept "oft" and
    # "deshalb" but let a third of the caught plots, insults and foreign clauses through.
    for first, index in enumerate(loose):
        window = loose[first : first + RUN_WORDS]
        if len(window) == RUN_WORDS and window[-1] - index < RUN_WINDOW:
            return "unexplained_run"
    return None


def _unfamiliar(reading: Reading, loose: list[int], language: str) -> str | None:
    """Ungrounded words that are rare or foreign in the task's language, or in no language."""
    strikes = 0
    for index in loose:
        strikes += _strikes(_spelled(_word(reading, index)), language)
        if strikes >= STRIKES:
            return "unfamiliar_words"
    return None


def _word(reading: Reading, index: int) -> str:
    token = reading.tokens[index]
    return reading.text[token.start : token.end]


def _spelled(word: str) -> str:
    """The word as a dictionary has it: lower case, without a French elision ("qu'IA": "ia")."""
    word = word.lower().replace("\u2019", "'")
    return word.rsplit("'", 1)[-1] if "'" in word[:4] else word


@lru_cache(maxsize=1 << 14)
def _strikes(word: str, language: str) -> int:
    if any(char.isdigit() for char in word):
        return 2  # letters and digits in one word: a code, an id, leetspeak
    own, other = own_and_other(word, language)
    if own == other == 0:
        return 2  # in no language
    foreign = other - own >= FOREIGN_MARGIN and own < FOREIGN_CEILING
    return 1 if own < RARE_ZIPF or foreign else 0
