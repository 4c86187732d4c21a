"""An independent reader of explanation audits: flags what a careful human would object to.

recsplain's own verifier decides what ships, so it cannot also be the judge of what shipped.
This reader shares no code, lexicon or rule with `serve/`: it re-reads each audited sentence
against the evidence it was written from and flags eight kinds of fault (see `FLAGS`). It is
deliberately simple and regex-based so that its mistakes are easy to see and differ from the
verifier's; it is a measuring stick, not a gate.

    python -m benchmarks.reader AUDIT.jsonl [--json OUT]

Each input line is one explanation: catalog, item_word, language, feedback, recommended
{item_id, title, labels}, evidence [{item_id, title, labels, rating, also_share}], text, source
("llm" or "template") and reason.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "none_word",
    "label_not_on_item",
    "foreign_domain_noun",
    "recommended_as_seen",
    "evidence_as_recommended",
    "invented_title",
    "wrong_percent",
    "no_recommended_title",
)

REC = "⟦R⟧"
EV = r"⟦E[a-z]+⟧"
ANY_TITLE = r"⟦[^⟧]+⟧"
# A short gap between a verb and a title: no other title, no clause break (digits like 4,5 pass).
GAP = r"(?:\d[.,]\d|(?!⟦)[^,;.!?]){0,24}?"
# A longer gap inside one clause: no other title, no sentence end.
CLAUSE = r"(?:\d[.,]\d|(?!⟦)[^;.!?]){0,48}?"
NUM = r"\d+(?:[.,]\d+)?"

EXAMPLES_PER_FLAG = 5


@dataclass
class Flag:
    """One objection to one sentence; `reason` says what was read, for a human to check."""

    flag: str
    reason: str


@dataclass
class Reading:
    """Everything the checks need about one line, computed once."""

    record: dict[str, Any]
    text: str
    masked: str
    language: str
    domain: str | None
    rec_labels: list[str]
    evidence_labels: list[str]
    titles_found: dict[str, list[str]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Titles: variants and masking
# --------------------------------------------------------------------------------------------

_ARTICLES = (
    "The|A|An|Les|La|Le|L'|Il|Lo|I|Gli|Das|Der|Die|Ein|Eine|El|Los|Las|Un|Une|Uno|Una|Det|Den"
)
_YEAR_SUFFIX = re.compile(r"^(.*?\S)\s*\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")
_TRAILING_PAREN = re.compile(r"^(.*\S)\s*\(([^()]*)\)$")
_MOVED_ARTICLE = re.compile(rf"^(.*\S),\s*({_ARTICLES})$")


def normalize(text: str) -> str:
    """NFKC and straight apostrophes, so titles and texts compare as a reader sees them."""
    text = unicodedata.normalize("NFKC", text or "")
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")


def title_variants(title: str) -> set[str]:
    """Ways a text may name a title: with/without year, alt names, 'Matrix, The' -> 'The Matrix'."""
    title = re.sub(r"\s+", " ", normalize(title)).strip()
    if not title:
        return set()
    year = None
    base = title
    m = _YEAR_SUFFIX.match(title)
    if m:
        base, year = m.group(1), m.group(2)
    bases = {base}
    b = base
    while m2 := _TRAILING_PAREN.match(b):
        b = m2.group(1)
        bases.add(b)
        alt = re.sub(r"^(?:a\.k\.a\.|aka)\s*", "", m2.group(2).strip(), flags=re.I)
        if len(alt) >= 4:
            bases.add(alt)
    for b in list(bases):
        m3 = _MOVED_ARTICLE.match(b)
        if m3:
            art = m3.group(2)
            bases.add(f"{art}{m3.group(1)}" if art.endswith("'") else f"{art} {m3.group(1)}")
    out = {title}
    for b in bases:
        if len(b) >= 2:
            out.add(b)
        if year:
            out.add(f"{b} ({year})")
    return out


def _letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def mask_titles(text: str, rec_title: str, evidence_titles: list[str]) -> tuple[str, dict]:
    """Replace every named title by a token (⟦R⟧, ⟦Ea⟧...), longest variant first.

    Masking keeps title words out of every later check (a 'Toy Story' is no foreign 'story')
    and lets the role checks read sentence shapes like 'you rated ⟦R⟧'.
    """
    owners: list[tuple[str, str, int]] = []
    for v in title_variants(rec_title):
        owners.append((v, REC, 0))
    for i, t in enumerate(evidence_titles):
        for v in title_variants(t):
            owners.append((v, f"⟦E{_letters(i)}⟧", 1))
    owners.sort(key=lambda o: (-len(o[0]), o[2]))
    found: dict[str, list[str]] = {}
    for variant, token, _ in owners:
        # Short one-word titles ('Up', 'Heat') only match as written, not as ordinary words.
        flags = re.I if (" " in variant or len(variant) >= 5) else 0
        pattern = re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", flags)
        if pattern.search(text):
            found.setdefault(token, []).append(variant)
            text = pattern.sub(token, text)
    return text, found


# --------------------------------------------------------------------------------------------
# 1. none_word
# --------------------------------------------------------------------------------------------

_LABEL_NOUN_DE = r"(?:genres?|label|labels|kategorien?|stil|stils|stile|schlagw\w*|tags)"
_LABEL_NOUN_FR = r"(?:genres?|étiquettes?|catégories?|labels?|styles?|tags?)"
_LABEL_NOUN_ES = r"(?:géneros?|etiquetas?|categorías?|estilos?|tags?)"
_QUOTE_OPEN = "[\"'„“«\u2039]"
_QUOTE_CLOSE = "[\"'“”»\u203a]"

_NONE_PATTERNS = [
    (re.compile(r"\bnone\b", re.I), "English 'none'"),
    (re.compile(r"\bno genres? listed\b", re.I), "MovieLens '(no genres listed)' placeholder"),
    (re.compile(rf"\b{_LABEL_NOUN_DE}\s*[:=]?\s*{_QUOTE_OPEN}?\s*keine?[rsnm]?\b", re.I), "de"),
    (re.compile(rf"\bkeine?[rsnm]?\s*{_QUOTE_CLOSE}?\s*-?\s*{_LABEL_NOUN_DE}\b", re.I), "de"),
    (re.compile(r"\bkeine?[rsnm]?-\w+", re.I), "de compound with 'keine'"),
    (
        re.compile(
            r"\b(?:ein|eine|einen|einem|einer|eines|weitere[rsnm]?)\s+keine?[rsnm]?\b", re.I
        ),
        "de 'ein keine'",
    ),
    (
        re.compile(rf"{_QUOTE_OPEN}\s*(?:keine?|aucune?|ningun[oa]|ningún)\s*{_QUOTE_CLOSE}", re.I),
        "quoted none-word",
    ),
    (re.compile(rf"\baucune?s?\s+{_LABEL_NOUN_FR}\b", re.I), "fr"),
    (re.compile(rf"\b{_LABEL_NOUN_FR}\s*[:=]?\s*{_QUOTE_OPEN}?\s*aucune?\b", re.I), "fr"),
    (re.compile(r"\b(?:un|une|des|le|la|du|de)\s+aucune?\b", re.I), "fr 'un aucun'"),
    (re.compile(r"\bningun[oa]s?\b(?!\s+de\b)", re.I), "es 'ninguno'"),
    (re.compile(rf"\bningún\s+{_LABEL_NOUN_ES}\b", re.I), "es"),
    (re.compile(rf"\b{_LABEL_NOUN_ES}\s*[:=]?\s*{_QUOTE_OPEN}?\s*ningun[oa]\b", re.I), "es"),
]


def check_none_word(r: Reading) -> list[Flag]:
    """'none' read as a label: a placeholder for missing labels that leaked into prose."""
    hits = []
    for pattern, why in _NONE_PATTERNS:
        m = pattern.search(r.masked)
        if m:
            hits.append(f"{m.group(0)!r} ({why})")
    # German 'Keine' capitalized mid-sentence reads as a noun: a label, not negation.
    for m in re.finditer(r"\bKeine?[rsnm]?\b", r.masked):
        before = r.masked[: m.start()].rstrip()
        if before and before[-1] not in '.!?:"„“«»':
            hits.append(f"{m.group(0)!r} (capitalized mid-sentence)")
            break
    return [Flag("none_word", "; ".join(dict.fromkeys(hits)))] if hits else []


# --------------------------------------------------------------------------------------------
# 2. label_not_on_item: an own lexicon of genre and style words
# --------------------------------------------------------------------------------------------

MOVIE, MUSIC, GAME, BOOK = "movie", "music", "game", "book"
ALL = frozenset({MOVIE, MUSIC, GAME, BOOK})
DOMAIN_OF_WORD = {
    "movie": MOVIE,
    "film": MOVIE,
    "artist": MUSIC,
    "band": MUSIC,
    "song": MUSIC,
    "track": MUSIC,
    "album": MUSIC,
    "game": GAME,
    "book": BOOK,
}


@dataclass(frozen=True)
class Concept:
    """A genre or style: the label keys that license it and the words that claim it.

    `words` maps a language ('*' = any) to regex alternatives over normalized text (lowercase,
    hyphens as spaces). `domains` limits words that are ordinary vocabulary elsewhere
    ('house', 'country', 'musical' about an artist).
    """

    name: str
    keys: tuple[str, ...]
    words: dict[str, str]
    domains: frozenset[str] = ALL


def _c(name, keys, domains=ALL, **words) -> Concept:
    return Concept(
        name, tuple(keys), {k.replace("any", "*"): v for k, v in words.items()}, frozenset(domains)
    )


_NOT_MUSIC = {MOVIE, GAME, BOOK}
LEXICON: tuple[Concept, ...] = (
    # Film genres (MovieLens).
    _c("action", ["action"], any=r"action", es=r"acción"),
    _c(
        "adventure",
        ["adventure"],
        any=r"adventures?",
        de=r"abenteuer\w*",
        fr=r"aventures?",
        es=r"aventuras?",
    ),
    _c(
        "animation",
        ["animation", "animated", "anime", "cartoon"],
        any=r"animation|animated|cartoons?|anime",
        de=r"animations?\w*|animiert\w*|zeichentrick\w*",
        fr=r"animés?|dessins? animés?",
        es=r"animaci[oó]n|animad[oa]s?",
    ),
    _c(
        "comedy",
        ["comedy", "comedies", "comedic"],
        any=r"comed(?:y|ies)|comedic",
        de=r"komödie\w*",
        fr=r"comédies?",
        es=r"comedias?",
    ),
    _c(
        "crime",
        ["crime", "criminal", "heist", "gangster", "mafia"],
        any=r"crime",
        de=r"krimi\w*|kriminal\w*",
        fr=r"policiers?|policières?|criminels?|polars?",
        es=r"polic[ií]ac[oa]s?|policial(?:es)?|criminal(?:es)?|crimen(?:es)?",
    ),
    _c(
        "documentary",
        ["documentary", "documentaries", "docu"],
        any=r"documentar(?:y|ies)",
        de=r"doku\w*|dokumentar\w*",
        fr=r"documentaires?",
        es=r"documental(?:es)?",
    ),
    _c("drama", ["drama", "dramas"], any=r"dramas?", de=r"dramen|\w*drama", fr=r"drames?"),
    _c("fantasy", ["fantasy"], any=r"fantasy", es=r"fantas[ií]a"),
    _c(
        "horror",
        ["horror", "scary", "slasher", "zombie"],
        any=r"horror",
        de=r"grusel\w*",
        fr=r"horreur|épouvante",
        es=r"terror",
    ),
    _c(
        "musical", ["musical", "musicals"], _NOT_MUSIC, any=r"musicals?", fr=r"comédies? musicales?"
    ),
    _c(
        "mystery",
        ["mystery", "mysteries", "whodunit"],
        any=r"myster(?:y|ies)",
        fr=r"mystères?",
        es=r"misterios?",
    ),
    _c(
        "romance",
        ["romance", "romantic", "love story"],
        any=r"romance|romantic",
        de=r"romantisch\w*|romanze\w*|liebesfilm\w*|liebeskomödie\w*",
        fr=r"romantiques?",
        es=r"rom[aá]ntic[oa]s?",
    ),
    _c(
        "sci-fi",
        ["sci fi", "science fiction", "scifi"],
        any=r"sci fi|scifi|science fiction|ciencia ficci[oó]n",
    ),
    _c("thriller", ["thriller", "thrillers", "suspense"], any=r"thrillers?"),
    _c(
        "war",
        ["war", "military"],
        _NOT_MUSIC,
        en=r"war",
        de=r"krieg\w*|\w+krieg",
        fr=r"guerres?",
        es=r"b[ée]lic[oa]s?|guerras?",
    ),
    _c("western", ["western", "westerns"], any=r"westerns?|wéstern"),
    _c("film-noir", ["film noir", "noir"], any=r"film noir|cine negro", en=r"noir"),
    _c("imax", ["imax"], any=r"imax"),
    _c(
        "children",
        ["children", "kids", "family", "children's"],
        any=r"children'?s?|kids|family (?:film|movie)s?",
        de=r"kinderfilm\w*|familienfilm\w*|für kinder",
        fr=r"pour enfants|films? familia\w*",
        es=r"infantil(?:es)?|para niños",
    ),
    # Music genres (synthetic Last.fm); unambiguous ones are checked everywhere.
    _c("rock", ["rock"], any=r"rock", de=r"\w*rock"),
    _c("metal", ["metal"], any=r"(?:heavy )?metal"),
    _c("punk", ["punk"], any=r"punk", de=r"punk\w*|\w*punk"),
    _c("jazz", ["jazz"], any=r"jazz\w*"),
    _c("hip hop", ["hip hop", "hiphop"], any=r"hip hop|hiphop"),
    _c("rap", ["rap", "hip hop"], any=r"rap|rappers?"),
    _c(
        "electronic",
        ["electronic", "electronica", "edm", "techno", "house", "trance"],
        any=r"electronic(?:a)?",
        de=r"elektronisch\w*|elektro\w*",
        fr=r"électroniques?|électro",
        es=r"electr[oó]nic[oa]s?",
    ),
    _c("techno", ["techno"], any=r"techno"),
    _c("reggae", ["reggae"], any=r"reggae"),
    _c("blues", ["blues"], any=r"blues"),
    _c("r&b", ["r&b", "rnb", "rhythm and blues"], any=r"r&b|rnb|rhythm and blues"),
    _c("drum and bass", ["drum and bass", "dnb"], any=r"drum (?:and|&|n) bass|dnb"),
    _c(
        "singer-songwriter",
        ["singer songwriter"],
        any=r"singer songwriters?",
        de=r"liedermacher\w*",
        fr=r"auteurs? compositeurs? interprètes?",
        es=r"cantautor(?:a|es)?",
    ),
    _c("pop", ["pop"], {MUSIC}, any=r"pop", de=r"pop\w*|\w+pop"),
    _c("folk", ["folk"], {MUSIC}, any=r"folk"),
    _c("indie", ["indie"], {MUSIC, GAME, MOVIE}, any=r"indie"),
    _c("country", ["country"], {MUSIC}, any=r"country"),
    _c("soul", ["soul"], {MUSIC}, any=r"soul"),
    _c("funk", ["funk"], {MUSIC}, any=r"funk|funky"),
    _c(
        "classical",
        ["classical", "orchestral"],
        {MUSIC},
        any=r"classical",
        de=r"klassik|klassisch\w*",
        fr=r"classique",
        es=r"cl[aá]sic[oa]",
    ),
    _c("house", ["house"], {MUSIC}, any=r"house"),
    _c("trance", ["trance"], {MUSIC}, any=r"trance"),
    _c("ambient", ["ambient"], {MUSIC}, any=r"ambient"),
    _c("latin", ["latin", "latino"], {MUSIC}, any=r"latin|latino", es=r"latin[oa]s?"),
    _c(
        "world",
        ["world"],
        {MUSIC},
        any=r"world music",
        fr=r"musiques? du monde",
        es=r"músicas? del mundo",
        de=r"weltmusik",
    ),
    # Music style tags: claims of sound that only a tag can support.
    _c("instrumental", ["instrumental"], {MUSIC}, any=r"instrumental(?:e|es)?"),
    _c(
        "experimental",
        ["experimental"],
        {MUSIC},
        any=r"experimental",
        de=r"experimentell\w*",
        fr=r"expérimenta\w*",
    ),
    _c("lo-fi", ["lo fi", "lofi"], {MUSIC}, any=r"lo fi|lofi"),
    _c(
        "psychedelic",
        ["psychedelic"],
        {MUSIC},
        any=r"psychedelic",
        de=r"psychedelisch\w*",
        fr=r"psychédéliques?",
        es=r"psicod[ée]lic[oa]s?",
    ),
    _c(
        "acoustic",
        ["acoustic"],
        {MUSIC},
        any=r"acoustic",
        de=r"akustisch\w*",
        fr=r"acoustiques?",
        es=r"ac[uú]stic[oa]s?",
    ),
    _c(
        "orchestral",
        ["orchestral", "classical"],
        {MUSIC},
        any=r"orchestral",
        es=r"orquestal(?:es)?",
    ),
    _c(
        "atmospheric",
        ["atmospheric"],
        {MUSIC},
        any=r"atmospheric",
        de=r"atmosphärisch\w*",
        fr=r"atmosphériques?",
        es=r"atmosf[ée]ric[oa]s?",
    ),
    _c(
        "melancholic",
        ["melancholic", "melancholy"],
        {MUSIC},
        any=r"melanchol(?:ic|y)",
        de=r"melancholisch\w*",
        fr=r"mélancoliques?",
        es=r"melanc[oó]lic[oa]s?",
    ),
    _c("dreamy", ["dreamy", "dream pop"], {MUSIC}, any=r"dreamy", de=r"verträumt\w*"),
    _c(
        "danceable",
        ["danceable", "dance"],
        {MUSIC},
        any=r"danceable",
        de=r"tanzbar\w*",
        fr=r"dansants?",
        es=r"bailables?",
    ),
    _c("catchy", ["catchy"], {MUSIC}, any=r"catchy", de=r"eingängig\w*", es=r"pegadiz[oa]s?"),
    _c(
        "energetic",
        ["energetic"],
        {MUSIC},
        any=r"energetic",
        de=r"energiegeladen\w*",
        fr=r"énergiques?",
        es=r"en[ée]rgic[oa]s?",
    ),
    _c("political", ["political"], {MUSIC}, any=r"political", de=r"politisch\w*"),
    _c("underground", ["underground"], {MUSIC}, any=r"underground"),
    _c("cinematic", ["cinematic"], {MUSIC}, any=r"cinematic", fr=r"cinématographiques?"),
    _c(
        "female vocals",
        ["female vocals", "female"],
        {MUSIC},
        any=r"female (?:vocals?|voice|singer)",
        de=r"weiblichen? (?:stimmen?|gesang)\w*",
        fr=r"voix féminines?",
        es=r"voz(?:es)? femenin[ao]s?",
    ),
    _c(
        "male vocals",
        ["male vocals", "male"],
        {MUSIC},
        any=r"male (?:vocals?|voice|singer)",
        de=r"männlichen? (?:stimmen?|gesang)\w*",
        fr=r"voix masculines?",
        es=r"voz(?:es)? masculin[ao]s?",
    ),
    _c("decade", [], {MUSIC}, any=r"(?:19)?[5-9]0'?s|(?:20)?[01]0'?s"),
    # Game genres.
    _c("shooter", ["shooter", "fps"], any=r"shooters?|fps"),
    _c(
        "rpg",
        ["rpg", "role playing", "jrpg"],
        any=r"j?rpgs?|role playing(?: games?)?",
        de=r"rollenspiel\w*",
        fr=r"jeux? de rôle",
        es=r"juegos? de rol",
    ),
    _c("platformer", ["platformer", "platform"], any=r"platformers?|jump ?n ?run"),
    _c("roguelike", ["roguelike", "roguelite"], any=r"rogue ?(?:like|lite)s?"),
    _c("mmo", ["mmo", "mmorpg", "massively multiplayer"], any=r"mmo\w*"),
    _c(
        "strategy",
        ["strategy", "rts", "turn based"],
        {GAME},
        any=r"strategy|rts",
        de=r"strategie\w*",
        fr=r"stratégie",
        es=r"estrategia",
    ),
    _c("puzzle", ["puzzle"], {GAME}, any=r"puzzles?", de=r"rätsel\w*", es=r"rompecabezas"),
    _c(
        "simulation",
        ["simulation", "simulator", "sim"],
        {GAME},
        any=r"simulations?|simulators?",
        es=r"simulaci[oó]n",
    ),
    _c("survival", ["survival"], {GAME}, any=r"survival", fr=r"survie", es=r"supervivencia"),
    _c("sandbox", ["sandbox", "open world"], {GAME}, any=r"sandbox|open world"),
    _c("racing", ["racing"], {GAME}, any=r"racing", de=r"rennspiel\w*", es=r"carreras"),
    _c("sports", ["sports", "sport"], {GAME}, any=r"sports?"),
    _c("fighting", ["fighting"], {GAME}, any=r"fighting(?: games?)?|beat 'em up"),
    _c("stealth", ["stealth"], {GAME}, any=r"stealth"),
    # Book genres.
    _c(
        "biography",
        ["biography", "biographies", "memoir"],
        any=r"biograph(?:y|ies)",
        de=r"biografie\w*|biographie\w*",
        fr=r"biographies?",
        es=r"biograf[ií]as?",
    ),
    _c("memoir", ["memoir", "memoirs", "autobiography"], any=r"memoirs?"),
    _c(
        "poetry",
        ["poetry", "poems"],
        any=r"poetry",
        de=r"lyrik|gedichte?",
        fr=r"poésie",
        es=r"poes[ií]a",
    ),
    _c("self-help", ["self help"], any=r"self help", de=r"ratgeber\w*"),
    _c("non-fiction", ["non fiction", "nonfiction"], any=r"non ?fiction", de=r"sachbuch\w*"),
    _c("young adult", ["young adult", "ya"], {BOOK}, any=r"young adult"),
    _c("fiction", ["fiction"], {BOOK}, any=r"(?:literary |historical )?fiction"),
)

# English words that are ordinary words of another language ('war' is German 'was').
_ENGLISH_ONLY = {"war"}
# Surfaces allowed to sit inside German compounds ('Krimidrama', 'Actionthriller').
_NO_COMPOUND = {"pop", "rap", "indie", "soul", "house", "war", "latin", "mmo", "rpg", "fps"}


def label_text(s: str) -> str:
    """Lowercase, hyphens/underscores/slashes as spaces: 'Sci-Fi' and 'sci fi' read alike."""
    s = normalize(s).lower()
    s = re.sub(r"[-_/]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _top_level_alternatives(rx: str) -> list[str]:
    """Split 'a|b(?:c|d)' into ['a', 'b(?:c|d)']: each word is compiled on its own."""
    parts, depth, cur = [], 0, ""
    for ch in rx:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def _concept_patterns(language: str, domain: str | None) -> list[tuple[Concept, re.Pattern]]:
    out = []
    for concept in LEXICON:
        if domain is None:
            if concept.domains != ALL:
                continue
        elif domain not in concept.domains:
            continue
        for lang, alternatives in concept.words.items():
            if lang not in ("*", language):
                continue
            for alt in _top_level_alternatives(alternatives):
                if alt in _ENGLISH_ONLY and language != "en":
                    continue
                compound = language == "de" and len(alt) >= 4 and "\\" not in alt
                if compound and alt not in _NO_COMPOUND:
                    rx = rf"(?<!\w)(?:{alt})\w*|\w*(?:{alt})(?!\w)"
                else:
                    rx = rf"(?<!\w)(?:{alt})(?!\w)"
                out.append((len(alt), concept, re.compile(rx, re.I)))
    # Multiword and longer words first so 'science fiction' is read before 'fiction'.
    out.sort(key=lambda t: -t[0])
    return [(c, rx) for _, c, rx in out]


_PATTERN_CACHE: dict[tuple[str, str | None], list[tuple[Concept, re.Pattern]]] = {}


def _licensed(concept: Concept, word: str, labels: list[str]) -> bool:
    """Whether any label supports the concept (key or the word itself, allowing containment)."""
    word = label_text(word)
    for label in labels:
        lab = label_text(label)
        padded, flat = f" {lab} ", lab.replace(" ", "")
        for key in (*concept.keys, word):
            if not key:
                continue
            if f" {key} " in padded or key.replace(" ", "") == flat:
                return True
            # Compounds: 'krimidrama' in text, 'Crime|Drama' on item are matched by concept;
            # 'hip-hop' vs 'hiphop' by flat forms.
            if len(key) >= 4 and key.replace(" ", "") in flat:
                return True
    return False


def lexicon_hits(masked: str, language: str, domain: str | None) -> list[tuple[Concept, str]]:
    """Genre/style words in the text (titles already masked), each once per concept and word."""
    key = (language, domain)
    if key not in _PATTERN_CACHE:
        _PATTERN_CACHE[key] = _concept_patterns(language, domain)
    text = label_text(masked)
    hits: list[tuple[Concept, str]] = []
    seen = set()
    for concept, pattern in _PATTERN_CACHE[key]:
        for m in pattern.finditer(text):
            word = m.group(0)
            if "⟦" in word or "⟧" in word:
                continue
            if (concept.name, word) not in seen:
                seen.add((concept.name, word))
                hits.append((concept, word))
        # Blank multiword matches only: 'science fiction' is no 'fiction', but a compound
        # such as 'krimidrama' must still be read as both crime and drama.
        text = pattern.sub(
            lambda m: " " * len(m.group(0)) if " " in m.group(0) else m.group(0), text
        )
    return hits


def check_labels(r: Reading) -> list[Flag]:
    """A genre or style word that the recommended item's labels do not carry."""
    bad = []
    for concept, word in lexicon_hits(r.masked, r.language, r.domain):
        if _licensed(concept, word, r.rec_labels):
            continue
        note = " (only on evidence)" if _licensed(concept, word, r.evidence_labels) else ""
        bad.append(f"{word!r}={concept.name}{note}")
    if not bad:
        return []
    labels = ", ".join(r.rec_labels[:8]) or "no labels"
    return [Flag("label_not_on_item", f"{'; '.join(bad)} not on recommended [{labels}]")]


