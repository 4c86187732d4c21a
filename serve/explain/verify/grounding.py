"""Closed-vocabulary grounding: an explanation may use only the words its task gives it, the
function words of its language, and a small vocabulary of how a recommendation is explained.

The rule-based checks are deny-lists: they catch the attacks someone thought of (a director's
name, a claim word, an insult in one of four languages) and miss the ones nobody listed (a plot
told in plain words, a city, a handle, an insult in a fifth language). This check turns that
around: a word that is neither in the task's facts (titles, genres, quotable tags as whole
phrases, ratings), nor a function word, nor in `EXPLAINING` is refused, whatever it says. It
costs fluency: a model that says "gripping" where no list has it is replaced by a template.

Words are compared folded (`text.normalize_word`: lower case, no accents, no apostrophes) and
with a few regular endings taken off (`_ENDINGS`), so that "loved", "Komödien" and "aimée" need
only "love", "komödie" and "aimer". German compounds pass when every part does ("Krimidrama").

Closed mode reads a wider vocabulary than rules mode's run counter (`unexplained`), which was
measured with the narrow one: general classes of each language (`lang.pack.ClosedWords`: every
closed-class word, a fixed set of recommending words and mild praise, the catalog's audience,
verb endings and clitics), never words taken from particular answers. Words that carry content
(people, places, plots, awards, studios, runtimes, prices, counts) stay out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from serve.explain.explanation import ExplainTask
from serve.explain.lang import PACKS, LanguagePack
from serve.explain.text import Token, normalize_word, word_set, words_of
from serve.explain.verify import claims
from serve.explain.vocabulary import ITEM_WORDS, percent

# Parts of a German compound shorter than this are too easily found by chance ("Tor-Film").
MIN_COMPOUND_PART = 3
# Letters German puts between the parts of a compound: "Kriegs|drama", "Lieblings|film".
_LINKS = ("", "s", "n", "en", "es", "e")


# Articles, pronouns, prepositions, conjunctions, auxiliaries and negation: the words any
# sentence needs and none of which states a fact about a film. Quantifiers and degree adverbs
# ("more", "very") are here too; number words are not, but for "two" (the two items).
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    code: word_set(p.function_words) for code, p in PACKS.items()
}

# How a recommendation is explained, and nothing else: liking, sharing, resembling, the
# feedback (rated, played), the few nouns of taste (mood, tone, style, story) and the mildest
# praise. Base forms: `_ENDINGS` adds the regular inflections. Taken from the prompt's rules,
# its few-shot answers and the templates (which must always pass), then from the good texts of
# tests/data/verifier_corpus.yaml and the archived model answers in benchmarks/results.
EXPLAINING: dict[str, frozenset[str]] = {code: word_set(p.explaining) for code, p in PACKS.items()}

# Regular endings per language, as (ending, what replaces it): "loved" is "love" + "d",
# "stories" is "story", "Komödien" is "Komödie" + "n", "aimée" is "aimer", "gustó" "gustar".
Endings = tuple[tuple[str, str], ...]
_ENDINGS: dict[str, Endings] = {code: p.endings for code, p in PACKS.items()}

# The catalog genres in each language's words ("Crime": "Krimi", "policier", "crimen"): a task
# may call its own genres so, and no others. Keyed by the folded genre label.
GENRE_NAMES: dict[str, dict[str, frozenset[str]]] = {
    code: {genre: word_set(words) for genre, words in p.genre_names.items()}
    for code, p in PACKS.items()
}

# Genre words in every language ("comedies", "Krimi", "policier"), any genre: whether the
# genre is the recommended item's is `verifier._wrong_genre`'s to judge, which runs first.
GENRE_WORDS: frozenset[str] = frozenset(claims.GENRE_OF_WORD) | {
    word for pair in claims.GENRE_OF_PAIR for word in pair
}
_NUMBER = re.compile(r"\d+")


def _wider(pack: LanguagePack) -> frozenset[str]:
    lists = (pack.closed.grammar, pack.closed.explaining, pack.second_person, pack.negations)
    more = (pack.already, pack.list_join, pack.label_words, pack.both_words)
    return word_set(" ".join((*lists, *more)))


# What closed mode alone accepts, beyond the lists rules mode's run counter (`unexplained`) was
# measured with: the packs' general word classes (`ClosedWords`), their other lists of grammar
# and of talk about labels (the reader, negations, "already", "and", "tags", "in common"), more
# endings.
_WIDER: dict[str, frozenset[str]] = {code: _wider(p) for code, p in PACKS.items()}
_WIDER_ENDINGS: dict[str, Endings] = {
    code: (*p.endings, *p.closed.endings) for code, p in PACKS.items()
}


@lru_cache(maxsize=1 << 10)
def _language_words(language: str, wide: bool = False) -> frozenset[str]:
    """Words any explanation in `language` may use: function words, explaining words, the
    ordinals that point back at a title named ("la primera"), genres and the item words the
    project knows in that language ("film", "artiste"); `wide` (closed mode) adds `_WIDER`."""
    item_words = {w for words in ITEM_WORDS.values() for w in words.get(language, ())}
    pointing_back = f"{PACKS[language].former} {PACKS[language].latter}"  # "la primera"
    words = (
        FUNCTION_WORDS[language]
        | EXPLAINING[language]
        | word_set(pointing_back)
        | GENRE_WORDS
        | word_set(" ".join(item_words))
    )
    return words | _WIDER[language] if wide else words


def _task_words(task: ExplainTask) -> frozenset[str]:
    """Words the task's facts carry: its titles, genres and catalog item words, and the digits
    of the ratings it may quote ("4", "5" of "4.5/5"); tags only as whole phrases (spans)."""
    facts = (task.recommended, *task.evidence)
    vocabulary = task.vocabulary
    texts = [fact.title for fact in facts] + [genre for fact in facts for genre in fact.genres]
    texts += [*vocabulary.all_nouns(), *vocabulary.nouns(task.language).model_dump().values()]
    texts += [vocabulary.action or ""]  # "played", "bought": the catalog's own verb
    words = {word for text in texts for word in words_of(text) if not word.isdigit()}
    names = GENRE_NAMES.get(task.language, {})
    words |= {
        w for fact in facts for g in fact.genres for p in words_of(g) for w in names.get(p, ())
    }
    if vocabulary.kind == "explicit":
        ratings = [fact.rating for fact in task.evidence if fact.rating is not None]
        words |= {n for r in ratings for n in _NUMBER.findall(vocabulary.rating_text(r))}
    # The shares it may quote, as the prompt rounds them ("38" of "38%").
    words |= {str(percent(f.also_share)) for f in task.evidence if f.also_share is not None}
    return frozenset(words)


def ungrounded_word(
    tokens: Sequence[Token],
    bare_norms: Sequence[str],
    allows: Callable[[int, int], bool],
    task: ExplainTask,
    wide: bool = False,
) -> str | None:
    """The first word no fact of `task`, no function word and no explaining word accounts for,
    as the text writes it (folded); None when every word is grounded. `allows(start, end)` says
    whether a stretch of the text is a title, genre label or quotable tag of the task, and
    `bare_norms` are the tokens' norms without a French elision ("d'horreur": "horreur").
    `wide` is closed mode's vocabulary (`_language_words`), with the wider endings."""
    return next((bare for _, bare in ungrounded(tokens, bare_norms, allows, task, wide)), None)


