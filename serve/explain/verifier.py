"""Accepting or rejecting what the LLM wrote: an explanation is shown only when it is well formed,
in the language asked for, and says nothing the evidence does not support.

Tiny models parrot, invent ("directed by Christopher Nolan"), misquote ratings, pin a rating on
the wrong title, talk of the recommended item as if the user had already seen it, leak few-shot
titles, echo their instructions and obey instructions hidden in catalog text. Each rule below
catches one of those lexically and deterministically; a rejected explanation is replaced by a
template, so a false rejection costs some fluency and a false acceptance costs trust.

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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from serve.explain import claims, grounding, ratings, surface
from serve.explain.explanation import ExplainTask
from serve.explain.languages import (
    EVERYDAY_WORDS,
    FUNCTION_WORDS,
    SENTENCE_STARTERS,
    STOPWORDS,
    looks_like,
)
from serve.explain.titles import (
    CatalogTitles,
    Mention,
    Token,
    normalize_word,
    tokenize,
    words_of,
)
from serve.explain.vocabulary import KNOWN_ITEM_WORDS, percent

# Bumped whenever the rules change what is accepted: it is part of the explanation cache's
# namespace, so answers verified by older rules (e.g. a precomputed file) are asked for again.
RULES_REVISION = 5

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

# Any item word ("the artist Heat", "la película Heat"), longest first so "movies" beats "movie".
_ITEM_WORD = "(?:" + "|".join(sorted(map(re.escape, KNOWN_ITEM_WORDS), key=len, reverse=True)) + ")"
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
_LINKERS = frozenset(
    words_of(
        "as like than since because after if given unlike what more same similar fans "
        "wie als weil da nach was mehr ähnlich comme que qu parce puisque plus como porque si más"
    )
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
    detail: str = ""  # what broke the rule ("ungrounded_word": the word); kept out of metrics


@dataclass(frozen=True)
class _Evidence:
    """What a task allows an explanation to say, prepared once per check."""

    genre_labels: tuple[str, ...]
    # Free-text user tags that may be quoted, each only as a whole phrase in lower case: none
    # that names a person, makes a claim or disparages.
    quotable_tags: tuple[str, ...]
    # Titles (as they may be written) and labels: catalog language, not the answer's.
    catalog_phrases: tuple[str, ...]
    # Words free to use anywhere: of titles, catalog genres and item words, never of tags.
    vocabulary: frozenset[str]
    # Genres (`claims.GENRES` names) of the recommended item, and those it shares with the
    # evidence: "another Horror film" needs the first, "both are comedies" the second.
    genres: frozenset[str]
    shared_genres: frozenset[str]
    forbidden_words: frozenset[str]
    # Ratings the text may quote: none unless the catalog's feedback is ratings on a scale.
    ratings: tuple[float, ...]
    # Each evidence item's own rating (None when unrated), to check whom a rating is pinned on.
    rating_of: dict[str, float | None]
    scale_max: float
    rated: bool  # whether the catalog's feedback is ratings at all
    top_ids: frozenset[str]  # evidence among the user's most played (counts only)
    # Each evidence item's collaborative share in percent, as the prompt rounds it ("38%").
    percent_of: dict[str, int]
    # The recommended item has no label at all: talk of genres or tags is made up.
    unlabelled: bool
    foreign_nouns: frozenset[str]  # nouns of other kinds of catalog ("film" of a game)
    label_words: frozenset[str]  # every word of the task's genres and tags
    recommended_id: str
    # Labels (folded) of the recommended item itself, and the evidence's labels it lacks.
    own_labels: frozenset[str]
    borrowed_labels: tuple[str, ...]
    allowed_ids: frozenset[str]
    titles: CatalogTitles

    @classmethod
    def of(cls, task: ExplainTask) -> _Evidence:
        facts = (task.recommended, *task.evidence)
        genres = list(dict.fromkeys(genre for fact in facts for genre in fact.genres))
        known = {genre.casefold() for genre in genres}
        tags = list(
            dict.fromkeys(
                label
                for label in (*(tag for fact in facts for tag in fact.tags), *task.shared_tags)
                if label.casefold() not in known
            )
        )
        labels = tuple(genres + tags)
        sources = [fact.title for fact in facts] + list(labels)
        unsafe = [text for text in sources if _unsafe_source(text)]
        safe_words = {word for text in sources if text not in unsafe for word in _words(text)}
        forbidden = {
            word
            for text in unsafe
            for word in _words(text)
            if len(word) >= MIN_UNSAFE_WORD_CHARS and word.isalpha() and word not in safe_words
        }
        titles = [v for fact in facts for v in CatalogTitles.display_variants(fact.title)]
        words = task.vocabulary
        item_words = {*words.all_nouns(), *words.nouns(task.language).model_dump().values()}
        rated = words.kind == "explicit"
        # A one- or two-word tag ("horror", "dark comedy") says a genre too.
        recommended = task.recommended
        own_labels = (*recommended.genres, *recommended.tags, *task.shared_tags)
        own = [*recommended.genres, *(t for t in recommended.tags if len(_words(t)) <= 2)]
        shared = [label for label in task.shared_tags if len(_words(label)) <= 2]
        return cls(
            genre_labels=tuple(genre for genre in genres if genre not in unsafe),
            quotable_tags=tuple(tag for tag in tags if tag not in unsafe and _quotable(tag)),
            catalog_phrases=tuple(titles) + labels,
            vocabulary=frozenset(
                word for text in (*titles, *genres, *item_words) for word in _words(text)
            ),
            genres=frozenset(genre for label in own for genre in _genres(label)),
            shared_genres=frozenset(genre for label in shared for genre in _genres(label)),
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
            percent_of={
                f.item_id: percent(f.also_share) for f in task.evidence if f.also_share is not None
            },
            unlabelled=not (recommended.genres or recommended.tags or task.shared_tags),
            own_labels=frozenset(label.casefold() for label in own_labels),
            # Not a label whose every word is one of the item's own ("dark" of "dark comedy").
            borrowed_labels=tuple(
                label
                for label in labels
                if label.casefold() not in {own.casefold() for own in own_labels}
                and not set(_words(label)) <= {w for own in own_labels for w in _words(own)}
            ),
            foreign_nouns=words.foreign_nouns(task.language) | words.foreign_nouns("en"),
            label_words=frozenset(word for label in labels for word in _words(label)),
            recommended_id=task.recommended.item_id,
            allowed_ids=frozenset(f.item_id for f in facts),
            titles=CatalogTitles(((f.item_id, f.title) for f in facts), expected=True),
        )


# Catalog text recurs across tasks: each title and label is judged and split once.
@lru_cache(maxsize=1 << 14)
def _unsafe_source(text: str) -> bool:
    return is_unsafe(text) or _instruction_like(text)


@lru_cache(maxsize=1 << 14)
def _genres(label: str) -> frozenset[str]:
    return frozenset(claims.genres_of(list(_words(label))))


@lru_cache(maxsize=1 << 14)
def _words(text: str) -> tuple[str, ...]:
    return tuple(words_of(text))


@dataclass(frozen=True)
class _Reading:
    """An explanation's words and the titles and labels found in it."""

    text: str
    tokens: list[Token]
    catalog_mentions: list[Mention]
    task_mentions: list[Mention]
    allowed_spans: list[tuple[int, int]]
    # Each word's norm without a French or Italian elision ("d'horreur": "horreur").
    bare_norms: list[str]

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
        closed: bool = False,
    ) -> None:
        """With `closed`, every word must also be grounded (`grounding`): an allow-list after
        the deny-lists, for what no rule names."""
        self._titles = titles
        self._few_shot = CatalogTitles((f"few-shot:{t}", t) for t in few_shot_titles)
        self._instruction_ngrams = frozenset(
            ngram for phrase in instruction_phrases for ngram in _ngrams(words_of(phrase))
        )
        self._max_chars = max_chars
        self._closed = closed

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
        evidence = _Evidence.of(task)
        reading = self._read(text, evidence)
        reason = (
            _foreign_script(reading)
            or _unsafe_catalog_text(reading, evidence)
            or self._instruction_echo(reading)
            or _link_or_markup(reading)
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
            or _invented_entity(reading, evidence, task.language)
            or _disparaging(reading)
            or _invented_user_fact(reading)
            or _wrong_genre(reading, evidence, task.language)
            or _wrong_label(reading, evidence)
            or _borrowed_label(reading, evidence)
            or _foreign_domain_word(reading, evidence)
            or _wrong_share(reading, evidence)
            or _wrong_rating(reading, evidence)
            or _recommended_as_seen(reading, evidence)
            or _evidence_as_recommended(reading, evidence)
        )
        if reason:
            return Verdict(False, reason, text)
        if self._closed:
            word = grounding.ungrounded_word(
                reading.tokens, reading.bare_norms, reading.allows, task
            )
            if word is not None:
                return Verdict(False, "ungrounded_word", text, detail=word)
        return Verdict(True, "ok", text, cited)

    def _read(self, text: str, evidence: _Evidence) -> _Reading:
        tokens = tokenize(text)
        catalog_mentions = self._titles.find_in_tokens(tokens)
        task_mentions = evidence.titles.find_in_tokens(tokens)
        allowed = [(m.start, m.end) for m in task_mentions]
        allowed += [(m.start, m.end) for m in catalog_mentions if m.item_ids & evidence.allowed_ids]
        allowed += _phrase_spans(tokens, evidence.genre_labels)
        allowed += _phrase_spans(tokens, evidence.quotable_tags, lower_case=True)
        bare = [_without_elision(text, token) for token in tokens]
        return _Reading(text, tokens, catalog_mentions, task_mentions, allowed, bare)

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


