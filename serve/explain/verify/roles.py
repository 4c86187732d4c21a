"""Rules about roles: who the text says did what. The evidence is what the user rated, played or
liked; the recommended item is what they have not seen. A rating, a share or a standing ("one of
your most played") must be one the evidence has, pinned on the title that has it; the
recommended item is never spoken of as seen, nor an evidence item as the recommendation.
"""

from __future__ import annotations

import re

from serve.explain.lang import PACKS, of_every_pack
from serve.explain.text import Token, tokenize, words_of
from serve.explain.verify import ratings
from serve.explain.verify.evidence import Evidence, Reading
from serve.explain.verify.shares import SENTENCE_END, same, without_titles
from serve.explain.verify.titles import Mention
from serve.explain.vocabulary import KNOWN_ITEM_WORDS


def _verb_last(field: str) -> list[str]:
    """A word list of the languages that put the verb last (German), folded, in pack order."""
    return [
        word
        for p in PACKS.values()
        if p.verb_last is not None
        for word in words_of(getattr(p.verb_last, field))
    ]


# Any item word ("the artist Heat", "la película Heat"), longest first so "movies" beats "movie".
_ITEM_WORD = "(?:" + "|".join(sorted(map(re.escape, KNOWN_ITEM_WORDS), key=len, reverse=True)) + ")"
# "one of your most played", "among your favourites", "dein Lieblingsbuch", "tu juego favorito":
# true only of an item among the user's top, whether the user rated or played it.
_TOP_CLAIM = re.compile(
    r"\bmost\s+(?:played|listened\s+to|watched|read|bought|purchased|visited|used|streamed"
    r"|clicked|viewed|heard)\b|(?<!\bnext\s)(?<!\bnew\s)\bfavou?rites?\b"
    r"|\bfavorit(?:[oa]s?|en)?\b|\bfavoris\b|\bpr[ée]f[ée]r[ée]e?s?\b|\blieblings\w+"
    r"|\bmeist(?:gespielt|gehört|gesehen|gelesen|gekauft)\w*",
    re.IGNORECASE,
)
# What may stand between a top claim and the title it names: "your favourite, Toy Story".
_APPOSITION = re.compile(r"[\s,:\"'“„«\u2018*]*")
# Talk of ratings, for catalogs whose feedback is counts or yes/no.
_RATING_WORDS = re.compile(
    r"\b(?:rated|rating|ratings|stars?|bewertet|bewertung|sterne?n?|noté|note|étoiles?"
    r"|valoraste|valoración|calificaste|estrellas?)\b",
    re.IGNORECASE,
)