# --------------------------------------------------------------------------------------------
# 3. foreign_domain_noun
# --------------------------------------------------------------------------------------------

# (pattern, language or None for any). German nouns are matched capitalized, as written.
_NounList = list[tuple[re.Pattern, str | None]]
_FILM_NOUNS: _NounList = [
    (re.compile(r"\b(?:films?|movies?|cinemas?|cinéma|películas?|filmes?)\b", re.I), None),
    (re.compile(r"\bcine\b", re.I), "es"),
    (re.compile(r"\b(?:Film|Filme|Films|Filmen|Kino|[A-ZÄÖÜ]\w+film(?:e|s|en)?)\b"), "de"),
]
_STORY_NOUNS: _NounList = [
    (re.compile(r"\bstor(?:y|ies)\b", re.I), None),
    (re.compile(r"\bhistoires?\b", re.I), "fr"),
    (re.compile(r"\bhistorias?\b", re.I), "es"),
    (re.compile(r"\bGeschichten?\b"), "de"),
]
_BOOK_NOUNS: _NounList = [
    (re.compile(r"\b(?:novels?|books?|novelas?|libros?|livres?)\b", re.I), None),
    (re.compile(r"\bromans?\b", re.I), "fr"),
    (re.compile(r"\b(?:Roman|Romane|Romanen|Buch|Buches|Bücher|Büchern)\b"), "de"),
]
_MUSIC_NOUNS: _NounList = [
    (
        re.compile(
            r"\b(?:albums?|songs?|tracks?|bands?|singers?|musicians?|chansons?|morceaux?"
            r"|álbum(?:es)?|canci(?:ón|ones)|bandas?(?!\s+sonora)|cantantes?"
            r"|chanteu(?:r|rs|se|ses))\b",
            re.I,
        ),
        None,
    ),
    (re.compile(r"\b(?:Album|Alben|Lied|Lieder|Sänger\w*)\b"), "de"),
]
_GAME_NOUNS: _NounList = [
    (re.compile(r"\b(?:games?|video ?games?|gameplay|videojuegos?|juegos?)\b", re.I), None),
    (re.compile(r"\bjeux?(?: vidéo)?\b(?!\s+(?:d'|de\s+l'|des\s+)acteur)", re.I), "fr"),
    (re.compile(r"\b(?:Spiel|Spiele|Spiels|Spielen|Videospiel\w*|Computerspiel\w*)\b"), "de"),
]
_FOREIGN_NOUNS: dict[str, _NounList] = {
    MOVIE: _MUSIC_NOUNS + _GAME_NOUNS + _BOOK_NOUNS,
    MUSIC: _FILM_NOUNS + _STORY_NOUNS + _BOOK_NOUNS + _GAME_NOUNS,
    GAME: _FILM_NOUNS + _STORY_NOUNS + _BOOK_NOUNS + _MUSIC_NOUNS,
    BOOK: _FILM_NOUNS + _MUSIC_NOUNS + _GAME_NOUNS,
}
# Words that are the catalog's own kind even though they sit in a foreign list.
_OWN_WORDS = {BOOK: {"band"}}