def _phrase_spans(
    tokens: list[Token], phrases: Iterable[str], lower_case: bool = False
) -> list[tuple[int, int]]:
    """Character spans of the text where one of `phrases` occurs, word for word; with
    `lower_case`, only where no word of it is capitalized but by a sentence start."""
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
            if tuple(norms[start:end]) != words:
                continue
            if lower_case and any(
                token.capitalized and not token.sentence_initial for token in tokens[start:end]
            ):
                continue
            spans.append((tokens[start].start, tokens[end - 1].end))
    return spans


_ELISION = re.compile(r"(?:[cdjlmnst]|qu)['\u2019](?=\w)", re.IGNORECASE)


def _without_elision(text: str, token: Token) -> str:
    elided = _ELISION.match(text, token.start, token.end)
    return normalize_word(text[elided.end() : token.end]) if elided else token.norm


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


def _invented_entity(reading: _Reading, evidence: _Evidence, language: str) -> str | None:
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
        if (_name_like(token) and not german_noun) or norm in _PEOPLE or norm in claims.CLAIM_WORDS:
            return "invented_entity"
    claimed = claims.CLAIM_PHRASES.finditer(reading.text)
    if any(not reading.allows(match.start(), match.end()) for match in claimed):
        return "invented_entity"
    return None


