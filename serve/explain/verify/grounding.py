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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from serve.explain.explanation import ExplainTask
from serve.explain.text import Token, word_set, words_of
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
    "en": word_set(
        "a an the this that these those it its itself you your yours yourself i me my we us our "
        "they them their he him his she her who whom whose which what whatever whoever one ones "
        "something anything everything "
        "of to in on at by for from with without about as into onto over under through across "
        "after before between among around along like unlike than since until per via up out "
        "off down within beyond toward towards "
        "and or but nor so yet because although though while whereas if unless whether when "
        "where then both either neither also too "
        "be am is are was were been being have has had having do does did will would shall "
        "should can could may might must "
        "not no never none "
        "all any some each every many much more most few little less other others another such "
        "same own several plenty enough lot lots two "
        "very quite rather really just only even still again here there now already always "
        "often so how why well "
        "youll youve youre youd itll thats theres heres whats lets dont doesnt didnt isnt arent "
        "wont cant couldnt wouldnt shouldnt ive id im weve theyre"
    ),
    "de": word_set(
        "der die das den dem des ein eine einen einem einer eines kein keine keinen keinem "
        "keiner ich mich mir mein meine du dich dir dein deine deinen deinem deiner deines er "
        "ihn ihm sein seine seinen seinem seiner seines es sie ihr ihre ihren ihrem ihrer ihres "
        "wir uns unser euch euer ihnen man sich dies diese dieser dieses diesen diesem welche "
        "welcher welches wer wen wem was etwas "
        "von vom zu zum zur mit bei beim nach aus an am auf in im ins über unter vor hinter "
        "neben zwischen für gegen ohne um durch seit bis ab "
        "und oder aber denn sondern doch weil da dass ob wenn als wie so also "
        "sein bin bist ist sind seid war warst waren gewesen haben habe hast hat habt hatte "
        "hattest hatten gehabt werden werde wirst wird werdet wurde wurden geworden können kann "
        "kannst könnte könntest könnten dürfte dürften müsste sollte solltest sollten mögen mag "
        "magst möchtest würde würdest würden "
        "nicht nie kein "
        "auch ebenfalls ebenso beide beiden beides alle allen aller alles andere anderen "
        "anderer anderes viel viele vielen mehr meisten ganz sehr noch schon nur hier dort "
        "jetzt dann genau gleich gleiche gleichen gleicher zwei wieder"
    ),
    "fr": word_set(
        "le la les l un une des du de d au aux ce cet cette ces c ça cela ceci je j me m moi mon "
        "ma mes tu t te toi ton ta tes il elle on nous vous votre vos lui leur leurs ils elles "
        "se s son sa ses qui que qu quoi dont où y en "
        "à a dans sur sous avec sans pour par chez vers entre depuis pendant avant après "
        "contre selon "
        "et ou mais donc car ni si comme quand puisque puisqu lorsque parce "
        "être suis es est sommes êtes sont était étaient été sera serait avoir ai as avons "
        "avez ont avait aviez eu aura aurez pouvoir peut pouvez pourrait pourriez peuvent "
        "devrait devraient doit devoir "
        "ne n pas plus jamais aucun aucune "
        "aussi très bien encore déjà ici voici voilà même mêmes autre autres tout tous toute "
        "toutes tel telle deux"
    ),
    "es": word_set(
        "el la los las lo un una unos unas al del este esta estos estas ese esa esos esas esto "
        "eso yo me mi mis tú tu tus te ti él ella ellos ellas usted ustedes le les nos nuestro "
        "su sus se sí que qué quien cual cuyo donde cuando como porque pues "
        "y e o u pero ni si sino ya "
        "a ante bajo con contra de desde en entre hacia hasta para por según sin sobre tras "
        "ser es son era eran fue fueron sido será sería estar está están estaba estado haber "
        "ha has han había he hemos hay tener tiene tienes tienen poder puede puedes pueden "
        "podría podrías deber debería "
        "no nunca jamás tampoco "
        "también muy más menos tan tanto mucho mucha muchos muchas otro otra otros otras "
        "mismo misma mismos mismas todo toda todos todas ambos ambas dos aquí así"
    ),
}