def check_foreign_nouns(r: Reading) -> list[Flag]:
    """A noun for another kind of item: a movie explanation reused for an artist, say."""
    if r.domain is None:
        return []
    words = []
    own = _OWN_WORDS.get(r.domain, set())
    for pattern, lang in _FOREIGN_NOUNS[r.domain]:
        if lang not in (None, r.language):
            continue
        for m in pattern.finditer(r.masked):
            w = m.group(0)
            if w.lower() not in own and w not in words:
                words.append(w)
    if not words:
        return []
    word = r.record.get("item_word") or r.domain
    return [Flag("foreign_domain_noun", f"{', '.join(map(repr, words))} in a {word} catalog")]


# --------------------------------------------------------------------------------------------
# 4./5. Roles: recommended told as seen, evidence told as the recommendation
# --------------------------------------------------------------------------------------------

_SEEN_EN = (
    r"(?:watched|seen|saw|rated|played|read|heard|listened to|liked|loved|enjoyed|adored"
    r"|finished|reviewed|gave|scored|streamed)"
)
_SEEN_DE = (
    r"(?:bewertet|gesehen|angesehen|angeschaut|geschaut|gespielt|gehört|gelesen|geliebt"
    r"|gemocht|genossen|gegeben|vergeben)"
)
_SEEN_FR = (
    r"(?:noté|notée|vu|vue|regardé|aimé|aimée|adoré|apprécié|joué|écouté|lu|évalué|donné"
    r"|attribué|mis)"
)
_SEEN_ES = r"(?:visto|valorado|calificado|puntuado|jugado|escuchado|leído|disfrutado|dado|puesto)"
_SEEN_ES_PAST = (
    r"(?:viste|valoraste|calificaste|puntuaste|jugaste|escuchaste|leíste|disfrutaste|diste"
    r"|vio|valoró|calificó|puntuó|jugó|escuchó|leyó|disfrutó|dio)"
)
_HISTORY_EN = (
    r"(?:history|library|list|profile|favou?rites|ratings|plays|past|collection"
    r"|watch\w*|listening|reading|play\w*)"
)