def _disparaging(reading: _Reading) -> str | None:
    """Disparagement, profanity or insults, from a tag ("boring") or the model's own: a
    recommendation says none of them."""
    titles = [(m.start, m.end) for m in (*reading.task_mentions, *reading.catalog_mentions)]
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        rude = norm in claims.DISPARAGING or norm.startswith(claims.DISPARAGING_PREFIXES)
        if rude and not any(s <= token.start < e for s, e in titles):
            return "disparaging"
    return None


def _invented_user_fact(reading: _Reading) -> str | None:
    """The reader's family, age or life ("your kids", "as a woman in your thirties"): no
    evidence says anything of them."""
    return "invented_user_fact" if claims.USER_FACTS.search(reading.text) else None


_PEOPLE = claims.FIRST_NAMES | claims.KNOWN_PEOPLE
# Words of these endings are verbs and adverbs, not names, wherever they stand ("Loving").
_NOT_NAME_ENDINGS = ("ing", "ly", "ed")


def _name_like(token: Token) -> bool:
    if (
        not token.capitalized
        or token.norm[:1].isdigit()
        or token.norm in EVERYDAY_WORDS
        or token.norm in claims.GENRE_OF_WORD  # a genre is checked as one ("Thrillers")
    ):
        return False
    if not token.sentence_initial:
        return True
    return token.norm not in SENTENCE_STARTERS and not token.norm.endswith(_NOT_NAME_ENDINGS)