# Roles: the evidence is what the user rated; the recommended item is what they have not seen.
# A rating belongs to the title just before it in its sentence ("You gave Heat 4/5", "Heat, which
# you rated 4/5"), or to the title a preposition ties it to ("4/5 for Heat", "5/5 à Heat").
_RATED_TITLE_AFTER = re.compile(
    r"\s*(?:(?:ratings?|stars?|sterne?n?|étoiles?|estrellas?)\s+)?"
    r"(?:for|to|of|on|für|an|à|pour|a|para)\s+"
    rf"(?:(?:the|le|la|el|den|das|die)\s+{_ITEM_WORD}\s+)?[\"'“„«\u2018*]?",
    re.IGNORECASE,
)
# Where a clause ends, for what is said of a title: punctuation ("4,5" and "4.5" go on), and in
# German, where the verb comes last, the conjunctions that start the next clause.
_CLAUSE_END = re.compile(
    r"[,;:.!?](?=\s|$)|\b(?:" + "|".join(_verb_last("clause_conjunctions")) + r")\b",
    re.IGNORECASE,
)
_NEGATIONS = of_every_pack("negations")
# A clause break of punctuation only: German "doch" is a conjunction and a particle ("du hörst
# <title> doch schon ständig").
_PUNCTUATION = re.compile(r"[,;:.!?()\u2013\u2014](?=\s|$)")
_QUOTE_OPEN = r"\s*[\"'“„«\u2018*]?\s*"
# A title's mention ends at its last word or at its year's last digit: ")" may follow.
_QUOTE_CLOSE = r"\)?\s*[\"'”“»\u2019*]?"
# "you liked <title>", "vous avez vu <title>", "te gustó <title>": the title is what was seen.
_SEEN_BEFORE_TITLE = re.compile(
    r"(?:"
    r"\byou(?:\s+have|['\u2019]ve)?(?:\s+(?:already|also|really|truly|once|just|both))*\s+"
    r"(?:rated|liked|loved|enjoyed|watched|saw|seen|gave|adored|appreciated|viewed|rewatched"
    r"|played|listened\s+to|heard|bought|purchased|ordered|read|visited|streamed|used"
    r"|like|love|enjoy)"
    r"(?:\s+(?:watching|seeing|playing|listening\s+to|reading))?"
    rf"(?:\s+(?:the|this)\s+(?:{_ITEM_WORD}|title))?"
    r"|\b(?:vous\s+avez|tu\s+as|vous\s+aviez|tu\s+avais)(?:\s+(?:déjà|beaucoup|vraiment|bien))*\s+"
    r"(?:aim|ador|appréci|apprec|not|évalu|evalu|regard|visionn|écout|ecout|achet|jou)[ée]e?s?"
    rf"(?:\s+(?:le|ce|la|cet|cette)\s+{_ITEM_WORD})?"
    r"|\b(?:vous\s+avez|tu\s+as|vous\s+aviez|tu\s+avais)(?:\s+déjà)?\s+(?:vue?s?|lue?s?)"
    r"|\b(?:vous\s+aimez|tu\s+aimes|vous\s+adorez|tu\s+adores)"
    r"|(?<!\bno\s)(?<!\bnunca\s)\b(?:"
    r"te\s+(?:gust[óo]|gustaron|encant[óo]|encantaron|gusta|encanta)"
    r"|(?:ya\s+)?(?:viste|valoraste|calificaste|puntuaste|disfrutaste|amaste|votaste"
    r"|escuchaste|compraste|jugaste|leíste|reprodujiste)"
    r"|has\s+(?:visto|valorado|calificado|disfrutado|puntuado))"
    rf"(?:\s+(?:mucho|tanto|ya))?(?:\s+(?:la|el)\s+{_ITEM_WORD})?"
    r")" + _QUOTE_OPEN + r"$",
    re.IGNORECASE,
)
# "<title>, which you rated", "<title>, que vous avez aimé", "<title> te gustó", "<title> vous a
# plu": the title is what was seen.
_SEEN_AFTER_TITLE = re.compile(
    _QUOTE_CLOSE + r"\s*[,(]?\s*(?:"
    r"(?:which|that)\s+you(?:\s+have|['\u2019]ve)?(?:\s+(?:already|also|really))*\s+"
    r"(?:rated|liked|loved|enjoyed|watched|saw|seen|gave|adored|appreciated|viewed|played"
    r"|listened\s+to|heard|bought|purchased|ordered|read|visited|streamed|used)\b"
    r"|(?:que\s+|qu['\u2019]\s*)(?:vous\s+avez|tu\s+as)(?:\s+(?:déjà|beaucoup|vraiment|bien))*\s+"
    r"(?:(?:aim|ador|appréci|apprec|not|évalu|evalu|regard|visionn|écout|ecout|achet|jou)[ée]"
    r"|vu|lu)"
    r"|(?:vous|t['\u2019])\s*a\s+(?:(?:beaucoup|tant|vraiment|déjà)\s+)?plu\b"
    r"|que\s+(?:ya\s+)?(?:viste|valoraste|calificaste|puntuaste|disfrutaste|amaste|has\s+visto"
    r"|escuchaste|compraste|jugaste|leíste"
    r"|te\s+gust[óo]|te\s+encant[óo])\b"
    r"|te\s+(?:gust[óo]|gustaron|encant[óo]|encantaron)\b"
    # "<title> is in your history", "is one of your most played": the history's own words.
    r"|(?:is|was)\s+(?:already\s+)?(?:in|among|one\s+of)\s+your\b"
    r"|(?:ist|war)\s+(?:schon\s+|bereits\s+)?in\s+deinem\b|(?:gehört|zählt)\s+zu\s+deinen\b"
    r"|in\s+deinem\s+verlauf\b|zu\s+deinen\s+(?:favoriten|lieblings|meist)"
    r"|fait\s+(?:déjà\s+)?partie\s+de\s+(?:votre|vos|ton|tes)\b"
    r"|est\s+(?:déjà\s+)?dans\s+(?:votre|vos|ton|tes)\b"
    r"|está\s+(?:ya\s+)?(?:en|entre)\s+tus?\b"
    r")",
    re.IGNORECASE,
)
# What is recommended, for an evidence item presented as the recommendation: the title a cue
# leads to ("you may enjoy <title>", "könnte dir <title> gefallen", "te puede gustar <title>")...
_RECOMMENDS_NEXT = re.compile(
    r"\byou(?:['\u2019]ll|['\u2019]d|\s+(?:may|might|will|would|should|could|can))"
    r"(?:\s+(?:also|really|probably|likely|surely|definitely|certainly|then|too))*"
    r"\s+(?:enjoy|like|love|appreciate|dig)\b|\bcheck\s+out\b"
    r"|\b(?:könnte|dürfte|wird|sollte)\s+dir\b"
    r"|\b(?:essayez|découvrez|vous\s+(?:aimerez|adorerez|apprécierez)"
    r"|vous\s+(?:devriez|pourriez|allez)\s+(?:aimer|adorer|apprécier))\b"
    r"|\bte\s+(?:puede|podría|podria|va\s+a|debería|deberia)\s+(?:gustar|encantar)\b"
    r"|\bte\s+(?:gustará|encantará)\b|\b(?:disfrutarás|podrías\s+disfrutar)\b",
    re.IGNORECASE,
)
# ...or the title a cue follows ("<title> should suit you", "<title> devrait vous plaire").
_RECOMMENDED_BEFORE = re.compile(
    _QUOTE_CLOSE + r"\s*(?:"
    r"(?:should|will|would|may|might|could)\s+(?:also\s+)?(?:suit|fit|please|appeal\s+to)\s+you"
    r"|is\s+(?:another|a\s+(?:safe|good|great|natural|perfect)\s+(?:bet|pick|choice|fit|match))\b"
    r"|ist\s+(?:wieder|ebenfalls)\b|(?:könnte|dürfte|wird|sollte)\s+dir\b"
    r"|(?:devrait|pourrait)\s+vous\s+plaire|vous\s+plaira|est\s+(?:un|une)\s+autre\b"
    r"|es\s+otr[oa]\b|te\s+(?:puede|podría|va\s+a)\s+gustar|te\s+gustará"
    r")",
    re.IGNORECASE,
)
# Between a cue and its title: at most this many words, none that ties the title to something
# else ("you'll enjoy it as much as <title>", "wie <title>", "comme <title>").
MAX_WORDS_TO_RECOMMENDED = 8
_LINKERS = of_every_pack("linkers")
# German puts the verb last: "Weil du <title> gesehen hast", "Du hast <title> bewertet",
# "<title> hat dir gefallen", "weil dir <title> gefiel".
_DE_PARTICIPLES = frozenset(_verb_last("participles"))
_DE_AUXILIARIES = frozenset(_verb_last("auxiliaries"))
_DE_PRETERITES = frozenset(_verb_last("preterites"))
_FORMER, _LATTER = of_every_pack("former"), of_every_pack("latter")


