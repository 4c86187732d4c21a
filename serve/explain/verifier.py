"""Accepting or rejecting what the LLM wrote: an explanation is shown only when it is well formed,
in the language asked for, and says nothing the evidence does not support.

Tiny models parrot, invent ("directed by Christopher Nolan"), misquote ratings, pin a rating on
the wrong title, talk of the recommended item as if the user had already seen it, leak few-shot
titles, echo their instructions and obey instructions hidden in catalog text. Each rule below
catches one of those lexically and deterministically; a rejected explanation is replaced by a
template, so a false rejection costs some fluency and a false acceptance costs trust.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from serve.explain.explanation import ExplainTask
from serve.explain.languages import EVERYDAY_WORDS, FUNCTION_WORDS, looks_like
from serve.explain.titles import CatalogTitles, Mention, Token, tokenize, words_of
from serve.explain.vocabulary import KNOWN_ITEM_WORDS

# An instruction echo is this many consecutive words of an instruction; a text that says this
# many words twice is looping.
ECHO_WORDS = 5
# Words of an injected text shorter than this are too common to forbid ("say", "now").
MIN_UNSAFE_WORD_CHARS = 4

# Catalog text that talks to the model instead of describing an item.
_UNSAFE = re.compile(
    r"\bignore\s+(?:(?:all|any|the|your|my|of|these|those)\s+)*"
    r"(?:previous|prior|above|earlier|preceding|former|other)?\s*"
    r"(?:instructions?|prompts?|rules|directions|messages?|context)\b"
    r"|\bdisregard\b"
    r"|\bforget\s+(?:all|everything|your|previous|prior|the\s+above|any)\b"
    r"|\byou\s+are\s+now\b|\byou['\u2019]re\s+now\b|\bpretend\s+(?:to\s+be|you)\b"
    r"|\b(?:system|assistant|developer)\s*:"
    r"|\b(?:reply|respond|answer|say|print|output|write|type)\s+"
    r"(?:(?:only|just|exactly|with|the\s+word)\s+)+\S"
    r"|\bnew\s+instructions\b|\bsystem\s+prompt\b|\bjailbreak\b"
    r"|<\|[a-z_]+\|>|\[/?inst\]|</?\s*(?:system|assistant|user|instructions?)\s*>",
    re.IGNORECASE,
)
# "reply HACKED": a verb of speech and a shouted word; the capitals keep "Say Anything" safe.
_UNSAFE_SHOUT = re.compile(r"\b(?i:reply|respond|answer|say|print|output)\s+[\"'“]?[A-Z]{3,}\b")

# Talk about the prompt rather than about the films, and prompt fields parroted ("similarity
# 0.83"): no reader needs to see those.
_META_TALK = re.compile(
    r"ignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+instructions"
    r"|\bdisregard\b|\bsystem\s+prompt\b|\bas\s+an\s+ai\b|\blanguage\s+model\b|\bjson\b"
    r"|\bthe\s+user\b|\bthe\s+evidence\b|</?\s*[a-z_]+\s*/?>|[{}]|\[/?inst\]|<\|"
    r"|\bsimilarity\b|\b\d+\.\d{2,}\b|\bgenres\s+and\s+tags\b|\bclosest\s+to\b",
    re.IGNORECASE,
)

# Claims no catalog field supports unless the evidence says so (a tag "remake" does).
_CLAIM_WORDS = frozenset(
    words_of(
        "directed director directors starring sequel sequels prequel prequels remake remakes "
        "oscar oscars award awards regie regisseur fortsetzung réalisé réalisateur dirigida "
        "dirigido secuela protagonizada praised acclaimed critics critically grammy grammys "
        "bestseller bestselling debut debuted founded formed performing toured"
    )
)

_NUMBER_WORDS = {
    **dict.fromkeys(("one", "eins", "un", "une", "uno", "una"), 1.0),
    **dict.fromkeys(("two", "zwei", "deux", "dos"), 2.0),
    **dict.fromkeys(("three", "drei", "trois", "tres"), 3.0),
    **dict.fromkeys(("four", "vier", "quatre", "cuatro"), 4.0),
    **dict.fromkeys(("five", "fünf", "cinq", "cinco"), 5.0),
    **dict.fromkeys(("ten", "zehn", "dix", "diez"), 10.0),
}
_NUMBER = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_SCALE = r"(\d{1,3}|five|ten|fünf|zehn|cinq|dix|cinco|diez)"
# Any item word ("the artist Heat", "la película Heat"), longest first so "movies" beats "movie".
_ITEM_WORD = "(?:" + "|".join(sorted(map(re.escape, KNOWN_ITEM_WORDS), key=len, reverse=True)) + ")"
# Counts are never evidence (the prompt gives none), so "you played it 300 times" is invented.
_COUNT = re.compile(
    rf"(?<![\w.,]){_NUMBER}(?:\s+|\s*-\s*)(?:times|plays|listens|streams|hours|clicks|visits"
    r"|purchases|mal|fois|veces|stunden|heures|horas|écoutes|reproducciones|wiedergaben)\b",
    re.IGNORECASE,
)
# Ordered: "4 von 5 Sternen" is one rating of 4, not also one of 5 stars.
_RATING_PATTERNS = (
    re.compile(
        rf"(?<![\w.,]){_NUMBER}\s*(?:/|\bout\s+of\b|\bsur\b|\bvon\b|\baus\b|\bde\b)\s*{_SCALE}\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<![\w.,]){_NUMBER}(?:\s*-\s*|\s+)(?:stars?|sterne?n?|étoiles?|estrellas?)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:rated|gave|rating\s+of|bewertet\s+mit|noté|valoraste\s+con|calificaste\s+con)"
        r"(?:\s+(?:it|this|that|a|él|la|le))?\s+(\d+(?:[.,]\d+)?)(?![\w/]|[.,]\d)",
        re.IGNORECASE,
    ),
)

# "one of your most played", "among your favourites": true only of an item among the user's top.
_TOP_CLAIM = re.compile(
    r"\bmost\s+(?:played|listened\s+to|watched|read|bought|purchased|visited|used|streamed"
    r"|clicked|viewed|heard)\b|\bfavou?rites?\b|\bfavoriten\b|\bfavoris\b|\bfavoritos\b"
    r"|\bmeist(?:gespielt|gehört|gesehen|gelesen|gekauft)\w*",
    re.IGNORECASE,
)
# Talk of ratings, for catalogs whose feedback is counts or yes/no.
_RATING_WORDS = re.compile(
    r"\b(?:rated|rating|ratings|stars?|bewertet|bewertung|sterne?n?|noté|note|étoiles?"
    r"|valoraste|valoración|calificaste|estrellas?)\b",
    re.IGNORECASE,
)

# Roles: the evidence is what the user rated; the recommended item is what they have not seen.
# A rating belongs to the title just before it in its sentence ("You gave Heat 4/5", "Heat, which
# you rated 4/5"), or to the title a preposition ties it to ("4/5 for Heat", "5/5 à Heat").
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)")
_RATED_TITLE_AFTER = re.compile(
    r"\s*(?:(?:ratings?|stars?|sterne?n?|étoiles?|estrellas?)\s+)?"
    r"(?:for|to|of|on|für|an|à|pour|a|para)\s+"
    rf"(?:(?:the|le|la|el|den|das|die)\s+{_ITEM_WORD}\s+)?[\"'“„«\u2018*]?",
    re.IGNORECASE,
)
# Where a clause ends, for what is said of a title: punctuation ("4,5" and "4.5" go on), and in
# German, where the verb comes last, the conjunctions that start the next clause.
_CLAUSE_END = re.compile(
    r"[,;:.!?](?=\s|$)|\b(?:und|oder|aber|denn|sondern|doch|weil|da|dass|wenn)\b",
    re.IGNORECASE,
)
_NEGATIONS = frozenset(
    words_of("not never nicht nie niemals kein keine keinen pas jamais no nunca jamás")
)
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
    r")",
    re.IGNORECASE,
)
# German puts the verb last: "Weil du <title> gesehen hast", "Du hast <title> bewertet",
# "<title> hat dir gefallen", "weil dir <title> gefiel".
_DE_PARTICIPLES = frozenset(
    words_of(
        "bewertet benotet gesehen angesehen angeschaut geschaut geguckt gemocht geliebt genossen "
        "gefallen gespielt gehört angehört gekauft gelesen besucht"
    )
)
_DE_AUXILIARIES = frozenset(words_of("hast hat haben habt hattest hatte hatten"))
_DE_PRETERITES = frozenset(words_of("mochtest mochten mochtet gefiel gefielen liebtest sahst"))


def is_unsafe(text: str) -> bool:
    """Whether catalog text reads like an instruction to the model (a prompt injection)."""
    return _UNSAFE.search(text) is not None or _UNSAFE_SHOUT.search(text) is not None


@dataclass(frozen=True)
class Verdict:
    """Whether an explanation may be shown; `reason` is a short machine-readable code."""

    ok: bool
    reason: str
    text: str = ""
    cited_item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Evidence:
    """What a task allows an explanation to say, prepared once per check."""

    labels: tuple[str, ...]
    # Titles (as they may be written) and labels: catalog language, not the answer's.
    catalog_phrases: tuple[str, ...]
    vocabulary: frozenset[str]
    forbidden_words: frozenset[str]
    # Ratings the text may quote: none unless the catalog's feedback is ratings on a scale.
    ratings: tuple[float, ...]
    # Each evidence item's own rating (None when unrated), to check whom a rating is pinned on.
    rating_of: dict[str, float | None]
    scale_max: float
    rated: bool  # whether the catalog's feedback is ratings at all
    top_ids: frozenset[str]  # evidence among the user's most played (counts only)
    recommended_id: str
    allowed_ids: frozenset[str]
    titles: CatalogTitles

    @classmethod
    def of(cls, task: ExplainTask) -> _Evidence:
        facts = (task.recommended, *task.evidence)
        labels = tuple(
            dict.fromkeys(
                [label for fact in facts for label in (*fact.genres, *fact.tags)]
                + list(task.shared_tags)
            )
        )
        sources = [fact.title for fact in facts] + list(labels)
        unsafe = [text for text in sources if is_unsafe(text)]
        safe_words = {word for text in sources if text not in unsafe for word in words_of(text)}
        forbidden = {
            word
            for text in unsafe
            for word in words_of(text)
            if len(word) >= MIN_UNSAFE_WORD_CHARS and word.isalpha() and word not in safe_words
        }
        phrases = [v for fact in facts for v in CatalogTitles.display_variants(fact.title)]
        phrases += labels
        words = task.vocabulary
        item_words = {*words.all_nouns(), *words.nouns(task.language).model_dump().values()}
        rated = words.kind == "explicit"
        return cls(
            labels=labels,
            catalog_phrases=tuple(phrases),
            vocabulary=frozenset(
                word for text in (*phrases, *item_words) for word in words_of(text)
            ),
            forbidden_words=frozenset(forbidden - FUNCTION_WORDS),
            ratings=tuple(f.rating for f in task.evidence if f.rating is not None and rated),
            rating_of={f.item_id: f.rating if rated else None for f in task.evidence},
            scale_max=words.scale_max,
            rated=rated,
            top_ids=frozenset(
                f.item_id
                for f in task.evidence
                if words.kind == "implicit" and words.is_top(f.top_share)
            ),
            recommended_id=task.recommended.item_id,
            allowed_ids=frozenset(f.item_id for f in facts),
            titles=CatalogTitles(((f.item_id, f.title) for f in facts), expected=True),
        )


@dataclass(frozen=True)
class _Reading:
    """An explanation's words and the titles and labels found in it."""

    text: str
    tokens: list[Token]
    catalog_mentions: list[Mention]
    task_mentions: list[Mention]
    allowed_spans: list[tuple[int, int]]

    def allows(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.allowed_spans)