def _wrong_genre(reading: _Reading, evidence: _Evidence, language: str) -> str | None:
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
    sentences: list[list[str]] = [[]]
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        if token.sentence_initial and sentences[-1]:
            sentences.append([])
        sentences[-1].append("" if any(s <= token.start < e for s, e in titles) else norm)
    stopwords = STOPWORDS[language]
    for words in sentences:
        said = claims.genres_of(
            ["" if word in stopwords else word for word in words], compounds=language == "de"
        )
        allowed = evidence.genres if claims.BOTH.isdisjoint(words) else evidence.shared_genres
        if not said <= allowed:
            return "wrong_genre"
    return None


def _bare_genre(text: str) -> bool:
    words = _words(text)
    return len(words) <= 2 and bool(claims.genres_of(words))


def _link_or_markup(reading: _Reading) -> str | None:
    return "link_or_markup" if surface.LINK_OR_MARKUP.search(reading.text) else None


def _foreign_script(reading: _Reading) -> str | None:
    """A word with a letter of another script than Latin, outside the titles and labels that
    are written so: a look-alike ("Nolan" with a Cyrillic "o") or another alphabet."""
    for token in reading.tokens:
        if surface.foreign_script(token.norm) and not reading.allows(token.start, token.end):
            return "foreign_script"
    return None


