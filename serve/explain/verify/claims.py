"""Word lists for the claims no catalog field supports: who made an item, what it won, what
genre it is, and the words around people's names.

The verifier is lexical: it cannot tell a true claim from a false one, only that a sentence
makes a kind of claim the evidence (titles, catalog genres, tag phrases, ratings) never carries.
These lists say which words make such claims, in every supported language. They are folded
(lower case, no accents) like `text.words_of`, so look them up with a token's `norm`.
"""

from __future__ import annotations

import re

from serve.explain.lang import PACKS, of_every_pack, patterns_of_every_pack
from serve.explain.text import word_set

# Who made an item, who is in it, what it won, where it came from: none is in the evidence, so
# each needs the evidence to say it (a tag "oscar (best picture)" does, as a whole phrase).
CLAIM_WORDS: frozenset[str] = of_every_pack("claim_words")

# Claims said in several words, each of them innocent alone ("based on", "best picture").
CLAIM_PHRASES = re.compile(
    r"\b(?:based\s+on|inspired\s+by|written\s+by|made\s+by|produced\s+by|created\s+by"
    r"|from\s+the\s+(?:makers?|creators?|director|team|studio|people)\b"
    r"|\bsame\s+(?:\w+\s+){0,2}(?:director|team|studio|creators?|makers?|cast|actors?|actress"
    r"|writers?|crew|minds?|leads?|stars?|filmmakers?|people|hands|author|composer|band|voices?"
    r"|visionary|auteur)"
    r"|\bleading\s+(?:lady|man|men|ladies|role|roles)|\blead\s+(?:actor|actress|role)"
    r"|\bstars?\s+in\b|\bshot\s+(?:in|on|by)\b|[$€£]\s*\d|\d\s*[$€£]"
    # What happens in it: the evidence has genres and tags, never a plot.
    r"|\b(?:terrori[sz]es?|kills?|murders?|kidnaps?|rescues?|investigates?|hunts?)\s+(?:a|an|the|his|her|their)\b"
    r"|\bfalls?\s+in\s+love|\btells\s+the\s+story|\bthe\s+story\s+of\b|\brevolves\s+around"
    r"|\bcent(?:er|re)s\s+on|\b(?:mind|minds|team|people)\s+behind"
    r"|\bthumbs?\s+up|\bfollows\s+(?:a|an|the|two)\b"
    r"|\bhandelt\s+von|\berzählt\s+(?:die|von)|\braconte\s+(?:l|la|le|les|un|une)\b"
    r"|\bcuenta\s+la\s+historia|\btrata\s+(?:de|sobre)\b"
    r"|best\s+(?:picture|actor|actress|director|film|screenplay)|box\s+office|true\s+story"
    # Superlatives over the whole catalog or all time: no evidence ranks the catalog.
    r"|in\s+the\s+(?:whole\s+|entire\s+)?catalog(?:ue)?|of\s+all\s+time"
    r"|aller\s+zeiten|de\s+tous\s+les\s+temps|de\s+todos\s+los\s+tiempos"
    r"|(?:mis|mise)\s+en\s+scène|d['\u2019]après\s+(?:le|la|un|une)\s+roman|basad[ao]\s+en"
    r"|nach\s+(?:dem|einem)\s+roman|in\s+der\s+hauptrolle|con\s+la\s+actuación)\b",
    re.IGNORECASE,
)

# Where it takes place, which the evidence says only as a tag ("set in space" where "space" is
# one): the group `place` is the first word of where, and it must be a label of the task.
SETTING = re.compile(
    r"\b(?:set|takes\s+place|spielt|spielen|se\s+d[ée]roulen?t?|transcurren?|ambientad[ao]s?)"
    r"\s+(?:in|im|en|à|au|aux|dans|on)\s+"
    r"(?:(?:the|a|an|der|die|dem|den|einem|einer|le|la|les|l['\u2019]|el|los|las|un|une|una)\s*)?"
    r"(?P<place>[^\W\d_][\w'\u2019-]*)"
    # German puts the verb last: "das in New York spielt".
    r"|\b(?:in|im)\s+(?P<before>[^\W\d_][\w'\u2019-]*)(?:\s+[\w'\u2019-]+){0,2}\s+spiel(?:t|en)\b",
    re.IGNORECASE,
)