class Verifier:
    """Checks LLM output against the task it was asked to explain."""

    def __init__(
        self,
        titles: CatalogTitles,
        few_shot_titles: list[str],
        instruction_phrases: list[str],
        max_chars: int = 300,
    ) -> None:
        self._titles = titles
        self._few_shot = CatalogTitles((f"few-shot:{t}", t) for t in few_shot_titles)
        self._instruction_ngrams = frozenset(
            ngram for phrase in instruction_phrases for ngram in _ngrams(words_of(phrase))
        )
        self._max_chars = max_chars

    def check(self, raw: str, task: ExplainTask) -> Verdict:
        """The first rule `raw` breaks, or ok with the cleaned text and the evidence it cites."""
        text = _explanation_text(raw)
        if text is None:
            return Verdict(False, "not_json")
        if not text:
            return Verdict(False, "empty", text)
        if len(text) > self._max_chars:
            return Verdict(False, "too_long", text)
        evidence = _Evidence.of(task)
        reading = self._read(text, evidence)
        reason = (
            _unsafe_catalog_text(reading, evidence)
            or self._instruction_echo(reading)
            or _repetitive(reading)
            or _wrong_language(reading, evidence, task.language)
            or self._few_shot_leak(reading)
            or self._foreign_title(reading, evidence)
            or _stray_year(reading)
        )
        if reason:
            return Verdict(False, reason, text)
        cited = _cited(reading, task)
        reason = (
            ("no_evidence_cited" if not cited else None)
            or _invented_entity(reading, evidence)
            or _wrong_rating(reading, evidence)
            or _recommended_as_seen(reading, evidence)
        )
        if reason:
            return Verdict(False, reason, text)
        return Verdict(True, "ok", text, cited)

    def _read(self, text: str, evidence: _Evidence) -> _Reading:
        tokens = tokenize(text)
        catalog_mentions = self._titles.find_in_tokens(tokens)
        task_mentions = evidence.titles.find_in_tokens(tokens)
        allowed = [(m.start, m.end) for m in task_mentions]
        allowed += [(m.start, m.end) for m in catalog_mentions if m.item_ids & evidence.allowed_ids]
        allowed += _phrase_spans(tokens, evidence.labels)
        return _Reading(text, tokens, catalog_mentions, task_mentions, allowed)

    def _instruction_echo(self, reading: _Reading) -> str | None:
        echoed = not self._instruction_ngrams.isdisjoint(
            _ngrams([token.norm for token in reading.tokens])
        )
        talks_to_model = _META_TALK.search(reading.text) or is_unsafe(reading.text)
        return "instruction_echo" if echoed or talks_to_model else None

    def _few_shot_leak(self, reading: _Reading) -> str | None:
        leaks = (
            m
            for m in self._few_shot.find_in_tokens(reading.tokens)
            if not reading.allows(m.start, m.end)
        )
        return "few_shot_leak" if any(leaks) else None

    def _foreign_title(self, reading: _Reading, evidence: _Evidence) -> str | None:
        foreign = (
            m
            for m in reading.catalog_mentions
            if not m.item_ids & evidence.allowed_ids and not reading.allows(m.start, m.end)
        )
        return "foreign_title" if any(foreign) else None