# How a recommendation is explained, and nothing else: liking, sharing, resembling, the
# feedback (rated, played), the few nouns of taste (mood, tone, style, story) and the mildest
# praise. Base forms: `_ENDINGS` adds the regular inflections. Taken from the prompt's rules,
# its few-shot answers and the templates (which must always pass), then from the good texts of
# tests/data/verifier_corpus.yaml and the archived model answers in benchmarks/results.
EXPLAINING: dict[str, frozenset[str]] = {
    "en": word_set(
        "like love enjoy appreciate adore fan favorite favourite similar similarly resemble "
        "share common mood tone style story classic rate rating rated play played watch "
        "watched see seen saw listen listened hear heard read bought recommend recommended "
        "because since also another again more too next try give gave given get got earn "
        "earned score scored offer mix combine blend bring suit fit match taste pick choice "
        "bet look worth safe sure great good nice fine perfect ideal right strong solid fun "
        "funny light dark long high highly well kind sort type side sense feel vein streak "
        "spirit element theme genre title history in common closest close shared tell "
        "reason why may might probably likely way same make makes keep find found "
        "new fresh favourites thing things lover street top sound people percent"
    ),
    "de": word_set(
        "mögen mochtest gemocht lieben geliebt gefallen gefällt gefiel genießen genossen fan "
        "liebling lieblings favorit ähnlich ähneln ähnelt gemeinsam teilen teilt stimmung ton "
        "stil geschichte klassiker bewerten bewertet bewertung note benotet spielen gespielt "
        "hören gehört sehen gesehen ansehen schauen lesen gelesen gekauft empfehlen empfohlen "
        "empfehlung weil ebenfalls weitere weiterer weiteres wieder noch passen passt verbinden "
        "verbindet mischen mischt bieten bietet gut gute guter gutes toll schön perfekt ideal "
        "richtig stark leicht dunkel lang hoch wahl geschmack art sorte seite thema genre "
        "titel verlauf gehören gehört gehöre zählen zählt könnte dürfte sicher bestimmt neu "
        "mal treffen trifft finden düster schwarz leute menschen prozent denen empfehlen"
    ),
    "fr": word_set(
        "aimer plaire plu plaira plairait adorer apprécier fan favori favoris favorite "
        "préféré similaire semblable ressembler partager commun ambiance ton style histoire "
        "classique noter note donner donné jouer joué écouter écouté regarder regardé voir vu "
        "lire lu acheter recommander recommandé parce aussi autre encore plus essayer trouver "
        "offrir mêler mélanger combiner réunir convenir correspondre goût choix bon bonne "
        "excellent parfait idéal beau belle fort léger sombre long haut genre titre "
        "historique partie faire fait font thème genre côté esprit sorte type plein pleine "
        "nouveau nouvelle personne gens cent davantage"
    ),
    "es": word_set(
        "gustar gusto encantar disfrutar fan favorito favoritos preferido similar parecido "
        "parecer compartir común ambiente tono estilo historia clásico valorar valoraste "
        "calificar puntuar dar diste jugar escuchar ver viste leer comprar recomendar "
        "recomendado porque también otro otra más probar encontrar ofrecer mezclar combinar "
        "reunir encajar gusto elección bueno buena excelente perfecto ideal fuerte ligero "
        "oscuro largo alto género título historial parte tema lado espíritu tipo lleno llena "
        "nuevo nueva así entre recomienda ninguno persona gente ciento quienes"
    ),
}

# Regular endings per language, as (ending, what replaces it): "loved" is "love" + "d",
# "stories" is "story", "Komödien" is "Komödie" + "n", "aimée" is "aimer", "gustó" "gustar".
_ENDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        *(("s", ""), ("es", ""), ("ies", "y"), ("ied", "y"), ("ed", ""), ("d", "")),
        *(("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""), ("est", ""), ("ers", "")),
    ),
    "de": tuple(
        (ending, "")
        for ending in ("e", "en", "er", "es", "em", "n", "s", "st", "t", "te", "ten", "et", "ern")
    ),
    "fr": (
        *(("s", ""), ("x", ""), ("e", ""), ("es", ""), ("ee", "er"), ("ees", "er"), ("es", "er")),
        *(("e", "er"), ("ez", "er"), ("ent", "er"), ("era", "er"), ("erez", "er")),
        *(("erait", "er"), ("eriez", "er"), ("ait", "er"), ("ons", "er"), ("er", "")),
    ),
    "es": (
        *(("s", ""), ("es", ""), ("a", "o"), ("as", "o"), ("os", "o")),
        *(("a", "ar"), ("o", "ar"), ("an", "ar"), ("aron", "ar"), ("ara", "ar"), ("aria", "ar")),
        *(("ado", "ar"), ("ada", "ar"), ("aste", "ar"), ("as", "ar"), ("e", "ar"), ("en", "ar")),
        *(("ando", "ar"), ("e", "er"), ("en", "er"), ("a", "er"), ("an", "er"), ("ido", "er")),
        *(("ia", "er"), ("io", "er"), ("er", "")),
    ),
}