# The writer talking about itself or its task, in any of the languages ("En tant qu'IA").
META_TALK = patterns_of_every_pack("meta_talk")

# Words a recommendation has no business saying: disparagement, profanity and insults (they
# come from free-text tags: "boring", "fat nerd").
DISPARAGING: frozenset[str] = of_every_pack("disparaging")

# Compounds of swear words: "Scheißkomödie", "shitshow".
DISPARAGING_PREFIXES = tuple(prefix for p in PACKS.values() for prefix in p.disparaging_prefixes)

# What no catalog field says about the reader: their family, age, gender or life.
USER_FACTS = re.compile(
    r"\byour\s+(?:kids|children|son|sons|daughter|daughters|wife|husband|partner|girlfriend"
    r"|boyfriend|family|parents|mother|father|mom|dad|friends|age|job|work|childhood|youth)\b"
    r"|\bin\s+your\s+(?:teens|twenties|thirties|forties|fifties|sixties|seventies)\b"
    r"|\bas\s+an?\s+(?:woman|man|mother|father|mom|dad|parent|student|teenager|kid|child"
    r"|girl|boy|veteran|retiree)\b"
    r"|\b(?:deine|dein|deinen|deinem)\s+(?:kinder|frau|mann|familie|eltern|freunde)\b"
    r"|\b(?:vos|tes)\s+enfants\b|\b(?:votre|ta)\s+(?:femme|famille)\b"
    r"|\b(?:tus|sus)\s+hijos\b|\b(?:tu|su)\s+(?:esposa|familia|pareja)\b",
    re.IGNORECASE,
)

# Common first names, in the languages explanations are written in, without those that are
# everyday words ("will", "mark", "rose", "grace"): "by christopher nolan" names a person
# whatever its case.
FIRST_NAMES: frozenset[str] = word_set(
    "aaron adam adrian alan albert alejandro alexander alexandre alfred alice amanda amy andrea "
    "andreas andrew angela angelina anna anne anthony antoine antonio ashley audrey barbara "
    "ben benedict benjamin bernard brad brian bruce carlos catherine charles charlie "
    "charlotte chris christian christina christine christopher claire clint colin daniel "
    "david denis denise dennis denzel diane diego dominic donald dustin edward elena elizabeth "
    "emily emma eric erik francis francisco françois franz frederic gary george gérard "
    "gregory guillermo hans harrison heath helen helena henry hugh isabelle jack jacques jake "
    "james jane jason jean jeff jeffrey jennifer jessica jim joaquin joel johann john johnny "
    "jonathan jordan jorge josé joseph juan judith julia julian julie julien jürgen karl kate "
    "katharina keanu kevin klaus kristen laura leonardo lisa luc lucas luis manuel marco "
    "margaret maria marie marion martin mary matt matthew matthias meryl michael michel "
    "michelle mike monica natalie nicolas nicole nolan oliver olivier pablo patrick paul "
    "pedro penelope peter philip philippe quentin rachel ralph richard ridley robert "
    "roberto ryan sam samuel sandra sarah scarlett scott sean sebastian sergio simon "
    "sofia sophie stanley stefan steven susan thomas tim timothy tom tommy uma victor "
    "vincent walter werner william wolfgang"
)

# Surnames of people small models attribute films, music and books to ("a Nolan film"),
# whatever their case: a backstop for the claim words, never the only defence.
KNOWN_PEOPLE: frozenset[str] = word_set(
    "nolan spielberg scorsese tarantino kubrick hitchcock coppola lucas cameron fincher "
    "villeneuve lynch burton jackson ridley zemeckis eastwood wachowski wachowskis kurosawa "
    "miyazaki almodóvar bergman fellini godard truffaut anderson coen coens tarkovsky herzog "
    "haneke polanski gilliam verhoeven carpenter cronenberg raimi bigelow gerwig peele "
    "deniro niro pacino brando hanks dicaprio depp pitt cruise streep nicholson washington "
    "freeman hopkins foster portman johansson lawrence damon affleck clooney willis "
    "schwarzenegger stallone keaton chaplin hepburn monroe kidman blanchett bale ledger "
    "zimmer williams morricone tolkien rowling austen dickens orwell "
    "beatles radiohead madonna beyoncé"
)