def _words_by_language(field: str) -> dict[str, frozenset[str]]:
    """A word-list field of each pack, as each language's set of words."""
    return {code: frozenset(words_of(getattr(p, field))) for code, p in PACKS.items()}


_SECOND_PERSON = _words_by_language("second_person")
_ALREADY = _words_by_language("already")


# How far after a first-person word its feedback verb may come ("we have rated", "nous avons
# noté"); in a verb-last language the whole sentence ("Wir haben <title> mit 4,5/5 bewertet").
FIRST_PERSON_REACH = 3
_FIRST_PERSON = _words_by_language("first_person")
_FEEDBACK_VERBS = _words_by_language("feedback_verbs")
# The stems of the feedback verbs ("écout" of "écouté", "escuch" of "escuchado"), for the
# forms no list holds; a stem this short ("aim") would start unrelated words too.
MIN_STEM_CHARS = 4
_PARTICIPLE_ENDING = re.compile(r"(?:ado|ido|e|u)$")
_FEEDBACK_STEMS = {
    code: tuple(
        stem
        for verb in verbs
        if len(stem := _PARTICIPLE_ENDING.sub("", verb)) >= MIN_STEM_CHARS and stem != verb
    )
    for code, verbs in _FEEDBACK_VERBS.items()
}


def wrong_person(reading: Reading, language: str) -> str | None:
    """The writer, not the user, as the one who rated or liked: "We rated Heat 5/5" is a false
    statement about the evidence, whichever language says it."""
    subjects, verbs = _FIRST_PERSON[language], _FEEDBACK_VERBS[language]
    verb_last = PACKS[language].verb_last is not None
    tokens = reading.tokens
    endings, stems = PACKS[language].first_person_endings, _FEEDBACK_STEMS[language]
    for token in tokens:  # "nous écoutons", "escuchamos": the verb's ending is its person
        if token.norm.endswith(endings) and token.norm.startswith(stems):
            return "wrong_person"
    for index, token in enumerate(tokens):
        if token.norm not in subjects or reading.allows(token.start, token.end):
            continue
        if token.norm in verbs:  # a verb form that is its own subject: "valoramos"
            return "wrong_person"
        ends = SENTENCE_END.search(reading.text, token.end)
        stop = ends.start() if ends else len(reading.text)
        reach = len(tokens) if verb_last else index + 1 + FIRST_PERSON_REACH
        following = (t for t in tokens[index + 1 : reach] if t.start < stop)
        if any(t.norm in verbs and not reading.allows(t.start, t.end) for t in following):
            return "wrong_person"
    return None