# The catalog genres in each language's words ("Crime": "Krimi", "policier", "crimen"): a task
# may call its own genres so, and no others. Keyed by the folded genre label.
GENRE_NAMES: dict[str, dict[str, frozenset[str]]] = {
    language: {genre: word_set(words) for genre, words in names.items()}
    for language, names in {
        "de": {
            "action": "action actionfilm", "adventure": "abenteuer abenteuerfilm",
            "animation": "animation animations animationsfilm zeichentrick trickfilm",
            "children": "kinder kinderfilm familie familienfilm", "comedy": "komödie humor",
            "crime": "krimi kriminal verbrechen gangster",
            "documentary": "doku dokumentation dokumentarfilm", "drama": "drama",
            "fantasy": "fantasy", "noir": "noir", "horror": "horror grusel",
            "musical": "musical", "mystery": "mystery rätsel",
            "romance": "romanze romantik romantisch liebe liebesfilm", "sci": "science fiction",
            "thriller": "thriller", "war": "krieg kriegsfilm", "western": "western",
        },
        "fr": {
            "action": "action", "adventure": "aventure", "animation": "animation animé dessin",
            "children": "enfant famille familial", "comedy": "comédie humour",
            "crime": "policier criminel crime gangster", "documentary": "documentaire",
            "drama": "drame dramatique", "fantasy": "fantastique fantasy", "noir": "noir",
            "horror": "horreur épouvante", "musical": "musical musicale", "mystery": "mystère",
            "romance": "romance romantique amour", "sci": "science fiction",
            "thriller": "thriller suspense", "war": "guerre", "western": "western",
        },
        "es": {
            "action": "acción", "adventure": "aventura", "animation": "animación animado",
            "children": "infantil niño familia familiar", "comedy": "comedia humor",
            "crime": "crimen criminal policiaco policíaco gánster", "documentary": "documental",
            "drama": "drama dramático", "fantasy": "fantasía fantástico", "noir": "negro noir",
            "horror": "terror horror", "musical": "musical", "mystery": "misterio",
            "romance": "romance romántico amor", "sci": "ciencia ficción", "thriller": "thriller "
            "suspense", "war": "guerra bélico", "western": "western",
        },
    }.items()
}  # fmt: skip

# Genre words in every language ("comedies", "Krimi", "policier"), any genre: whether the
# genre is the recommended item's is `verifier._wrong_genre`'s to judge, which runs first.
GENRE_WORDS: frozenset[str] = frozenset(claims.GENRE_OF_WORD) | {
    word for pair in claims.GENRE_OF_PAIR for word in pair
}
_NUMBER = re.compile(r"\d+")


@lru_cache(maxsize=1 << 10)
def _language_words(language: str) -> frozenset[str]:
    """Words any explanation in `language` may use: function words, explaining words, genres
    and the item words the project knows in that language ("film", "artiste")."""
    item_words = {w for words in ITEM_WORDS.values() for w in words.get(language, ())}
    return (
        FUNCTION_WORDS[language]
        | EXPLAINING[language]
        | GENRE_WORDS
        | word_set(" ".join(item_words))
    )


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
) -> str | None:
    """The first word no fact of `task`, no function word and no explaining word accounts for,
    as the text writes it (folded); None when every word is grounded. `allows(start, end)` says
    whether a stretch of the text is a title, genre label or quotable tag of the task, and
    `bare_norms` are the tokens' norms without a French elision ("d'horreur": "horreur")."""
    known = _language_words(task.language) | _task_words(task)
    language = task.language
    for token, bare in zip(tokens, bare_norms, strict=True):
        if allows(token.start, token.end):
            continue
        if not any(_known(word, known, language) for word in {token.norm, bare}):
            return bare
    return None


def _known(word: str, known: frozenset[str], language: str) -> bool:
    if _inflection_of(word, known, language):
        return True
    return language == "de" and _compound_of(word, known)


def _inflection_of(word: str, known: frozenset[str], language: str) -> bool:
    """Whether `word` is a known word or one with a regular ending ("loved", "Komödien")."""
    if word in known:
        return True
    return any(
        word.endswith(ending)
        and len(word) > len(ending) + 1
        and word[: -len(ending)] + base in known
        for ending, base in _ENDINGS[language]
    )


def _compound_of(word: str, known: frozenset[str]) -> bool:
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
            if not _inflection_of(part, known, "de"):
                continue
            for link in _LINKS:
                if word.startswith(link, end):
                    reachable[end + len(link)] = True
    return reachable[-1]