_AS_SEEN = [
    rf"\byou(?:'ve| have)?\s+(?:already\s+|previously\s+|also\s+|recently\s+|once\s+)?{_SEEN_EN}"
    rf"\s+{GAP}{REC}",
    rf"{REC}\s*,?\s*(?:which|that)\s+you(?:'ve| have)?\s+(?:already\s+|also\s+)?{_SEEN_EN}\b",
    rf"{REC}{CLAUSE}\b(?:got|earned|scored|received|gets)\b{CLAUSE}\b(?:from|with|by) you\b",
    rf"{REC}(?:\s*(?:,|and)\s*{ANY_TITLE})*\s*(?:,\s*)?(?:is|are|was|were)\s+(?:both\s+|all\s+"
    rf"|already\s+)*(?:in|on|part of|among|one of)\s+your\s+(?:own\s+)?{_HISTORY_EN}",
    rf"{EV}(?:\s*(?:,|and)\s*{ANY_TITLE})*\s*(?:,|and)\s*{REC}\s+(?:are|were)\s+(?:both\s+|all\s+"
    rf"|already\s+)*(?:in|on|part of|among|two of|some of)\s+your\s+(?:own\s+)?{_HISTORY_EN}",
    rf"\byour\s+(?:rating|review|play|plays|score)\s+(?:of|for)\s+{REC}",
    rf"\byour\s+{_HISTORY_EN}\s+(?:includes|contains|has|features)\s+{GAP}{REC}",
    # 'this' after 'already': the recommendation told as seen without its title.
    rf"\b(?:you(?:'ve| have)?\s+)?already\s+{_SEEN_EN}\s+(?:this|it)\b",
    rf"\byou(?:'ve| have)?\s+{_SEEN_EN}\s+(?:this|it)\b[^.;!?⟦]{{0,20}}"
    rf"\b(?:already|before|times|twice)\b",
    # German
    rf"\b(?:du\s+hast|Sie\s+haben)\s+(?:diese[nrs]?\s+\w+|ihn|sie|es)\s+(?:schon|bereits)"
    rf"\s+(?:\w+\s+)?{_SEEN_DE}",
    rf"\b(?:du|Sie)\s+(?:hast|haben)\s+(?:schon\s+|bereits\s+|auch\s+)?{REC}{CLAUSE}\b{_SEEN_DE}",
    rf"{REC}\s+(?:hast\s+du|haben\s+Sie)\b{CLAUSE}\b{_SEEN_DE}",
    rf"{REC}\s+(?:hat|hatte)\s+(?:dir|Ihnen)\b{CLAUSE}\bgefallen",
    rf"\b(?:dir|Ihnen)\s+{REC}\s+{CLAUSE}gefallen\s+(?:hat|hatte)\b",
    rf"\b(?:hat|hatte)\s+(?:dir|Ihnen)\s+{REC}{CLAUSE}\bgefallen",
    rf"{REC}\s*,?\s*(?:den|die|das)\s+(?:du|Sie)\b{CLAUSE}\b{_SEEN_DE}",
    rf"{REC}{CLAUSE}\bin\s+(?:deine[mnr]?|Ihre[mnr]?)\s+(?:Verlauf|Liste|Historie|Sammlung"
    rf"|Bibliothek|Favoriten)",
    # French
    rf"\b(?:vous\s+avez|tu\s+as)\s+(?:déjà\s+|aussi\s+|beaucoup\s+|bien\s+)?{_SEEN_FR}\s+"
    rf"{GAP}{REC}",
    rf"{REC}\s*,?\s*(?:que|qu')\s*(?:vous|tu)\s+(?:avez|as)\b",
    rf"{REC}\s+(?:vous|t')\s*a\s+(?:beaucoup\s+)?plu",
    rf"\b(?:vous|tu)\s+l'(?:avez|as)\s+(?:déjà|plusieurs fois)\s+{_SEEN_FR}",
    rf"\b(?:vous\s+avez|tu\s+as)\s+déjà\s+{_SEEN_FR}\s+(?:ce|cet|cette)\b",
    rf"{REC}{CLAUSE}\b(?:dans|parmi)\s+(?:votre|vos|ton|tes)\s+(?:historique|liste|favoris)",
    # Spanish
    rf"\bya\s+(?:(?:la|lo)\s+)?(?:(?:has|ha)\s+{_SEEN_ES}|{_SEEN_ES_PAST})\s+(?:esta|este|esto)?",
    rf"\b(?:has|ha|habéis|han)\s+(?:ya\s+)?{_SEEN_ES}\s+{GAP}{REC}",
    rf"\b{_SEEN_ES_PAST}\s+{GAP}{REC}",
    rf"\b(?:te|le)\s+(?:gustó|encantó)\s+(?:mucho\s+)?{REC}",
    rf"{REC}\s*,?\s*(?:que|la que|el que|al que|a la que)\s+(?:ya\s+)?(?:has|ha|te\s+gustó"
    rf"|{_SEEN_ES_PAST})\b",
    rf"{REC}{CLAUSE}\b(?:en|entre)\s+(?:tu|su|tus|sus)\s+(?:historial|lista|favorit\w+)",
]
_AS_SEEN_RX = [re.compile(p, re.I) for p in _AS_SEEN]