def wrong_rating(reading: Reading, evidence: Evidence) -> str | None:
    """A rating the text quotes that no evidence item has ("wrong_rating"), or that it pins on a
    title whose rating it is not: the recommended item, which the user has not rated, or another
    evidence item ("misattributed_rating"). Title words are not ratings ("12 Monkeys"). A
    rating tied to no title ("you rated it 5/5") need only be one the evidence has. Ratings are
    read on the catalog's scale; a catalog of counts has none to quote, and no count is ever
    evidence ("you played it 300 times": "quoted_count")."""
    text = without_titles(reading)
    for quote in ratings.percent_quotes(text):  # checked by `_wrong_share`
        text = text[: quote.start] + " " * (quote.end - quote.start) + text[quote.end :]
    if ratings.quotes_count(text):
        return "quoted_count"
    if not evidence.rated and _RATING_WORDS.search(text):
        return "wrong_rating"  # "you rated it highly", said of play counts
    if not evidence.rated:
        if any(_stray_number(token, evidence) for token in tokenize(text)):
            return "wrong_number"  # no count is evidence, and a share was read above
        return _wrong_standing(reading, evidence, text)
    quotes = ratings.rating_quotes(text, evidence.scale_max)
    for token in tokenize(text):  # "un 8 de votre part": a number must be a rating quoted
        quoted = any(q.start <= token.start < q.end for q in quotes)
        if not quoted and _stray_number(token, evidence):
            return "wrong_number"  # "a 3 hour thriller", "number 5": no evidence says it
    for quote in quotes:
        if quote.bare:
            return "unscaled_rating"  # "gave Léon a 9": a reader cannot tell 9 of what
        if quote.scale is not None and not same(quote.scale, evidence.scale_max):
            return "wrong_rating"  # "4.5/5" on a 1-10 catalog: not the rating the user gave
        if quote.value > evidence.scale_max + 1e-6:
            return "wrong_rating"  # "10/5", even when a bad request sent a 10
        if not any(same(quote.value, rating) for rating in evidence.ratings):
            return "wrong_rating"
        mention = _rated_mention(
            reading.task_mentions, text, quote.start, quote.end, evidence.recommended_id
        )
        if mention is not None and not any(
            same(quote.value, evidence.rating_of.get(item_id)) for item_id in mention.item_ids
        ):
            return "misattributed_rating"
    return _wrong_standing(reading, evidence, text)


