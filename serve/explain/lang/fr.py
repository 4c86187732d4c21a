"""French: every word recsplain reads or writes in French."""

from serve.explain.lang.pack import ClosedWords, LanguagePack, Wording

PACK = LanguagePack(
    code="fr",
    name="French",
    stopwords=(
        "le la les l un une des du de d et ou mais est sont était a ont avez avait vous votre "
        "vos tu ton ta te je il elle ils nous ce cet cette ces qui que qu ne n pas plus pour "
        "par avec sans dans sur au aux en se son sa ses lui leur parce comme aussi très deux "
        "tous c j"
    ),
    common_words=(
        "film films titre titres histoire histoires genre genres style ambiance classique amour "
        "vie monde étoiles note personnages intrigue comédie drame action aventure science "
        "fiction favoris historique"
    ),
    sentence_starters=(
        "parce puisque comme vous votre vos tu ton ta si ce cet cette ces essayez découvrez "
        "ayant étant avec pour après avant ici alors donc et mais ou aussi un une le la les "
        "recommandé recommandée vu sombre tendu puisqu lorsque quand voici voila vos ayant aimé "
        "aimée adoré apprécié noté notée regardé découvrir essayez"
    ),
    function_words=(
        "le la les l un une des du de d au aux ce cet cette ces c ça cela ceci je j me m moi "
        "mon ma mes tu t te toi ton ta tes il elle on nous vous votre vos lui leur leurs ils "
        "elles se s son sa ses qui que qu quoi dont où y en à a dans sur sous avec sans pour "
        "par chez vers entre depuis pendant avant après contre selon et ou mais donc car ni si "
        "comme quand puisque puisqu lorsque parce être suis es est sommes êtes sont était "
        "étaient été sera serait avoir ai as avons avez ont avait aviez eu aura aurez pouvoir "
        "peut pouvez pourrait pourriez peuvent devrait devraient doit devoir ne n pas plus "
        "jamais aucun aucune aussi très bien encore déjà ici voici voilà même mêmes autre "
        "autres tout tous toute toutes tel telle deux"
    ),
    explaining=(
        "souvent également donc ainsi particulièrement volontiers sûrement probablement "
        "écouter écoutez écoutes écouté jouer joué "
        "aimer plaire plu plaira plairait adorer apprécier fan favori favoris favorite préféré "
        "similaire semblable ressembler partager commun ambiance ton style histoire classique "
        "noter note donner donné jouer joué écouter écouté regarder regardé voir vu lire lu "
        "acheter recommander recommandé parce aussi autre encore plus essayer trouver offrir "
        "mêler mélanger combiner réunir convenir correspondre goût choix bon bonne excellent "
        "parfait idéal beau belle fort léger sombre long haut genre titre historique partie "
        "faire fait font thème genre côté esprit sorte type plein pleine nouveau nouvelle "
        "personne gens cent davantage"
    ),
    endings=(
        ("s", ""),
        ("x", ""),
        ("e", ""),
        ("es", ""),
        ("ee", "er"),
        ("ees", "er"),
        ("es", "er"),
        ("e", "er"),
        ("ez", "er"),
        ("ent", "er"),
        ("era", "er"),
        ("erez", "er"),
        ("erait", "er"),
        ("eriez", "er"),
        ("ait", "er"),
        ("ons", "er"),
        ("er", ""),
    ),
    genre_names={
        "action": "action",
        "adventure": "aventure",
        "animation": "animation animé dessin",
        "children": "enfant famille familial",
        "comedy": "comédie humour",
        "crime": "policier polar criminel crime gangster",
        "documentary": "documentaire",
        "drama": "drame dramatique",
        "fantasy": "fantastique fantasy",
        "noir": "noir",
        "horror": "horreur épouvante",
        "musical": "musical musicale",
        "mystery": "mystère",
        "romance": "romance romantique amour",
        "sci": "science fiction",
        "thriller": "thriller suspense",
        "war": "guerre",
        "western": "western",
    },
    closed=ClosedWords(
        grammar=(
            "alors ceux celui celle celles parmi beaucoup peu moins mieux pourquoi comment "
            "combien chaque quelque quelques quelqu plusieurs certains certaines rien soi eux "
            "tant tellement assez trop justement vraiment ensuite puis enfin pourtant "
            "cependant toutefois sinon quant afin lors dès malgré sauf hors fois lequel "
            "laquelle lesquels auquel duquel devriez devrais pourras pourrais pourrez vas va "
            "vont allez aller sois soit serez seras auras avais veux veut voulez toujours "
            "parfois surtout plutôt presque certainement notamment ensemble ci là chacun "
            "chacune autant tandis jusqu jusque durant"
        ),
        explaining=(
            "proposer suggérer conseiller essaie essaies offre offrira offrent offert figurer "
            "compter retrouver découvrir mériter vaut valoir séduire séduira montrer "
            "attribuer mettre mis recevoir reçu reçoit envie auditeur lecteur joueur "
            "spectateur public récit veine naturel logique prochain option chance attention "
            "drôle devenir deviendra tag tags appartenir élément candidat recommandation "
            "lecture passionnant captivant "
            "prenant émouvant touchant charmant astucieux élégant tendu"
        ),
        # The feminine of adjectives whose masculine is listed ("criminelle", "sportive").
        endings=(("elle", "el"), ("elles", "el"), ("ive", "if"), ("ives", "if"), ("ere", "er")),
    ),
    claim_words=(
        "réalisé réalisée réalisateur réalisatrice cinéaste scénario scénariste acteur acteurs "
        "actrice actrices interprété interprétée récompensé récompensée primé primée césar "
        "césars nommé adapté adaptée préquelle critiques"
    ),
    disparaging=("ennuyeux ennuyeuse nul nulle horrible stupide idiot idiots merde putain connard"),
    disparaging_prefixes=("merde",),
    label_words="étiquette étiquettes catégorie catégories",
    both_words="deux commun partagent",
    negations="pas jamais",
    meta_talk=(
        r"\ben\s+tant\s+qu['\u2019]\s*(?:ia|intelligence\s+artificielle|assistant|modèle)",
        r"\bmodèle\s+de\s+langage",
        r"\bvoici\s+(?:une|l['\u2019]|votre|ton|ta)\s*(?:[\w-]+\s+){0,2}explication",
    ),
    novelty="nouveau nouvel nouvelle nouveaux nouvelles découvrir découverte inédit inédite",
    linkers=("comme que qu parce puisque plus"),
    first_person="je j' j'ai nous",
    feedback_verbs=("noté donné aimé adoré regardé vu joué écouté lu apprécié acheté notons"),
    list_start=("comme aussi regardez regarde essayez essaie decouvrez voyez"),
    list_join="et ou",
    number_words={
        "zéro": 0.0,
        "un": 1.0,
        "une": 1.0,
        "deux": 2.0,
        "trois": 3.0,
        "quatre": 4.0,
        "cinq": 5.0,
        "six": 6.0,
        "sept": 7.0,
        "huit": 8.0,
        "neuf": 9.0,
        "dix": 10.0,
    },
    number_articles="un une",
    item_words={
        "item": ("article", "articles"),
        "movie": ("film", "films"),
        "artist": ("artiste", "artistes"),
        "band": ("groupe", "groupes"),
        "song": ("chanson", "chansons"),
        "track": ("morceau", "morceaux"),
        "album": ("album", "albums"),
        "podcast": ("podcast", "podcasts"),
        "book": ("livre", "livres"),
        "game": ("jeu", "jeux"),
        "product": ("produit", "produits"),
        "series": ("série", "séries"),
        "show": ("émission", "émissions"),
        "recipe": ("recette", "recettes"),
        "course": ("cours", "cours"),
        "restaurant": ("restaurant", "restaurants"),
        "article": ("article", "articles"),
    },
    domain_nouns={
        "screen": "film films cinéma histoire histoires intrigue",
        "books": "livre livres roman romans histoire histoires intrigue",
        "music": "chanson chansons album albums morceau morceaux groupe groupes chanteur",
        "games": "jeu jeux",
    },
    rated_openings=(
        "Vous avez noté Harbor Lights (1987) {r1}",
        "Comme vous avez donné {r2} à The Long Orbit (2011)",
    ),
    unrated_clauses=(
        "{title} fait partie de vos favoris",
        "{title} fait partie de votre historique",
        "Comme {title} fait partie de votre historique",
    ),
    few_shot_endings={
        "story": (
            ", et Paper Moons (1992) est une autre histoire de Drama et de Romance.",
            ", l'aventure Sci-Fi de Comet Season (2014) devrait vous plaire.",
        ),
        "labels": (
            ", et Paper Moons (1992) a aussi Drama et Romance.",
            ", l'aventure Sci-Fi de Comet Season (2014) devrait vous plaire.",
        ),
        "shares": (
            ", et {p1} des personnes qui l'aiment aiment aussi Paper Moons (1992).",
            "{p2} des personnes qui aiment The Long Orbit (2011) aiment aussi Comet Season (2014).",
        ),
    },
    template=Wording(
        rated="vous avez noté {title} {rating}",
        liked="vous avez aimé {title}",
        top="{title} fait partie de vos favoris",
        in_history="{title} fait partie de votre historique",
        lead="{recommended} est recommandé parce que {clause}",
        shared=" et que les deux {items} ont {labels} en commun.",
        also=", et {percent} des personnes qui l'aiment aiment aussi {recommended}.",
        closest=", et aucun de vos {items} ne lui ressemble davantage.",
        generic="Recommandé parce qu'il ressemble à ce que vous avez aimé.",
        generic_history="Recommandé parce qu'il ressemble à votre historique.",
        conjunction="et",
        decimal_comma=True,
    ),
    second_person="tu te t toi ton ta tes vous votre vos",
    already="déjà",
    first_person_endings=("ons",),
    former="premier première",
    latter="second seconde deuxième",
    majority=(
        r"\b(?:presque|quasiment|pratiquement)\s+tou(?:s|tes)\b",
        r"\bla\s+plupart\b|\bla\s+(?:grande\s+)?majorité\b",
    ),
    reader_judged=(r"\baussi\s+\w+\s+que\s+(?:toi|vous)\b",),
)