_MODAL_EN = r"(?:'ll|'d|\s+will|\s+would|\s+may|\s+might|\s+could|\s+should|\s+can|\s+are sure to)"
_AS_NEXT = [
    rf"\byou{_MODAL_EN}\s+(?:also\s+|surely\s+|probably\s+|likely\s+|really\s+|definitely\s+)?"
    rf"(?:enjoy|like|love|want to \w+|appreciate|dig)\s+{GAP}{EV}",
    rf"(?:^|[.;:!?]\s*|\b(?:so|then|next|now|why not|we|I)\s+)(?:try|check out|watch|play"
    rf"|listen to|read|discover|give|recommend|suggest)\s+(?:out\s+)?{EV}",
    rf"\b(?:we|I)\s+(?:recommend|suggest)\s+{EV}",
    rf"{EV}\s*(?:\([^)]*\)\s*)?(?:should|could|would|might|may|will)\s+(?:also\s+|really\s+)?"
    rf"(?:suit|appeal to|please|delight|interest|be right up|be a (?:great|good))\b",
    rf"{EV}\s+is\s+(?:worth|a safe bet|a good (?:pick|choice|fit|match|bet)|right up your"
    rf"|your next)",
    # German
    rf"\b(?:könnte|dürfte|wird|würde|sollte)\s+(?:dir|Ihnen)\s+(?:auch\s+|sicher\s+|bestimmt\s+"
    rf"|ebenfalls\s+)?{EV}{CLAUSE}gefallen",
    rf"{EV}\s+(?:könnte|dürfte|wird|würde|sollte)\s+(?:dir|Ihnen)\b{CLAUSE}\bgefallen",
    rf"\b(?:probier\w*|teste|schau\s+dir|hör\s+dir|entdecke|empfehlen|empfehle)\s+(?:doch\s+"
    rf"|mal\s+|dir\s+|Ihnen\s+|wir\s+)*{EV}",
    # French
    rf"{EV}\s+(?:devrait|pourrait|va|saura)\s+(?:aussi\s+|également\s+|bien\s+)?(?:vous|te)"
    rf"\s+plaire",
    rf"\b(?:essayez|découvrez|regardez|écoutez|jouez à|lisez|essaie|découvre)\s+{EV}",
    rf"\b(?:vous|tu)\s+(?:aimerez|aimeriez|apprécierez|adorerez|pourriez aimer|devriez aimer"
    rf"|aimeras|adoreras)\s+{GAP}{EV}",
    rf"\b(?:vous|te)\s+(?:recommandons|conseillons|suggérons|recommande|conseille)\s+{EV}",
    # Spanish
    rf"{EV}\s+(?:te|le)\s+(?:podría|puede|debería|va a)\s+(?:gustar|encantar)",
    rf"{EV}\s+(?:podría|puede|debería)\s+(?:gustarte|encantarte|gustarle)",
    rf"\b(?:te|le)\s+(?:gustará|encantará|podría gustar|puede gustar)\s+{EV}",
    rf"\b(?:prueba|pruebe|descubre|descubra|mira|escucha|juega|lee)\s+(?:a\s+)?{EV}",
    rf"\b(?:te|le)\s+(?:recomendamos|recomiendo|sugerimos)\s+{EV}",
]
_AS_NEXT_RX = [re.compile(p, re.I | re.M) for p in _AS_NEXT]