# A tag that speaks to someone ("mention the director") is an instruction, not a label.
_IMPERATIVE = re.compile(
    r"^\W*(?:say|tell|write|mention|call|describe|claim|state|recommend|add|include|use"
    r"|reply|answer|respond|print|output|always|never|do\s+not|don['\u2019]t|make\s+sure"
    r"|be\s+sure|remember|sag|schreib|erwähne|écris|mentionne|escribe|menciona)\b"
    r"|\byou\s+(?:must|should|have\s+to)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1 << 14)
def _quotable(tag: str) -> bool:
    """Whether a user's tag may be quoted: not when it names a person ("tom hanks"), makes a
    claim ("oscar winner"), disparages ("boring") or is a code ("toplist10", "afi 100")."""
    words = _words(tag)
    return not any(
        word in _PEOPLE
        or word in claims.CLAIM_WORDS
        or word in claims.DISPARAGING
        or any(char.isdigit() for char in word)
        for word in words
    ) and not claims.CLAIM_PHRASES.search(tag)


def _instruction_like(label: str) -> bool:
    return (
        _IMPERATIVE.search(label) is not None
        or surface.LINK_OR_MARKUP.search(label) is not None
        or surface.has_hidden_characters(label)
    )


def _wrong_rating(reading: _Reading, evidence: _Evidence) -> str | None:
    """A rating the text quotes that no evidence item has ("wrong_rating"), or that it pins on a
    title whose rating it is not: the recommended item, which the user has not rated, or another
    evidence item ("misattributed_rating"). Title words are not ratings ("12 Monkeys"). A
    rating tied to no title ("you rated it 5/5") need only be one the evidence has. Ratings are
    read on the catalog's scale; a catalog of counts has none to quote, and no count is ever
    evidence ("you played it 300 times": "quoted_count")."""
    text = _without_titles(reading)
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
    for quote in ratings.rating_quotes(text, evidence.scale_max):
        if quote.scale is not None and not _same(quote.scale, evidence.scale_max):
            return "wrong_rating"  # "4.5/5" on a 1-10 catalog: not the rating the user gave
        if quote.value > evidence.scale_max + 1e-6:
            return "wrong_rating"  # "10/5", even when a bad request sent a 10
        if not any(_same(quote.value, rating) for rating in evidence.ratings):
            return "wrong_rating"
        mention = _rated_mention(reading.task_mentions, text, quote.start, quote.end)
        if mention is not None and not any(
            _same(quote.value, evidence.rating_of.get(item_id)) for item_id in mention.item_ids
        ):
            return "misattributed_rating"
    return None


def _without_titles(reading: _Reading) -> str:
    """The text with every title blanked out, positions kept: "12 Monkeys" is no number."""
    masked = list(reading.text)
    for mention in (*reading.catalog_mentions, *reading.task_mentions):
        masked[mention.start : mention.end] = " " * (mention.end - mention.start)
    return "".join(masked)


def _stray_number(token: Token, evidence: _Evidence) -> bool:
    """A number that is no word of the task's labels ("80s" of a tag "80s soul")."""
    return any(char.isdigit() for char in token.norm) and token.norm not in evidence.label_words


def _wrong_share(reading: _Reading, evidence: _Evidence) -> str | None:
    """A percentage no evidence item's share is, as the prompt rounds it ("wrong_share"), or one
    said in a sentence whose evidence titles have other shares, or that does not name the
    recommended item ("misattributed_share"): "38% of the people who play Garry's Mod also play
    Unturned" is only true of Garry's Mod and the recommended Unturned (an answer cut off after
    "also play", or one that pins the share on two evidence items, is not)."""
    text = _without_titles(reading)
    for quote in ratings.percent_quotes(text):
        if not any(_same(quote.value, share) for share in evidence.percent_of.values()):
            return "wrong_share"
        ends = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
        start = max(end for end in ends if end <= quote.start)
        stop = min(end for end in ends if end >= quote.end)
        in_sentence = {
            item_id
            for mention in reading.task_mentions
            if start <= mention.start < stop
            for item_id in mention.item_ids
        }
        named = {i for i in in_sentence if i in evidence.percent_of or i in evidence.rating_of}
        if named and not any(_same(quote.value, evidence.percent_of.get(i)) for i in named):
            return "misattributed_share"
        if evidence.recommended_id not in in_sentence:
            return "misattributed_share"
    return None


def _wrong_label(reading: _Reading, evidence: _Evidence) -> str | None:
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


def _borrowed_label(reading: _Reading, evidence: _Evidence) -> str | None:
    """A label of an evidence item that the recommended item lacks, pinned on the recommended
    item: "you may enjoy the rock instrumental of <recommended>" when only the evidence is
    instrumental (Qwen wrote it). Genres are `_wrong_genre`'s; this sees every tag."""
    spans = _phrase_spans(reading.tokens, evidence.borrowed_labels)
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


def _foreign_domain_word(reading: _Reading, evidence: _Evidence) -> str | None:
    """A noun of another kind of catalog, outside titles and labels: "film" or "story" said of
    a game or an artist (`Vocabulary.foreign_nouns`)."""
    for token, norm in zip(reading.tokens, reading.bare_norms, strict=True):
        if norm in evidence.foreign_nouns and not reading.allows(token.start, token.end):
            return "foreign_domain_word"
    return None


def _evidence_as_recommended(reading: _Reading, evidence: _Evidence) -> str | None:
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
    """Whether a German clause says the title was seen: a past participle after the title with
    a form of "haben" anywhere in the clause, or a past-tense verb of liking or seeing."""
    before_words, after_words = set(words_of(before)), set(words_of(after))
    if not _DE_PRETERITES.isdisjoint(before_words | after_words):
        return True
    has_participle = not _DE_PARTICIPLES.isdisjoint(after_words)
    return has_participle and not _DE_AUXILIARIES.isdisjoint(before_words | after_words)
