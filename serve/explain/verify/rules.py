"""The verifier's rules about what an explanation says, one function each: a rule returns the
short reason code of what it caught, or None. The rules about who did what (ratings, shares,
seen and recommended items) are in `roles`; the order they run in is `Verifier.check`'s.
"""

from __future__ import annotations

import re

from serve.explain.explanation import ExplainTask
from serve.explain.lang import patterns_of_every_pack
from serve.explain.text import YEAR_IN_TEXT, Token, catalog_words
from serve.explain.verify import claims, frequency, surface
from serve.explain.verify.evidence import PEOPLE, Evidence, Reading, phrase_spans
from serve.explain.verify.languages import EVERYDAY_WORDS, SENTENCE_STARTERS, STOPWORDS, looks_like

# An instruction echo is this many consecutive words of an instruction; a text that says this
# many words twice is looping.
ECHO_WORDS = 5


def ngrams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}


def stray_year(reading: Reading) -> str | None:
    """A "(1977)" that ends no title of the catalog: a title spliced from others ("Star Wars:
    Episode VI - A New Hope (1977)") or given a wrong year ("Heat (1996)"); or a bare year in no
    title or label ("performing since 2009"): no evidence carries one."""
    mentions = (*reading.catalog_mentions, *reading.task_mentions)
    for match in YEAR_IN_TEXT.finditer(reading.text):
        # A mention ends before the closing parenthesis.
        in_title = any(m.start <= match.start() and match.end() - 1 <= m.end for m in mentions)
        if not in_title and not reading.allows(match.start(), match.end()):
            return "stray_year"
    return None


def repetitive(reading: Reading) -> str | None:
    """The same run of words twice, titles aside: "Lord of the Rings: The Two Towers" and "…:
    The Return of the King" share five words, and each is one word here ("Sø Sø Sø Sø Sø"
    is still five times the same)."""
    words: list[str] = []
    for token in reading.tokens:
        title = next((m for m in reading.task_mentions if m.start <= token.start < m.end), None)
        if title is None:
            words.append(token.norm)
        elif title.start == token.start:
            words.append("\x00" + ",".join(sorted(title.item_ids)))
    windows = len(words) - ECHO_WORDS + 1
    return "repetitive" if windows > 0 and len(ngrams(words)) < windows else None


def unsafe_catalog_text(reading: Reading, evidence: Evidence) -> str | None:
    said = {token.norm for token in reading.tokens}
    return None if evidence.forbidden_words.isdisjoint(said) else "unsafe_catalog_text"


def wrong_language(reading: Reading, evidence: Evidence, language: str) -> str | None:
    in_language = looks_like(reading.text, language, ignore=evidence.catalog_phrases)
    return None if in_language else "wrong_language"


def cited(reading: Reading, task: ExplainTask) -> tuple[str, ...]:
    """Evidence ids whose titles the text names, in evidence order."""
    named = {item_id for mention in reading.task_mentions for item_id in mention.item_ids}
    return tuple(fact.item_id for fact in task.evidence if fact.item_id in named)


def invented_entity(reading: Reading, evidence: Evidence, language: str) -> str | None:
    """A name or a claim that appears nowhere in the evidence: a capitalized word that is no
    everyday word (at a sentence start, no usual first word either: "Nolan fans"), a first
    name or a well-known surname in any case ("by christopher nolan"), or a claim word or
    phrase ("directed", "helmed by", "based on"). German capitalizes every noun, so there
    only the lists of names tell a name."""
    for index, (token, norm) in enumerate(zip(reading.tokens, reading.bare_norms, strict=True)):
        if token.norm in evidence.vocabulary or reading.allows(token.start, token.end):
            continue
        german_noun = language == "de" and token.norm.isalpha() and index > 0
        if german_noun:  # a name only where "von" ties it to the item: "ein Film von Lang"
            german_noun = reading.tokens[index - 1].norm != "von"
        named = _name_like(token, language) and not german_noun
        if named or norm in PEOPLE or norm in claims.CLAIM_WORDS:
            return "invented_entity"
    # A phrase that starts inside a title is the title's ("The Witcher 3: Wild Hunt an ...").
    titles = [(m.start, m.end) for m in reading.task_mentions]
    for match in claims.CLAIM_PHRASES.finditer(reading.text):
        in_title = any(s <= match.start() < e for s, e in titles)
        if not in_title and not reading.allows(match.start(), match.end()):
            return "invented_entity"
    for match in claims.SETTING.finditer(reading.text):
        where = "place" if match.group("place") else "before"
        if not reading.allows(match.start(where), match.end(where)):
            return "invented_entity"
    return None


def disparaging(reading: Reading) -> str | None:
    """Disparagement, profanity or insults, from a tag ("boring") or the model's own, and any
    judgment of the reader ("gente tan simple como tú", "deinem schlichten Geschmack"): a
    recommendation says none of them."""
    if _READER_JUDGED.search(reading.text):
        return "disparaging"
    titles = [(m.start, m.end) for m in (*reading.task_mentions, *reading.catalog_mentions)]
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        rude = norm in claims.DISPARAGING or norm.startswith(claims.DISPARAGING_PREFIXES)
        if rude and not any(s <= token.start < e for s, e in titles):
            return "disparaging"
    return None


def invented_user_fact(reading: Reading) -> str | None:
    """The reader's family, age or life ("your kids", "as a woman in your thirties"): no
    evidence says anything of them."""
    return "invented_user_fact" if claims.USER_FACTS.search(reading.text) else None