def _seen_match(masked: str) -> re.Match | None:
    for rx in _AS_SEEN_RX:
        m = rx.search(masked)
        if m:
            return m
    return None


def check_recommended_as_seen(r: Reading) -> list[Flag]:
    """The recommendation told as something the user already has: a role swap."""
    m = _seen_match(r.masked)
    if not m:
        return []
    return [Flag("recommended_as_seen", f"{_unmask(m.group(0), r)!r}")]


def check_evidence_as_recommended(r: Reading) -> list[Flag]:
    """An evidence title offered as the next thing while the recommendation is gone or past."""
    rec_absent = REC not in r.masked
    rec_past = _seen_match(r.masked) is not None
    if not (rec_absent or rec_past):
        return []
    for rx in _AS_NEXT_RX:
        m = rx.search(r.masked)
        if m:
            why = "recommended title absent" if rec_absent else "recommended told as seen"
            return [Flag("evidence_as_recommended", f"{_unmask(m.group(0), r).strip()!r} ({why})")]
    return []


def _unmask(snippet: str, r: Reading) -> str:
    """Put the titles back into a quoted snippet so that a reason reads as the text did."""
    titles = {REC: (r.record.get("recommended") or {}).get("title", "")}
    for i, ev in enumerate(r.record.get("evidence") or []):
        titles[f"⟦E{_letters(i)}⟧"] = ev.get("title", "")
    return re.sub(ANY_TITLE, lambda m: f"<{titles.get(m.group(0), '?')}>", snippet)


