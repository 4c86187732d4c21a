"""The languages explanations may be written in, their everyday words, and a cheap check that a
text is in the language asked for.

Tiny LLMs drift into English when asked for German, or the other way round; a full language
identifier is overkill for one or two sentences, so the check counts common function words that
belong to one language only. Titles and catalog labels are removed first: "Das Boot" in an
English sentence says nothing about the sentence's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from serve.explain.text import letter_words, word_set

LANGUAGES: dict[str, str] = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}

# Below this many words there is too little to judge: the text passes.
MIN_SCORABLE_WORDS = 4
# A text this long with no function word of the language asked for is not in that language.
MIN_WORDS_FOR_ABSENCE = 8
# Another language dominates when it has at least this many hits, and more than twice as many.
MIN_DOMINANT_HITS = 2

_QUOTED = re.compile(r"\"[^\"]{1,100}\"|“[^”]{1,100}”|„[^“”]{1,100}[“”]|«[^»]{1,100}»")


# Function words: frequent, never names, never titles by themselves.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": word_set(
        "the a an and or but of to in on at for with from by about as is are was were be been "
        "it its this that these those you your i me my we our he she they them their his her "
        "him will would can could should have has had do does did not no so if because since "
        "both also too very more most than then there here what which who when where why how "
        "all any some just like up out into over such same other others only one"
    ),
    "de": word_set(
        "der die das den dem des ein eine einen einem einer und oder aber ist sind war waren "
        "hat hast haben hatte du dir dich dein deine ich mir mich wir sie er es nicht auch mit "
        "ihnen ihre ihrem ihren ihrer euch euer "
        "von zu für auf aus bei nach über weil dass wie wenn sehr noch nur so schon beide "
        "beiden diese dieser dieses ihm ihn ihr im am an in was also gefallen gemeinsam wird"
    ),
    "fr": word_set(
        "le la les l un une des du de d et ou mais est sont était a ont avez avait vous votre "
        "vos tu ton ta te je il elle ils nous ce cet cette ces qui que qu ne n pas plus pour "
        "par avec sans dans sur au aux en se son sa ses lui leur parce comme aussi très deux "
        "tous c j"
    ),
    "es": word_set(
        "el la los las lo un una unos unas y o pero es son era fue ha has han tiene tienen te "
        "tu tus su sus yo él ella ellos nosotros usted de del al a en con por para sin sobre "
        "que qué porque como muy más también ambos ambas este esta estos estas ese esa le les "
        "se no gustó gusta"
    ),
}

# Everyday words of explanations: neither names nor evidence, so they may be capitalized (German
# nouns always are), and a title made only of them ("Love Story") needs capitals to count.
COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": word_set(
        "movie movies film films story stories love loved like liked enjoy enjoyed great good "
        "best better fan fans favorite favourite classic similar style tone mood genre genres "
        "title titles character characters plot world life time night day man men woman women "
        "people family friends home big little new old true real dark funny perfect fun star "
        "stars rated rating ratings comedy drama thriller horror romance crime mystery war "
        "western science fiction animated animation musical documentary wonderful beautiful "
        "amazing brilliant exciting thrilling clever smart powerful emotional touching moving "
        "heartwarming epic intense gritty stylish witty charming memorable strong simple sweet "
        "sad happy edge seat heart mind journey adventure score ending twist music song boy "
        "boys girl girls dog kids child children school city town house car road "
        "favourite favourites favorite favorites history played most listened bought read"
    ),
    "de": word_set(
        "film filme filmen films titel titeln geschichte geschichten handlung stil genre genres "
        "atmosphäre spannung humor klassiker fan fans thema themen figuren charaktere "
        "geschmack empfehlung liebe leben welt sterne sternen bewertung komödie krimi drama "
        "action abenteuer science fiction favoriten verlauf anfang ende beginn wahl"
    ),
    "fr": word_set(
        "film films titre titres histoire histoires genre genres style ambiance classique "
        "amour vie monde étoiles note personnages intrigue comédie drame action aventure "
        "science fiction favoris historique"
    ),
    "es": word_set(
        "película películas film título títulos historia historias género géneros estilo "
        "ambiente clásico amor vida mundo estrellas nota personajes trama comedia drama acción "
        "aventura ciencia ficción favoritos historial"
    ),
}

FUNCTION_WORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())
EVERYDAY_WORDS: frozenset[str] = FUNCTION_WORDS.union(*COMMON_WORDS.values())

# Capitalized words that start sentences of explanations: at a sentence start, a capitalized
# word that is none of these, no everyday word and no evidence is read as a name ("Nolan fans").
SENTENCE_STARTERS: frozenset[str] = word_set(
    # en
    "because since as if given having with like unlike fans fan lovers viewers anyone "
    "enjoy try watch expect discover consider check dive give pick catch explore see "
    "another both this these those it its there here your you we i recommended recommend "
    "perfect great good ideal nice when while after before based thanks for from in on at "
    "similar just plenty whoever whatever what who how why where which also plus then so "
    "and but or yet still now next ready looking craving need want love loved liked enjoyed "
    "rated gave watched saw a an the one two three four five some many much more most all "
    "each every no not nothing something everything any other others same such definitely "
    "surely certainly probably maybe perhaps hopefully clearly absolutely sure yes well "
    "indeed considering seeing knowing judging thrilling dark gritty tense intense funny "
    "charming moving fast packed full rich smart clever stylish brutal violent gripping "
    "bold heartfelt suspenseful atmospheric tight sharp cool fresh solid fine top high "
    "youll youve youre youd its thats theres heres lets dont doesnt "
    "again once being thus hence therefore whats fellow "
    # de
    "weil da du dir dich dein deine wenn wie als auch ähnlich empfohlen probier probiere "
    "schau dieser diese dieses der die das ein eine nach mit für bei genau wer hier dann "
    "so und aber oder doch sicher vielleicht bestimmt spannend düster hast hat gefällt "
    "gefiel mochtest magst liebst sahst empfehlung ebenfalls ganz "
    # fr
    "parce puisque comme vous votre vos tu ton ta si ce cet cette ces essayez découvrez "
    "ayant étant avec pour après avant ici alors donc et mais ou aussi un une le la les "
    "recommandé recommandée vu sombre tendu puisqu lorsque quand voici voila vos ayant "
    "aimé aimée adoré apprécié noté notée regardé découvrir essayez "
    # es
    "porque como ya si te tu tus esta este estos estas dado dada prueba descubre con para "
    "después antes aquí entonces así y pero o también un una el la los las recomendado "
    "recomendada viste oscura tensa valoraste calificaste puntuaste disfrutaste amaste "
    "diste has ha dado puesto que cuando si otra otro esta aqui pues"
)

# Only words of a single language are evidence for it ("la", "que", "in" are not).
_MARKERS: dict[str, frozenset[str]] = {
    language: words.difference(*(other for name, other in STOPWORDS.items() if name != language))
    for language, words in STOPWORDS.items()
}


def looks_like(text: str, language: str, ignore: Iterable[str] = ()) -> bool:
    """Whether `text` is in `language`, within reason: lenient on short texts, false when
    another language clearly dominates or a long text has no word of the language at all.

    Quoted passages and the phrases in `ignore` (titles, catalog labels) are not scored.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
    words = _without_phrases(letter_words(_QUOTED.sub(" ", text)), ignore)
    if len(words) < MIN_SCORABLE_WORDS:
        return True
    hits = {name: sum(word in markers for word in words) for name, markers in _MARKERS.items()}
    asked = hits.pop(language)
    other = max(hits.values())
    if asked == 0:
        return other == 0 and len(words) < MIN_WORDS_FOR_ABSENCE
    return not (other >= MIN_DOMINANT_HITS and other > 2 * asked)


def _without_phrases(words: list[str], phrases: Iterable[str]) -> list[str]:
    """`words` with every occurrence of each phrase's word sequence removed, longest first."""
    sequences = sorted(
        {tuple(letter_words(phrase)) for phrase in phrases} - {()}, key=len, reverse=True
    )
    if not sequences:
        return words
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for sequence in sequences:
        by_first.setdefault(sequence[0], []).append(sequence)
    kept: list[str] = []
    position = 0
    while position < len(words):
        candidates = by_first.get(words[position], ())
        length = next(
            (len(s) for s in candidates if tuple(words[position : position + len(s)]) == s), 0
        )
        if length:
            position += length
        else:
            kept.append(words[position])
            position += 1
    return kept