def ungrounded(
    tokens: Sequence[Token],
    bare_norms: Sequence[str],
    allows: Callable[[int, int], bool],
    task: ExplainTask,
    wide: bool = False,
) -> Iterator[tuple[int, str]]:
    """Each ungrounded word (see `ungrounded_word`) with its token's index."""
    known = _language_words(task.language, wide) | _task_words(task)
    endings = (_WIDER_ENDINGS if wide else _ENDINGS)[task.language]
    if wide and task.language == "en" and task.vocabulary.action:
        known |= _bases(normalize_word(task.vocabulary.action), endings)
    compounds = task.language == "de"
    for index, (token, bare) in enumerate(zip(tokens, bare_norms, strict=True)):
        if allows(token.start, token.end):
            continue
        if not any(_known(word, known, endings, compounds) for word in {token.norm, bare}):
            yield index, bare


def _bases(word: str, endings: Endings) -> frozenset[str]:
    """The base forms `word` may have with a regular ending taken off ("cooked": "cook",
    "Komödien": "Komödie"): how an inflected word is looked up, and how the catalog's verb
    passes in every form ("cooking", "cooks"), not only as the past tense the catalog gives."""
    return frozenset(
        word[: -len(ending)] + base
        for ending, base in endings
        if word.endswith(ending) and len(word) > len(ending) + 1
    )


def _known(word: str, known: frozenset[str], endings: Endings, compounds: bool) -> bool:
    if _inflection_of(word, known, endings):
        return True
    return compounds and _compound_of(word, known, endings)


def _inflection_of(word: str, known: frozenset[str], endings: Endings) -> bool:
    """Whether `word` is a known word or one with a regular ending ("loved", "Komödien")."""
    return word in known or not known.isdisjoint(_bases(word, endings))


def _compound_of(word: str, known: frozenset[str], endings: Endings) -> bool:
    """Whether a German `word` is made of known parts, joined by linking letters
    ("Kriegs-drama", "Animations-abenteuer", "Lieblings-film")."""
    if word.isdigit() or len(word) < 2 * MIN_COMPOUND_PART:
        return False
    reachable = [False] * (len(word) + 1)
    reachable[0] = True
    for start in range(len(word)):
        if not reachable[start]:
            continue
        for end in range(start + MIN_COMPOUND_PART, len(word) + 1):
            part = word[start:end]
            if not _inflection_of(part, known, endings):
                continue
            for link in _LINKS:
                if word.startswith(link, end):
                    reachable[end + len(link)] = True
    return reachable[-1]