# The reader compared or judged, in any language ("as simple as you", "aussi limité que toi").
_READER_JUDGED = patterns_of_every_pack("reader_judged")
# Words of these endings are verbs and adverbs, not names, wherever they stand ("Loving").
_NOT_NAME_ENDINGS = ("ing", "ly", "ed")
# A capitalized word at a sentence start this common is that word, not a name ("Fancy another
# comedy?"); "Nolan" (3.6) stays a name.
COMMON_AT_START_ZIPF = 4.3


def _name_like(token: Token, language: str) -> bool:
    if (
        not token.capitalized
        or token.norm[:1].isdigit()
        or token.norm in EVERYDAY_WORDS
        or token.norm in claims.GENRE_OF_WORD  # a genre is checked as one ("Thrillers")
    ):
        return False
    if not token.sentence_initial:
        return True
    # At a sentence start a capital says nothing: a word common in the language ("Fancy",
    # "Readers") is that word, a rarer one ("Nolan") may be a name.
    return (
        token.norm not in SENTENCE_STARTERS
        and not token.norm.endswith(_NOT_NAME_ENDINGS)
        and not frequency.common(token.norm, language, COMMON_AT_START_ZIPF)
    )


def wrong_genre(reading: Reading, evidence: Evidence, language: str) -> str | None:
    """A genre ("Horror", "Krimidrama", "comédie musicale") the recommended item does not have,
    or, in a sentence that says both items have it ("both are", "in common"), one it does not
    share with the evidence. Titles are no genres ("Alien" is Sci-Fi), nor are the task's
    language's function words (German "war")."""
    # A catalog title that is a bare genre word ("Romance", a 1999 film) is read as the genre:
    # otherwise "another Romance story" of a film that is no romance would pass as a title.
    titles = [(m.start, m.end) for m in reading.task_mentions] + [
        (m.start, m.end)
        for m in reading.catalog_mentions
        if m.with_year or not _bare_genre(reading.text[m.start : m.end])
    ]
    cited = {m.start: bool(m.item_ids - {evidence.recommended_id}) for m in reading.task_mentions}
    sentences: list[list[str]] = [[]]
    citing: list[set[bool]] = [set()]
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        if token.sentence_initial and sentences[-1]:
            sentences.append([])
            citing.append(set())
        sentences[-1].append("" if any(s <= token.start < e for s, e in titles) else norm)
        if token.start in cited:
            citing[-1].add(cited[token.start])
    stopwords = STOPWORDS[language]
    for words, kinds in zip(sentences, citing, strict=True):
        said = claims.genres_of(
            ["" if word in stopwords else word for word in words], compounds=language == "de"
        )
        # A sentence that names a history item and the recommended one gives the reason
        # they go together: a genre in it is one they share.
        both = not claims.BOTH.isdisjoint(words) or kinds == {True, False}
        allowed = evidence.shared_genres if both else evidence.genres
        if not said <= allowed:
            return "wrong_genre"
    return None


def _bare_genre(text: str) -> bool:
    words = catalog_words(text)
    return len(words) <= 2 and bool(claims.genres_of(words))


def link_or_markup(reading: Reading) -> str | None:
    return "link_or_markup" if surface.LINK_OR_MARKUP.search(reading.text) else None


def garbage(reading: Reading) -> str | None:
    """Punctuation or symbols piled up ("!!!!!!!!", "🔥🔥🔥"): a model that has lost the thread."""
    return "garbage" if surface.garbage(reading.text) else None


def foreign_script(reading: Reading) -> str | None:
    """A word with a letter of another script than Latin, outside the titles and labels that
    are written so: a look-alike ("Nolan" with a Cyrillic "o") or another alphabet."""
    for token in reading.tokens:
        if surface.foreign_script(token.norm) and not reading.allows(token.start, token.end):
            return "foreign_script"
    return None


def wrong_label(reading: Reading, evidence: Evidence) -> str | None:
    """ "none" as a label, or talk of genres and tags ("the none genre", "not a genre or tag")
    where the recommended item has none, outside titles."""
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        if reading.allows(token.start, token.end):
            continue
        if norm == claims.EMPTY_LABEL or (evidence.unlabelled and norm in claims.LABEL_WORDS):
            return "wrong_label"
    return None


# "the rock instrumental of <recommended>" and "<recommended> has indie, guitar": the words
# between a label and the recommended title that pin the label on it.
_PINNED_BEFORE = re.compile(r"^[\w\s,&'-]*?\b(?:of|de|du|des|del|von|vom|der|d')\s*$", re.I)
_PINNED_AFTER = re.compile(
    r"^\s*(?:is|has|ist|hat|est|a|es|tiene|brings|bietet|offers)\b[\w\s,&'-]*$", re.I
)


def borrowed_label(reading: Reading, evidence: Evidence) -> str | None:
    """A label of an evidence item that the recommended item lacks, pinned on the recommended
    item: "you may enjoy the rock instrumental of <recommended>" when only the evidence is
    instrumental (Qwen wrote it). Genres are `_wrong_genre`'s; this sees every tag."""
    spans = phrase_spans(reading.tokens, evidence.borrowed_labels)
    text = reading.text
    for mention in reading.task_mentions:
        if evidence.recommended_id not in mention.item_ids:
            continue
        for start, end in spans:
            if end <= mention.start and _PINNED_BEFORE.match(text[end : mention.start]):
                return "borrowed_label"
            if mention.end <= start and _PINNED_AFTER.match(text[mention.end : start]):
                return "borrowed_label"
    return None


def foreign_domain_word(reading: Reading, evidence: Evidence) -> str | None:
    """A noun of another kind of catalog, outside titles and labels: "film" or "story" said of
    a game or an artist (`Vocabulary.foreign_nouns`)."""
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        if norm in evidence.foreign_nouns and not reading.allows(token.start, token.end):
            return "foreign_domain_word"
    return None
