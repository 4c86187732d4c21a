"""German: every word recsplain reads or writes in German."""

from serve.explain.lang.pack import ClosedWords, LanguagePack, VerbLast, Wording

PACK = LanguagePack(
    code="de",
    name="German",
    stopwords=(
        "der die das den dem des ein eine einen einem einer und oder aber ist sind war waren "
        "hat hast haben hatte du dir dich dein deine ich mir mich wir sie er es nicht auch mit "
        "ihnen ihre ihrem ihren ihrer euch euer von zu für auf aus bei nach über weil dass wie "
        "wenn sehr noch nur so schon beide beiden diese dieser dieses ihm ihn ihr im am an in "
        "was also gefallen gemeinsam wird"
    ),
    common_words=(
        "film filme filmen films titel titeln geschichte geschichten handlung stil genre genres "
        "atmosphäre spannung humor klassiker fan fans thema themen figuren charaktere geschmack "
        "empfehlung liebe leben welt sterne sternen bewertung komödie krimi drama action "
        "abenteuer science fiction favoriten verlauf anfang ende beginn wahl"
    ),
    sentence_starters=(
        "weil da du dir dich dein deine wenn wie als auch ähnlich empfohlen probier probiere "
        "schau dieser diese dieses der die das ein eine nach mit für bei genau wer hier dann so "
        "und aber oder doch sicher vielleicht bestimmt spannend düster hast hat gefällt gefiel "
        "mochtest magst liebst sahst empfehlung ebenfalls ganz"
    ),
    function_words=(
        "der die das den dem des ein eine einen einem einer eines kein keine keinen keinem "
        "keiner ich mich mir mein meine du dich dir dein deine deinen deinem deiner deines er "
        "ihn ihm sein seine seinen seinem seiner seines es sie ihr ihre ihren ihrem ihrer ihres "
        "wir uns unser euch euer ihnen man sich dies diese dieser dieses diesen diesem welche "
        "welcher welches wer wen wem was etwas von vom zu zum zur mit bei beim nach aus an am "
        "auf in im ins über unter vor hinter neben zwischen für gegen ohne um durch seit bis ab "
        "und oder aber denn sondern doch weil da dass ob wenn als wie so also sein bin bist ist "
        "sind seid war warst waren gewesen haben habe hast hat habt hatte hattest hatten gehabt "
        "werden werde wirst wird werdet wurde wurden geworden können kann kannst könnte "
        "könntest könnten dürfte dürften müsste sollte solltest sollten mögen mag magst "
        "möchtest würde würdest würden nicht nie kein auch ebenfalls ebenso beide beiden beides "
        "alle allen aller alles andere anderen anderer anderes viel viele vielen mehr meisten "
        "ganz sehr noch schon nur hier dort jetzt dann genau gleich gleiche gleichen gleicher "
        "zwei wieder"
    ),
    explaining=(
        "oft häufig besonders deshalb daher ebenfalls gern gerne genauso bestimmt vielleicht "
        "wahrscheinlich hören hört spielen spielt meistgespielt meistgehört "
        "mögen mochtest gemocht lieben geliebt gefallen gefällt gefiel genießen genossen fan "
        "liebling lieblings favorit ähnlich ähneln ähnelt gemeinsam teilen teilt stimmung ton "
        "stil geschichte klassiker bewerten bewertet bewertung note benotet spielen gespielt "
        "hören gehört sehen gesehen ansehen schauen lesen gelesen gekauft empfehlen empfohlen "
        "empfehlung weil ebenfalls weitere weiterer weiteres wieder noch passen passt verbinden "
        "verbindet mischen mischt bieten bietet gut gute guter gutes toll schön perfekt ideal "
        "richtig stark leicht dunkel lang hoch wahl geschmack art sorte seite thema genre titel "
        "verlauf gehören gehört gehöre zählen zählt könnte dürfte sicher bestimmt neu mal "
        "treffen trifft finden düster schwarz leute menschen prozent denen empfehlen"
    ),
    endings=(
        ("e", ""),
        ("en", ""),
        ("er", ""),
        ("es", ""),
        ("em", ""),
        ("n", ""),
        ("s", ""),
        ("st", ""),
        ("t", ""),
        ("te", ""),
        ("ten", ""),
        ("et", ""),
        ("ern", ""),
    ),
    genre_names={
        "action": "action actionfilm",
        "adventure": "abenteuer abenteuerfilm",
        "animation": "animation animations animationsfilm animiert zeichentrick trickfilm",
        "children": "kinder kinderfilm familie familienfilm",
        "comedy": "komödie humor",
        "crime": "krimi kriminal verbrechen gangster",
        "documentary": "doku dokumentation dokumentarfilm",
        "drama": "drama",
        "fantasy": "fantasy",
        "noir": "noir",
        "horror": "horror grusel",
        "musical": "musical",
        "mystery": "mystery rätsel",
        "romance": "romanze romantik romantisch liebe liebesfilm",
        "sci": "science fiction",
        "thriller": "thriller",
        "war": "krieg kriegsfilm",
        "western": "western",
    },
    closed=ClosedWords(
        grammar=(
            "dazu darum daran darin darauf dafür damit davon dabei deshalb deswegen trotzdem "
            "außerdem zudem sowie sowohl weder obwohl während bevor nachdem sobald zwar sogar "
            "selbst eben ja jeder jede jedes jeden jedem manche manchen einige einigen nichts "
            "jemand deren dessen jene jener dasselbe dieselbe derselbe denselben demselben "
            "wäre wären bin will willst wollen möchte möchten muss musst müssen soll sollst "
            "darf darfst kannst konntest immer manchmal meist eher ziemlich wirklich einfach "
            "natürlich klar wohl sicherlich gerade bisher womöglich zusammen weiter darüber hinaus "
            "solche solchen solcher bereits"
        ),
        explaining=(
            "probier probiere probieren versuch versuchen vorschlag vorgeschlagen tipp zusagen "
            "sagt lohnt lohnen lohnenswert empfehlenswert naheliegend logisch markiert "
            "bekommen bekam geben gegeben gab gabst mochte mochten mochtet mochtest hörst "
            "hörer zuhörer zuschauer leser spieler publikum anteil mischung vereinen vereint "
            "top chance entdecken witzig tag tags element kandidat reinhören reinschauen "
            "lektüre spannend packend packen fesselnd bewegend berührend charmant clever stilvoll"
        ),
        endings=(("st", "en"), ("t", "en"), ("e", "en"), ("te", "en"), ("test", "en")),
    ),
    claim_words=(
        "regie regisseur regisseurin inszeniert inszenierte gedreht drehbuch drehbuchautor "
        "filmemacher filmemacherin macher schöpfer produzent produziert studio darsteller "
        "hauptrolle hauptrollen hauptdarsteller hauptdarstellerin schauspieler schauspielerin "
        "besetzung fortsetzung nachfolger vorgeschichte neuverfilmung verfilmung romanvorlage "
        "auszeichnung auszeichnungen preisgekrönt preisgekrönte gewann gewonnen nominiert "
        "kritiker millionen milliarden"
    ),
    disparaging=(
        "langweilig langweiligen nervig schrecklich schlecht schlechteste dumm dumme idiot "
        "idioten scheiße scheiss verdammt verdammte verdammten"
    ),
    disparaging_prefixes=("scheiss",),
    label_words="schlagwort schlagwörter kategorie kategorien",
    both_words="beide beiden gemeinsam teilen teilt",
    negations="nicht nie niemals kein keine keinen",
    meta_talk=(
        r"\bals\s+(?:ki|künstliche\s+intelligenz|sprachmodell|assistent)\b",
        r"\bsprachmodell",
        r"\bhier\s+(?:ist|kommt)\s+(?:eine|die|deine|ihre)\s+(?:[\w-]+\s+){0,2}erklärung",
    ),
    novelty=(
        "neu neue neuer neues neuen neuem entdecken entdeckung unbekannt unbekannte unbekannten"
    ),
    linkers=("wie als weil da nach was mehr ähnlich"),
    first_person="ich wir",
    feedback_verbs=(
        "bewertet gegeben gemocht geliebt gesehen geschaut gespielt gehört "
        "gelesen genossen gekauft bewertete bewerteten gab gaben mochte mochten"
    ),
    list_start=("wie auch schau probier probiere entdecke"),
    list_join="und oder",
    number_words={
        "null": 0.0,
        "eins": 1.0,
        "ein": 1.0,
        "eine": 1.0,
        "zwei": 2.0,
        "drei": 3.0,
        "vier": 4.0,
        "fünf": 5.0,
        "sechs": 6.0,
        "sieben": 7.0,
        "acht": 8.0,
        "neun": 9.0,
        "zehn": 10.0,
    },
    number_articles="ein eine",
    item_words={
        "item": ("Artikel", "Artikel"),
        "movie": ("Film", "Filme"),
        "artist": ("Künstler", "Künstler"),
        "band": ("Band", "Bands"),
        "song": ("Lied", "Lieder"),
        "track": ("Track", "Tracks"),
        "album": ("Album", "Alben"),
        "podcast": ("Podcast", "Podcasts"),
        "book": ("Buch", "Bücher"),
        "game": ("Spiel", "Spiele"),
        "product": ("Produkt", "Produkte"),
        "series": ("Serie", "Serien"),
        "show": ("Sendung", "Sendungen"),
        "recipe": ("Rezept", "Rezepte"),
        "course": ("Kurs", "Kurse"),
        "restaurant": ("Restaurant", "Restaurants"),
        "article": ("Artikel", "Artikel"),
    },
    domain_nouns={
        "screen": "film filme kino geschichte geschichten handlung",
        "books": "buch bücher roman romane geschichte geschichten handlung",
        "music": "lied lieder song songs album alben band bands sänger sängerin",
        "games": "spiel spiele",
    },
    rated_openings=(
        "Du hast Harbor Lights (1987) mit {r1} bewertet",
        "Weil du The Long Orbit (2011) mit {r2} bewertet hast",
    ),
    unrated_clauses=(
        "{title} gehört zu deinen Favoriten",
        "{title} ist in deinem Verlauf",
        "Weil {title} in deinem Verlauf ist",
    ),
    few_shot_endings={
        "story": (
            ", und Paper Moons (1992) ist wieder eine Geschichte aus Drama und Romance.",
            ", könnte dir das Sci-Fi-Abenteuer Comet Season (2014) gefallen.",
        ),
        "labels": (
            ", und Paper Moons (1992) hat ebenfalls Drama und Romance.",
            ", könnte dir das Sci-Fi-Abenteuer Comet Season (2014) gefallen.",
        ),
        "shares": (
            ", und {p1} der Leute, denen es gefällt, mögen auch Paper Moons (1992).",
            "{p2} der Leute, denen The Long Orbit (2011) gefällt, mögen auch Comet Season (2014).",
        ),
    },
    template=Wording(
        rated="du {title} mit {rating} bewertet hast",
        liked="dir {title} gefallen hat",
        top="{title} zu deinen Favoriten gehört",
        in_history="{title} in deinem Verlauf ist",
        lead="{recommended} wird empfohlen, weil {clause}",
        shared=" und beide {items} {labels} gemeinsam haben.",
        also=", und {percent} der Leute, denen es gefällt, mögen auch {recommended}.",
        closest=", und keiner deiner {items} ähnelt ihm mehr.",
        generic="Empfohlen, weil es dem ähnelt, was dir gefallen hat.",
        generic_history="Empfohlen, weil es deinem Verlauf ähnelt.",
        conjunction="und",
        decimal_comma=True,
    ),
    verb_last=VerbLast(
        clause_conjunctions="und oder aber denn sondern doch weil da dass wenn",
        participles=(
            "bewertet benotet gesehen angesehen angeschaut geschaut geguckt gemocht "
            "geliebt genossen gefallen gespielt gehört angehört gekauft gelesen besucht"
        ),
        auxiliaries="hast hat haben habt hattest hatte hatten",
        preterites="mochtest mochten mochtet gefiel gefielen liebtest sahst",
        compound_genre_stems={
            "krieg": "war",
            "krimi": "crime",
            "abenteuer": "adventure",
            "animations": "animation",
        },
    ),
    second_person=(
        "du dir dich dein deine deinen deinem deiner deines sie ihnen hast hattest mochtest "
        "sahst liebtest hörst spielst liest kennst"
    ),
    already="schon bereits",
    former="erste ersten erster erstere ersteren",
    latter="zweite zweiten letztere letzteren",
    majority=(
        r"\b(?:fast|nahezu|beinahe|praktisch)\s+(?:alle|jede[rn]?)\b",
        r"\bdie\s+meisten\b|\b(?:große|überwältigende)\s+mehrheit\b",
    ),
    reader_judged=(r"\bso\s+\w+\s+wie\s+du\b", r"\bdein\w*\s+\w+en\s+geschmack"),
)