def _stray_number(token: Token, evidence: Evidence) -> bool:
    """A number that is no word of the task's labels ("80s" of a tag "80s soul")."""
    return any(char.isdigit() for char in token.norm) and token.norm not in evidence.label_words


def evidence_as_recommended(reading: Reading, evidence: Evidence) -> str | None:
    """An evidence item presented as the recommendation: the title a recommending cue leads to
    ("you may enjoy the thriller of <evidence>") or follows ("<evidence> is another drama")."""
    text, mentions = reading.text, reading.task_mentions

    def wrong(mention: Mention) -> bool:
        return evidence.recommended_id not in mention.item_ids

    for cue in _RECOMMENDS_NEXT.finditer(text):
        after = next((m for m in mentions if m.start >= cue.end()), None)
        if after is None:
            continue
        between = text[cue.end() : after.start]
        words = words_of(between)
        tied = _CLAUSE_END.search(between) or not _LINKERS.isdisjoint(words)
        if not tied and len(words) <= MAX_WORDS_TO_RECOMMENDED and wrong(after):
            return "evidence_as_recommended"
    for mention in mentions:
        if wrong(mention) and _RECOMMENDED_BEFORE.match(text, mention.end):
            return "evidence_as_recommended"
    return None


def _wrong_standing(reading: Reading, evidence: Evidence, text: str) -> str | None:
    """ "X is one of your most played" where X is not among the user's top (or, said of no
    title, where no evidence item is)."""
    mentions = reading.task_mentions
    for match in _TOP_CLAIM.finditer(text):
        # The title it is said of comes before ("X is your favourite") or right after ("your
        # favourite, Toy Story"): either may be the one meant.
        after = next((m for m in mentions if m.start >= match.end()), None)
        named = [
            mention
            for mention in (
                _rated_mention(mentions, text, match.start(), match.end(), evidence.recommended_id),
                after if after and _APPOSITION.fullmatch(text, match.end(), after.start) else None,
            )
            if mention is not None
        ]
        claimed = frozenset().union(*(m.item_ids for m in named)) if named else evidence.allowed_ids
        if claimed.isdisjoint(evidence.top_ids):
            return "wrong_standing"
    return None


def _rated_mention(
    mentions: list[Mention], text: str, start: int, end: int, recommended_id: str = ""
) -> Mention | None:
    """The title the rating at `start:end` of `text` belongs to: the one a preposition ties it
    to ("4/5 for Heat"), else the nearest one before it in its sentence; None when neither."""
    after = next((m for m in mentions if m.start >= end), None)
    if after is not None and _RATED_TITLE_AFTER.fullmatch(text, end, after.start):
        return after
    before = next((m for m in reversed(mentions) if m.end <= start), None)
    if before is None or SENTENCE_END.search(text, before.end, start):
        return None
    # "den ersten Teil mit 4.5/5", "un 5/5 a la primera": an ordinal points back at a title.
    clause_end = _CLAUSE_END.search(text, end)
    around = words_of(text[before.end : clause_end.start() if clause_end else len(text)])
    for ordinals, place in ((_FORMER, 0), (_LATTER, 1)):
        if not ordinals.isdisjoint(around) and len(mentions) > place:
            return mentions[place]
    # A clause of its own ("un drama que, dada tu nota de 5/5, te puede interesar") says
    # nothing of the recommended title before it.
    if recommended_id in before.item_ids and _CLAUSE_END.search(text, before.end, start):
        return None
    return before


