"""Spanish: every word recsplain reads or writes in Spanish."""

from serve.explain.lang.pack import ClosedWords, LanguagePack, Wording

PACK = LanguagePack(
    code="es",
    name="Spanish",
    stopwords=(
        "el la los las lo un una unos unas y o pero es son era fue ha has han tiene tienen te "
        "tu tus su sus yo él ella ellos nosotros usted de del al a en con por para sin sobre "
        "que qué porque como muy más también ambos ambas este esta estos estas ese esa le les "
        "se no gustó gusta"
    ),
    common_words=(
        "película películas film título títulos historia historias género géneros estilo "
        "ambiente clásico amor vida mundo estrellas nota personajes trama comedia drama acción "
        "aventura ciencia ficción favoritos historial"
    ),
    sentence_starters=(
        "porque como ya si te tu tus esta este estos estas dado dada prueba descubre con para "
        "después antes aquí entonces así y pero o también un una el la los las recomendado "
        "recomendada viste oscura tensa valoraste calificaste puntuaste disfrutaste amaste "
        "diste has ha dado puesto que cuando si otra otro esta aqui pues"
    ),
    function_words=(
        "el la los las lo un una unos unas al del este esta estos estas ese esa esos esas esto "
        "eso yo me mi mis tú tu tus te ti él ella ellos ellas usted ustedes le les nos nuestro "
        "su sus se sí que qué quien cual cuyo donde cuando como porque pues y e o u pero ni si "
        "sino ya a ante bajo con contra de desde en entre hacia hasta para por según sin sobre "
        "tras ser es son era eran fue fueron sido será sería estar está están estaba estado "
        "haber ha has han había he hemos hay tener tiene tienes tienen poder puede puedes "
        "pueden podría podrías deber debería no nunca jamás tampoco también muy más menos tan "
        "tanto mucho mucha muchos muchas otro otra otros otras mismo misma mismos mismas todo "
        "toda todos todas ambos ambas dos aquí así"
    ),
    explaining=(
        "menudo también igualmente eso así especialmente seguramente quizás probablemente "
        "suele suelen escuchar escuchan escuchado jugar juegan jugado "
        "gustar gusto encantar disfrutar fan favorito favoritos preferido similar parecido "
        "parecer compartir común ambiente tono estilo historia clásico valorar valoraste "
        "calificar puntuar dar diste jugar escuchar ver viste leer comprar recomendar "
        "recomendado porque también otro otra más probar encontrar ofrecer mezclar combinar "
        "reunir encajar gusto elección bueno buena excelente perfecto ideal fuerte ligero "
        "oscuro largo alto género título historial parte tema lado espíritu tipo lleno llena "
        "nuevo nueva así entre recomienda ninguno persona gente ciento quienes"
    ),
    endings=(
        ("s", ""),
        ("es", ""),
        ("a", "o"),
        ("as", "o"),
        ("os", "o"),
        ("a", "ar"),
        ("o", "ar"),
        ("an", "ar"),
        ("aron", "ar"),
        ("ara", "ar"),
        ("aria", "ar"),
        ("ado", "ar"),
        ("ada", "ar"),
        ("aste", "ar"),
        ("as", "ar"),
        ("e", "ar"),
        ("en", "ar"),
        ("ando", "ar"),
        ("e", "er"),
        ("en", "er"),
        ("a", "er"),
        ("an", "er"),
        ("ido", "er"),
        ("ia", "er"),
        ("io", "er"),
        ("er", ""),
    ),
    genre_names={
        "action": "acción",
        "adventure": "aventura",
        "animation": "animación animado",
        "children": "infantil niño familia familiar",
        "comedy": "comedia humor",
        "crime": "crimen criminal policiaco policíaco gánster",
        "documentary": "documental",
        "drama": "drama dramático",
        "fantasy": "fantasía fantástico",
        "noir": "negro noir",
        "horror": "terror horror",
        "musical": "musical",
        "mystery": "misterio",
        "romance": "romance romántico amor",
        "sci": "ciencia ficción",
        "thriller": "thriller suspense",
        "war": "guerra bélico",
        "western": "western",
    },
    closed=ClosedWords(
        grammar=(
            "entonces después antes aún aun todavía además luego quizá tal cada cualquier "
            "algún alguno alguna algunos algunas ningún ninguna nada nadie algo igual aquel "
            "aquella aquellos aquellas aquello contigo conmigo nosotros vosotros os tuyo tuya "
            "tuyos tuyas suyo suya mientras aunque durante mediante salvo excepto incluso "
            "solo sólo bien casi bastante demasiado uno una unos va vas van ir estás estoy "
            "habrá podrás podrá debes deberías sea siempre veces sobre realmente juntos "
            "junto propio propia nuestra cuál cuáles quién dónde cuándo cómo"
        ),
        explaining=(
            "prueba pruébalo pruébala dale darle darte da das dio dieron dado oportunidad opción "
            "siguiente próximo próxima apuesta segura seguro nota notas mejor mejores "
            "apreciar recibir figurar merecer vale pena línea seguir sigue siguen divertido "
            "interesar descubrir natural lógico obvio oyentes lectores jugadores espectadores "
            "público ven ves veo tag tags elemento candidato recomendación lectura "
            "emocionante absorbente apasionante conmovedor emotivo encantador ingenioso "
            "elegante tenso"
        ),
        # Verb forms of -ir verbs ("comparte", "recibió"), and an infinitive with its pronoun
        # ("gustarte", "encantarle").
        endings=(
            ("e", "ir"),
            ("en", "ir"),
            ("es", "ir"),
            ("ido", "ir"),
            ("ida", "ir"),
            ("io", "ir"),
            ("ieron", "ir"),
            *(
                (infinitive + pronoun, infinitive)
                for infinitive in ("ar", "er", "ir")
                for pronoun in ("te", "le", "lo", "la", "les", "los", "me", "nos")
            ),
        ),
    ),
    claim_words=(
        "dirigida dirigido dirigió directora cineasta protagonizada protagonizado protagonista "
        "protagonistas actriz reparto guion guionista secuela secuelas precuela premiada "
        "premiado galardonada galardonado ganó ganadora ganador nominada críticos recaudó "
        "recaudación dólares millones"
    ),
    disparaging=(
        "aburrida aburrido pésima pésimo horrible estúpido estúpida idiota idiotas mierda joder"
    ),
    disparaging_prefixes=("mierd",),
    label_words="género géneros etiqueta etiquetas categoría categorías",
    both_words="ambos ambas comparten común",
    negations="no nunca jamás",
    meta_talk=(
        r"\bcomo\s+(?:una?\s+)?(?:ia|inteligencia\s+artificial|asistente|modelo\s+de\s+lenguaje)\b",
        r"\bmodelo\s+de\s+lenguaje",
        r"\baqu[íi]\s+(?:tienes|está|va)\s+(?:una|la|tu|su)\s+(?:[\w-]+\s+){0,2}explicaci[óo]n",
    ),
    novelty="nuevo nueva nuevos nuevas descubrir descubrimiento inédito inédita",
    linkers=("como porque si más"),
    first_person="yo nosotros nosotras he hemos valoramos valoré calificamos califiqué",
    feedback_verbs=(
        "valorado calificado dado gustado encantado visto jugado escuchado "
        "leído disfrutado comprado valoramos valoré calificamos califiqué dimos di"
    ),
    list_start=("como tambien mira mire prueba pruebe descubre"),
    list_join="y o",
    number_words={
        "cero": 0.0,
        "uno": 1.0,
        "una": 1.0,
        "dos": 2.0,
        "tres": 3.0,
        "cuatro": 4.0,
        "cinco": 5.0,
        "seis": 6.0,
        "siete": 7.0,
        "ocho": 8.0,
        "nueve": 9.0,
        "diez": 10.0,
    },
    number_articles="uno una",
    item_words={
        "item": ("artículo", "artículos"),
        "movie": ("película", "películas"),
        "artist": ("artista", "artistas"),
        "band": ("banda", "bandas"),
        "song": ("canción", "canciones"),
        "track": ("pista", "pistas"),
        "album": ("álbum", "álbumes"),
        "podcast": ("pódcast", "pódcasts"),
        "book": ("libro", "libros"),
        "game": ("juego", "juegos"),
        "product": ("producto", "productos"),
        "series": ("serie", "series"),
        "show": ("programa", "programas"),
        "recipe": ("receta", "recetas"),
        "course": ("curso", "cursos"),
        "restaurant": ("restaurante", "restaurantes"),
        "article": ("artículo", "artículos"),
    },
    domain_nouns={
        "screen": "película películas cine historia historias trama",
        "books": "libro libros novela novelas historia historias trama",
        "music": "canción canciones álbum álbumes banda bandas cantante cantantes",
        "games": "juego juegos",
    },
    rated_openings=(
        "Valoraste Harbor Lights (1987) con {r1}",
        "Como valoraste The Long Orbit (2011) con {r2}",
    ),
    unrated_clauses=(
        "{title} está entre tus favoritos",
        "{title} está en tu historial",
        "Como {title} está en tu historial",
    ),
    few_shot_endings={
        "story": (
            ", y Paper Moons (1992) es otra historia de Drama y Romance.",
            ", te puede gustar la aventura Sci-Fi de Comet Season (2014).",
        ),
        "labels": (
            ", y Paper Moons (1992) también tiene Drama y Romance.",
            ", te puede gustar la aventura Sci-Fi de Comet Season (2014).",
        ),
        "shares": (
            ", y el {p1} de quienes lo disfrutan también disfruta Paper Moons (1992).",
            "El {p2} de quienes disfrutan The Long Orbit (2011) también disfruta Comet Season "
            "(2014).",
        ),
    },
    template=Wording(
        rated="valoraste {title} con {rating}",
        liked="te gustó {title}",
        top="{title} está entre tus favoritos",
        in_history="{title} está en tu historial",
        lead="Se recomienda {recommended} porque {clause}",
        shared=" y ambos tienen {labels} en común.",
        also=", y el {percent} de quienes lo disfrutan también disfruta {recommended}.",
        closest=", y ninguno de tus {items} se le parece más.",
        generic="Recomendado porque se parece a lo que te gustó.",
        generic_history="Recomendado porque se parece a tu historial.",
        conjunction="y",
        decimal_comma=True,
    ),
    second_person="tú tu tus te ti tienes",
    already="ya",
    first_person_endings=("amos", "emos", "imos"),
    former="primera primero primer",
    latter="segunda segundo",
    majority=(
        r"\b(?:casi|prácticamente)\s+tod[oa]s\b",
        r"\bla\s+(?:gran\s+)?mayor[íi]a\b",
    ),
    reader_judged=(r"\btan\s+\w+\s+como\s+t[úu]\b",),
)