# --------------------------------------------------------------------------------------------
# 6. invented_title
# --------------------------------------------------------------------------------------------

_QUOTED = re.compile(
    r"\"([^\"]{2,80})\"|“([^”]{2,80})”|„([^“”]{2,80})[“”]|«\s*([^»]{2,80}?)\s*»"
    r"|(?<![\w])'([^']{2,80})'(?![\w])"
)
_YEAR = re.compile(r"\(\s*(1[89]\d\d|20\d\d)\s*\)")
_CAP = "A-ZÄÖÜÉÈÁÍÓÚÑ\u0410-\u042f\u0401"
_TOKEN_CHARS = r"[^\s()\"“”„«»⟦⟧;]"
_CONNECTORS = r"(?:of|the|and|a|an|in|on|to|for|at|de|la|le|du|der|die|das|von|und|y|el|los|las|et)"
# A Title-Cased run (connectors allowed inside) ending right before a '(YYYY)'.
_TITLE_RUN = re.compile(
    rf"(?<!\S)((?:(?:[{_CAP}]{_TOKEN_CHARS}*|\d+:?)\s+(?:{_CONNECTORS}\s+)*)*"
    rf"(?:[{_CAP}]{_TOKEN_CHARS}*|\d+))\s*$"
)


def check_invented_title(r: Reading) -> list[Flag]:
    """A quoted name, or a name with a (YYYY) year, that is no title the evidence gave."""
    bad = []
    known_words = {label_text(x) for x in r.rec_labels + r.evidence_labels}
    for m in _QUOTED.finditer(r.masked):
        inner = next(g for g in m.groups() if g is not None).strip(" .,;:!?")
        if not inner or "⟦" in inner or not re.search(r"[^\W\d_]", inner):
            continue
        if label_text(inner) in known_words:
            continue
        if lexicon_hits(inner, r.language, r.domain) and len(inner.split()) <= 3:
            continue  # a quoted genre word is a label question, not a title
        if re.fullmatch(r"(?i)none|keine?|aucune?|ningun[oa]", inner):
            continue
        if inner[0].isupper() or len(inner.split()) >= 2:
            bad.append(f"quoted {inner!r}")
    for m in _YEAR.finditer(r.masked):
        before = r.masked[: m.start()].rstrip()
        if before.endswith("⟧"):
            token = before[before.rfind("⟦") :]
            bad.append(f"{_unmask(token, r)} with year {m.group(1)}, not as the catalog dates it")
            continue
        run = _TITLE_RUN.search(before[-120:])
        if run:
            bad.append(f"{run.group(1).strip()!r} ({m.group(1)})")
    if not bad:
        return []
    return [Flag("invented_title", "; ".join(bad))]


# --------------------------------------------------------------------------------------------
# 7. wrong_percent: percentages, ratings and, for implicit feedback, any number
# --------------------------------------------------------------------------------------------

_PERCENT = re.compile(
    rf"({NUM})\s*(?:%|per\s*cent\b|percent\b|prozent\b|pour\s*cent\b|por\s*ciento\b)", re.I
)
_RATING = [
    re.compile(rf"(?<![\w.,])({NUM})\s*(?:/|out of|von|sur|de|auf)\s*({NUM})(?![\w%])", re.I),
    re.compile(
        rf"(?<![\w.,])({NUM})\s*(?:stars?|sternen?|étoiles?|estrellas?|points?|punkten?)\b", re.I
    ),
    re.compile(
        rf"\b(?:rated|gave|scored|rating of|bewertet mit|noté|donné|calificaste|valoraste"
        rf"|puntuaste|diste)\s+(?:it\s+|es\s+|le\s+|la\s+|un\s+|une\s+|a\s+)?({NUM})(?!\s*%)"
        rf"(?![\w.,]\d)",
        re.I,
    ),
    re.compile(rf"\bmit\s+({NUM})\s*(?:/\s*\d+\s*)?(?:Sternen?\s+|Punkten?\s+)?bewertet", re.I),
]
_ANY_NUMBER = re.compile(rf"(?<![\w.,]){NUM}")


def _num(s: str) -> float:
    return float(s.replace(",", "."))