def recommended_as_seen(reading: Reading, evidence: Evidence, language: str) -> str | None:
    """The recommended item spoken of as rated, watched or liked by the user ("since you liked
    <it>", "Sie haben <it> gesehen", "<it>, que vous avez aimé"): it is recommended because the
    user has not seen it, so such a sentence is false, whatever else it says. Only what is said
    of the title in its own clause counts, and a negated clause ("noch nicht gesehen") does not."""
    mentions = reading.task_mentions
    text = reading.text
    for index, mention in enumerate(mentions):
        if mention.item_ids != {evidence.recommended_id}:
            continue
        previous_end = mentions[index - 1].end if index else 0
        next_start = mentions[index + 1].start if index + 1 < len(mentions) else len(text)
        before = _clause_tail(text[previous_end : mention.start])
        after = text[mention.end : next_start]
        if _negated(before) or _negated(_clause_head(after)):
            continue
        if _SEEN_BEFORE_TITLE.search(before) or _SEEN_AFTER_TITLE.match(after):
            return "recommended_as_seen"
        if _german_seen(before, _clause_head(after)):
            return "recommended_as_seen"
        if _already_seen(before, _PUNCTUATION.split(after, 1)[0], language):
            return "recommended_as_seen"
    return "recommended_as_seen" if _SEEN_THIS.search(text) else None


# "you already watched this crime thriller", "watch it again": the recommended item, unnamed.
_SEEN_THIS = re.compile(
    r"\byou(?:\s+have|['\u2019]ve)?\s+already\s+(?:seen|watched|saw|rated|played|heard|read"
    r"|listened\s+to|bought|liked|loved|enjoyed)\s+(?:this|it)\b"
    r"|\b(?:watch|see|play|read|enjoy)\s+it\s+again\b|\brewatch\s+(?:this|it)\b",
    re.IGNORECASE,
)


def _clause_tail(text: str) -> str:
    """The end of `text` after its last clause break: the words leading up to a title."""
    breaks = list(_CLAUSE_END.finditer(text))
    return text[breaks[-1].end() :] if breaks else text


def _clause_head(text: str) -> str:
    """The start of `text` up to its first clause break: the words that follow a title."""
    found = _CLAUSE_END.search(text)
    return text[: found.start()] if found else text


def _negated(clause: str) -> bool:
    return not _NEGATIONS.isdisjoint(words_of(clause))


def _german_seen(before: str, after: str) -> bool:
    """Whether a German clause says the reader saw the title: a past participle after the title
    (also in a compound: "durchgespielt") with a form of "haben" anywhere in the clause, or a
    past-tense verb of liking or seeing, each with the reader as its subject ("du", "dir"):
    "mochten auch <title>" is what other people did."""
    words = set(words_of(before)) | set(words_of(after))
    if _SECOND_PERSON["de"].isdisjoint(words):
        return False
    if not _DE_PRETERITES.isdisjoint(words):
        return True
    has_participle = any(w.endswith(p) for w in words_of(after) for p in _DE_PARTICIPLES)
    return has_participle and not _DE_AUXILIARIES.isdisjoint(words)


def _already_seen(before: str, after: str, language: str) -> bool:
    """A clause with the reader as its subject and "already" in it, around the recommended
    title: "Du hörst <title> doch schon ständig", "tu écoutes déjà <title>", "Ya tienes <title>
    entre tus favoritas" ("ya que" is "since", not "already")."""
    words = [*words_of(before), "", *words_of(after)]
    already = any(
        w in _ALREADY[language] and not (w == "ya" and nxt == "que")
        for w, nxt in zip(words, [*words[1:], ""], strict=True)
    )
    return already and not _SECOND_PERSON[language].isdisjoint(words)


_NOVELTY = of_every_pack("novelty")


def known_called_new(reading: Reading, known: bool) -> str | None:
    """An item the user already has (a caller's own list may name one) called new or a
    discovery, outside a title ("New York Stories" still may be named)."""
    if not known:
        return None
    for token in reading.tokens:
        if token.norm in _NOVELTY and not reading.allows(token.start, token.end):
            return "known_called_new"
    return None