_YEAR = re.compile(r"\((?:1[89]|20)\d\d\)|(?<![\w(])(?:1[89]|20)\d\d(?![\w)])")


def _stray_year(reading: _Reading) -> str | None:
    """A "(1977)" that ends no title of the catalog: a title spliced from others ("Star Wars:
    Episode VI - A New Hope (1977)") or given a wrong year ("Heat (1996)"); or a bare year in no
    title or label ("performing since 2009"): no evidence carries one."""
    mentions = (*reading.catalog_mentions, *reading.task_mentions)
    for match in _YEAR.finditer(reading.text):
        # A mention ends before the closing parenthesis.
        in_title = any(m.start <= match.start() and match.end() - 1 <= m.end for m in mentions)
        if not in_title and not reading.allows(match.start(), match.end()):
            return "stray_year"
    return None


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


def _ngrams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}


def _phrase_spans(tokens: list[Token], phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of the text where one of `phrases` occurs, word for word."""
    by_first: dict[str, set[tuple[str, ...]]] = {}
    for phrase in phrases:
        words = tuple(words_of(phrase))
        if words:
            by_first.setdefault(words[0], set()).add(words)
    norms = [token.norm for token in tokens]
    spans = []
    for start, norm in enumerate(norms):
        for words in by_first.get(norm, ()):
            end = start + len(words)
            if tuple(norms[start:end]) == words:
                spans.append((tokens[start].start, tokens[end - 1].end))
    return spans


def _repetitive(reading: _Reading) -> str | None:
    words = [token.norm for token in reading.tokens]
    windows = len(words) - ECHO_WORDS + 1
    return "repetitive" if windows > 0 and len(_ngrams(words)) < windows else None


def _unsafe_catalog_text(reading: _Reading, evidence: _Evidence) -> str | None:
    said = {token.norm for token in reading.tokens}
    return None if evidence.forbidden_words.isdisjoint(said) else "unsafe_catalog_text"


def _wrong_language(reading: _Reading, evidence: _Evidence, language: str) -> str | None:
    in_language = looks_like(reading.text, language, ignore=evidence.catalog_phrases)
    return None if in_language else "wrong_language"


def _cited(reading: _Reading, task: ExplainTask) -> tuple[str, ...]:
    """Evidence ids whose titles the text names, in evidence order."""
    named = {item_id for mention in reading.task_mentions for item_id in mention.item_ids}
    return tuple(fact.item_id for fact in task.evidence if fact.item_id in named)


def _invented_entity(reading: _Reading, evidence: _Evidence) -> str | None:
    """A name-like word (capitalized mid-sentence, not an everyday word) or a claim word
    ("directed", "sequel") that appears nowhere in the evidence."""
    for token in reading.tokens:
        if token.norm in evidence.vocabulary or reading.allows(token.start, token.end):
            continue
        name_like = (
            token.capitalized
            and not token.sentence_initial
            and not token.norm[:1].isdigit()
            and token.norm not in EVERYDAY_WORDS
        )
        if name_like or token.norm in _CLAIM_WORDS:
            return "invented_entity"
    return None


def _wrong_rating(reading: _Reading, evidence: _Evidence) -> str | None:
    """A rating the text quotes that no evidence item has ("wrong_rating"), or that it pins on a
    title whose rating it is not: the recommended item, which the user has not rated, or another
    evidence item ("misattributed_rating"). Title words are not ratings ("12 Monkeys"). A
    rating tied to no title ("you rated it 5/5") need only be one the evidence has. Ratings are
    read on the catalog's scale; a catalog of counts has none to quote, and no count is ever
    evidence ("you played it 300 times": "quoted_count")."""
    masked = list(reading.text)
    for mention in (*reading.catalog_mentions, *reading.task_mentions):
        masked[mention.start : mention.end] = " " * (mention.end - mention.start)
    text = "".join(masked)
    if _COUNT.search(text):
        return "quoted_count"
    if not evidence.rated and _RATING_WORDS.search(text):
        return "wrong_rating"  # "you rated it highly", said of play counts
    if not evidence.rated:
        return _wrong_standing(reading, evidence, text)
    taken: list[tuple[int, int]] = []
    for pattern in _RATING_PATTERNS:
        for match in pattern.finditer(text):
            if any(s <= match.start(1) < e for s, e in taken):
                continue
            taken.append(match.span())
            value = _number(match.group(1))
            if pattern.groups > 1:  # "9/10" is 4.5 on a 5 scale
                value = value / max(_number(match.group(2)), 1e-9) * evidence.scale_max
            if not any(_same(value, rating) for rating in evidence.ratings):
                return "wrong_rating"
            mention = _rated_mention(reading.task_mentions, text, match.start(), match.end())
            if mention is not None and not any(
                _same(value, evidence.rating_of.get(item_id)) for item_id in mention.item_ids
            ):
                return "misattributed_rating"
    return None


def _wrong_standing(reading: _Reading, evidence: _Evidence, text: str) -> str | None:
    """ "X is one of your most played" where X is not among the user's top (or, said of no
    title, where no evidence item is)."""
    for match in _TOP_CLAIM.finditer(text):
        mention = _rated_mention(reading.task_mentions, text, match.start(), match.end())
        claimed = mention.item_ids if mention is not None else evidence.allowed_ids
        if claimed.isdisjoint(evidence.top_ids):
            return "wrong_standing"
    return None


def _same(value: float, rating: float | None) -> bool:
    return rating is not None and abs(value - rating) < 1e-6


def _rated_mention(mentions: list[Mention], text: str, start: int, end: int) -> Mention | None:
    """The title the rating at `start:end` of `text` belongs to: the one a preposition ties it
    to ("4/5 for Heat"), else the nearest one before it in its sentence; None when neither."""
    after = next((m for m in mentions if m.start >= end), None)
    if after is not None and _RATED_TITLE_AFTER.fullmatch(text, end, after.start):
        return after
    before = next((m for m in reversed(mentions) if m.end <= start), None)
    if before is not None and not _SENTENCE_END.search(text, before.end, start):
        return before
    return None


def _recommended_as_seen(reading: _Reading, evidence: _Evidence) -> str | None:
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
    return None


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
    """Whether a German clause says the title was seen: a past participle after the title with
    a form of "haben" anywhere in the clause, or a past-tense verb of liking or seeing."""
    before_words, after_words = set(words_of(before)), set(words_of(after))
    if not _DE_PRETERITES.isdisjoint(before_words | after_words):
        return True
    has_participle = not _DE_PARTICIPLES.isdisjoint(after_words)
    return has_participle and not _DE_AUXILIARIES.isdisjoint(before_words | after_words)


def _number(text: str) -> float:
    return _NUMBER_WORDS.get(text.lower()) or float(text.replace(",", "."))