def check_numbers(r: Reading) -> list[Flag]:
    """Percents must be an evidence also_share; ratings an evidence rating; implicit: no numbers."""
    evidence = r.record.get("evidence") or []
    shares = {round(100 * e["also_share"]) for e in evidence if e.get("also_share") is not None}
    ratings = {float(e["rating"]) for e in evidence if e.get("rating") is not None}
    feedback = (r.record.get("feedback") or "").lower()
    text = r.masked
    bad = []
    claimed: list[tuple[int, int]] = []  # spans already judged
    for m in _PERCENT.finditer(text):
        claimed.append(m.span())
        if _num(m.group(1)) not in shares:
            bad.append(f"{m.group(0).strip()!r} is no evidence share {sorted(shares)}")
    if feedback == "explicit":
        for rx in _RATING:
            for m in rx.finditer(text):
                if any(a <= m.start(1) < b for a, b in claimed):
                    continue
                claimed.append(m.span())
                if _num(m.group(1)) not in ratings:
                    bad.append(
                        f"rating {m.group(0).strip()!r} is no evidence rating {sorted(ratings)}"
                    )
    else:
        labels = {label_text(x) for x in r.rec_labels + r.evidence_labels}
        for m in _ANY_NUMBER.finditer(text):
            if any(a <= m.start() < b for a, b in claimed):
                continue
            word = re.match(r"[\w']*", text[m.start() :]).group(0)
            if label_text(word) in labels:
                continue  # a label such as '80s'
            bad.append(f"number {word!r} in {feedback or 'unrated'} feedback")
    if not bad:
        return []
    return [Flag("wrong_percent", "; ".join(dict.fromkeys(bad)))]


# --------------------------------------------------------------------------------------------
# 8. no_recommended_title
# --------------------------------------------------------------------------------------------


def check_recommended_named(r: Reading) -> list[Flag]:
    """Every explanation should name what it explains; 'this one' leaves the user guessing."""
    if REC in r.masked:
        return []
    title = (r.record.get("recommended") or {}).get("title", "")
    return [Flag("no_recommended_title", f"{title!r} not named")]


# --------------------------------------------------------------------------------------------
# Reading lines
# --------------------------------------------------------------------------------------------

CHECKS = (
    check_none_word,
    check_labels,
    check_foreign_nouns,
    check_recommended_as_seen,
    check_evidence_as_recommended,
    check_invented_title,
    check_numbers,
    check_recommended_named,
)


def read_line(record: dict[str, Any]) -> Reading:
    """Normalize one audit record and mask its titles."""
    rec = record.get("recommended") or {}
    evidence = record.get("evidence") or []
    text = normalize(record.get("text") or "")
    masked, found = mask_titles(
        text, rec.get("title") or "", [e.get("title") or "" for e in evidence]
    )
    word = (record.get("item_word") or "").lower()
    return Reading(
        record=record,
        text=text,
        masked=masked,
        language=(record.get("language") or "en").lower()[:2],
        domain=DOMAIN_OF_WORD.get(word),
        rec_labels=[str(x) for x in rec.get("labels") or []],
        evidence_labels=[str(x) for e in evidence for x in e.get("labels") or []],
        titles_found=found,
    )


def check(record: dict[str, Any]) -> list[Flag]:
    """All flags for one audit record."""
    reading = read_line(record)
    flags: list[Flag] = []
    for fn in CHECKS:
        flags.extend(fn(reading))
    return flags


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record or None, parse error or None) for each non-empty line."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict) or "text" not in rec:
                    raise ValueError("not an explanation record")
                yield n, rec, None
            except (ValueError, TypeError) as exc:
                yield n, None, str(exc)


def result_row(n: int, record: dict[str, Any], flags: list[Flag]) -> dict[str, Any]:
    rec = record.get("recommended") or {}
    return {
        "line": n,
        "catalog": record.get("catalog"),
        "language": record.get("language"),
        "source": record.get("source"),
        "item_id": rec.get("item_id"),
        "text": record.get("text"),
        "flags": [{"flag": f.flag, "reason": f.reason} for f in flags],
    }


def summarize(rows: Iterable[dict[str, Any]], unreadable: int = 0) -> dict[str, Any]:
    """Counts per flag over all lines, LLM-written lines and template lines, with examples."""
    rows = list(rows)
    by = {"all": Counter(), "llm": Counter(), "template": Counter()}
    flagged = {"all": 0, "llm": 0, "template": 0}
    examples: dict[str, list[dict[str, Any]]] = {f: [] for f in FLAGS}
    llm = sum(1 for r in rows if r["source"] == "llm")
    for row in rows:
        groups = ["all", "llm" if row["source"] == "llm" else "template"]
        names = {f["flag"] for f in row["flags"]}
        for g in groups:
            by[g].update(names)
            flagged[g] += bool(names)
        for f in row["flags"]:
            if len(examples[f["flag"]]) < EXAMPLES_PER_FLAG:
                examples[f["flag"]].append(
                    {
                        "line": row["line"],
                        "source": row["source"],
                        "text": row["text"],
                        "reason": f["reason"],
                    }
                )
    count = len(rows)
    return {
        "count": count,
        "unreadable": unreadable,
        "llm": llm,
        "llm_share": round(llm / count, 4) if count else 0.0,
        "template": count - llm,
        "flagged_lines": flagged,
        "flags": {f: {g: by[g][f] for g in by} for f in FLAGS},
        "examples": {f: ex for f, ex in examples.items() if ex},
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A plain table for stdout: flag counts and rates per source, then a few examples."""
    n, llm, tpl = summary["count"], summary["llm"], summary["template"]

    def cell(k: int, d: int) -> str:
        return f"{k:>6} {100 * k / d:5.1f}%" if d else f"{k:>6}    - "

    lines = [
        f"lines {n}  llm {llm} ({100 * summary['llm_share']:.1f}%)  template {tpl}"
        + (f"  unreadable {summary['unreadable']}" if summary["unreadable"] else ""),
        f"{'flag':<24}{'all':>13}{'llm':>13}{'template':>13}",
    ]
    rows = [*summary["flags"].items(), ("any flag", summary["flagged_lines"])]
    for name, c in rows:
        lines.append(
            f"{name:<24}{cell(c['all'], n):>13}{cell(c['llm'], llm):>13}"
            f"{cell(c['template'], tpl):>13}"
        )
    for name, exs in summary["examples"].items():
        lines.append(f"\n{name}:")
        for ex in exs:
            lines.append(f"  [{ex['line']} {ex['source']}] {ex['text']}")
            lines.append(f"      -> {ex['reason']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audit", type=Path, help="JSONL, one explanation per line")
    parser.add_argument("--json", type=Path, help="write per-line results, summary last")
    args = parser.parse_args(argv)
    rows, unreadable = [], 0
    for n, record, error in iter_records(args.audit):
        if record is None:
            unreadable += 1
            print(f"line {n}: skipped ({error})", file=sys.stderr)
            continue
        rows.append(result_row(n, record, check(record)))
    summary = summarize(rows, unreadable)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with args.json.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
    print(format_summary(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