# Genre words, by genre, in all supported languages: a genre the task's catalog genres (or a
# one-word tag) do not have is a wrong claim ("another Horror film" of a Crime drama).
GENRES: dict[str, frozenset[str]] = {
    name: word_set(words)
    for name, words in {
        "horror": "horror horrors horrorfilm horrorfilme slasher épouvante horreur terror",
        "comedy": "comedy comedies comedic komödie komödien comédie comédies comedia comedias "
        "sitcom",
        "drama": "drama dramas dramen drame drames",
        "crime": "crime crimes krimi krimis policier",
        "thriller": "thriller thrillers",
        "action": "action actionfilm acción",
        "adventure": "adventure adventures abenteuer aventure aventures aventura aventuras",
        "romance": "romance romances romantic romantik romantisch romantische romantique "
        "romántica romántico",
        "sci-fi": "sci scifi",
        "fantasy": "fantasy fantasía",
        "animation": "animation animated animationsfilm zeichentrick animada animado cartoon "
        "cartoons anime",
        "musical": "musical musicals musicale",
        "documentary": "documentary documentaries doku dokumentarfilm documentaire documental",
        "war": "war kriegsfilm guerre guerra",
        "western": "western westerns",
        "mystery": "mystery mysteries mystère misterio whodunit",
        "noir": "noir",
        "rock": "rock",
        "pop": "pop",
        "jazz": "jazz",
        "blues": "blues",
        "metal": "metal",
        "punk": "punk",
        "hip-hop": "hip hop rap",
        "electronic": "electronic techno",
        "reggae": "reggae",
        "biography": "biography biographie biografía memoir",
        "folk": "folk",
        "indie": "indie",
        # games
        "strategy": "strategy strategie stratégie estrategia",
        "shooter": "shooter shooters",
        "rpg": "rpg rpgs roleplaying",
        "platformer": "platformer platformers",
        "simulation": "simulation simulator simulación",
        "survival": "survival",
        "racing": "racing",
        "sandbox": "sandbox",
    }.items()
}
GENRE_OF_WORD: dict[str, str] = {word: name for name, words in GENRES.items() for word in words}
# Talk of labels: said of an item that has none, it is made up ("the none genre of Unturned",
# "not a genre or tag"); "none" is what an empty prompt field once read, never a label.
LABEL_WORDS: frozenset[str] = of_every_pack("label_words")

EMPTY_LABEL = "none"

# Words that say both items have what follows ("both are comedies", "share", "gemeinsam").
BOTH: frozenset[str] = of_every_pack("both_words")


# Genres said in two words, one of which alone would be another genre.
GENRE_OF_PAIR: dict[tuple[str, str], str] = {
    ("comedie", "musicale"): "musical",
    ("science", "fiction"): "sci-fi",
    ("ciencia", "ficcion"): "sci-fi",
    ("film", "noir"): "noir",
    ("dessin", "anime"): "animation",
    ("sci", "fi"): "sci-fi",
}
# German compounds start or end with a genre: "Krimidrama", "Animationsabenteuer".
_GENRE_HEAD = re.compile("^(?:" + "|".join(w for w in GENRE_OF_WORD if len(w) >= 4) + ")")
_GENRE_TAIL = re.compile("(?:" + "|".join(w for w in GENRE_OF_WORD if len(w) >= 4) + ")$")
_GERMAN_STEMS = {
    stem: genre
    for p in PACKS.values()
    if p.verb_last is not None
    for stem, genre in p.verb_last.compound_genre_stems.items()
}

_GERMAN_HEAD = re.compile("^(?:" + "|".join(_GERMAN_STEMS) + ")")


def genres_of(words: list[str], compounds: bool = False) -> set[str]:
    """The genres folded `words` name; with `compounds`, also the ends of German compounds."""
    found: set[str] = set()
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        pair = GENRE_OF_PAIR.get((word, words[index + 1])) if index + 1 < len(words) else None
        if pair is not None:
            found.add(pair)
            skip = True
        elif word in GENRE_OF_WORD:
            found.add(GENRE_OF_WORD[word])
        elif compounds and len(word) > 6:
            for pattern in (_GENRE_HEAD, _GENRE_TAIL):
                if match := pattern.search(word):
                    found.add(GENRE_OF_WORD[match.group()])
            if match := _GERMAN_HEAD.search(word):
                found.add(_GERMAN_STEMS[match.group()])
    return found
