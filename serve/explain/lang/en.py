"""English: every word recsplain reads or writes in English."""

from serve.explain.lang.pack import ClosedWords, LanguagePack, Wording

PACK = LanguagePack(
    code="en",
    name="English",
    stopwords=(
        "the a an and or but of to in on at for with from by about as is are was were be been "
        "it its this that these those you your i me my we our he she they them their his her "
        "him will would can could should have has had do does did not no so if because since "
        "both also too very more most than then there here what which who when where why how "
        "all any some just like up out into over such same other others only one"
    ),
    common_words=(
        "movie movies film films story stories love loved like liked enjoy enjoyed great good "
        "best better fan fans favorite favourite classic similar style tone mood genre genres "
        "title titles character characters plot world life time night day man men woman women "
        "people family friends home big little new old true real dark funny perfect fun star "
        "stars rated rating ratings comedy drama thriller horror romance crime mystery war "
        "western science fiction animated animation musical documentary wonderful beautiful "
        "amazing brilliant exciting thrilling clever smart powerful emotional touching moving "
        "heartwarming epic intense gritty stylish witty charming memorable strong simple sweet "
        "sad happy edge seat heart mind journey adventure score ending twist music song boy "
        "boys girl girls dog kids child children school city town house car road favourite "
        "favourites favorite favorites history played most listened bought read"
    ),
    sentence_starters=(
        "because since as if given having with like unlike fans fan lovers viewers anyone enjoy "
        "try watch expect discover consider check dive give pick catch explore see another both "
        "this these those it its there here your you we i recommended recommend perfect great "
        "good ideal nice when while after before based thanks for from in on at similar just "
        "plenty whoever whatever what who how why where which also plus then so and but or yet "
        "still now next ready looking craving need want love loved liked enjoyed rated gave "
        "watched saw a an the one two three four five some many much more most all each every "
        "no not nothing something everything any other others same such definitely surely "
        "certainly probably maybe perhaps hopefully clearly absolutely sure yes well indeed "
        "considering seeing knowing judging thrilling dark gritty tense intense funny charming "
        "moving fast packed full rich smart clever stylish brutal violent gripping bold "
        "heartfelt suspenseful atmospheric tight sharp cool fresh solid fine top high youll "
        "youve youre youd its thats theres heres lets dont doesnt again once being thus hence "
        "therefore whats fellow"
    ),
    function_words=(
        "a an the this that these those it its itself you your yours yourself i me my we us our "
        "they them their he him his she her who whom whose which what whatever whoever one ones "
        "something anything everything of to in on at by for from with without about as into "
        "onto over under through across after before between among around along like unlike "
        "than since until per via up out off down within beyond toward towards and or but nor "
        "so yet because although though while whereas if unless whether when where then both "
        "either neither also too be am is are was were been being have has had having do does "
        "did will would shall should can could may might must not no never none all any some "
        "each every many much more most few little less other others another such same own "
        "several plenty enough lot lots two very quite rather really just only even still again "
        "here there now already always often so how why well youll youve youre youd itll thats "
        "theres heres whats lets dont doesnt didnt isnt arent wont cant couldnt wouldnt "
        "shouldnt ive id im weve theyre"
    ),
    explaining=(
        "often usually likewise therefore especially probably perhaps maybe surely "
        "former latter set like love enjoy appreciate adore fan favorite favourite similar "
        "similarly resemble "
        "share common mood tone style story classic rate rating rated play played watch watched "
        "see seen saw listen listened hear heard read bought recommend recommended because "
        "since also another again more too next try give gave given get got earn earned score "
        "scored offer mix combine blend bring suit fit match taste pick choice bet look worth "
        "safe sure great good nice fine perfect ideal right strong solid fun funny light dark "
        "long high highly well kind sort type side sense feel vein streak spirit element theme "
        "genre title history in common closest close shared tell reason why may might probably "
        "likely way same make makes keep find found new fresh favourites thing things lover "
        "street top sound people percent"
    ),
    endings=(
        ("s", ""),
        ("es", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("ed", ""),
        ("d", ""),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("er", ""),
        ("est", ""),
        ("ers", ""),
    ),
    genre_names={
        "action": "action",
        "adventure": "adventure",
        "animation": "animation",
        "children": "children",
        "comedy": "comedy",
        "crime": "crime",
        "documentary": "documentary",
        "drama": "drama",
        "fantasy": "fantasy",
        "noir": "noir",
        "horror": "horror",
        "musical": "musical",
        "mystery": "mystery",
        "romance": "romance",
        "sci": "sci",
        "thriller": "thriller",
        "war": "war",
        "western": "western",
    },
    closed=ClosedWords(
        grammar=(
            "above below behind beside besides beneath near past upon amid despite except "
            "inside outside throughout till whichever wherever whenever however thus hence "
            "therefore myself himself herself ourselves themselves everyone everybody someone "
            "somebody anyone anybody nobody nothing whole half ought need together else ever "
            "back away yet once twice whose hes shes wasnt werent hasnt havent hadnt theyve "
            "theyll youd always sometimes mostly almost certainly definitely indeed actually "
            "simply instead otherwise anyway ours yours theirs"
        ),
        explaining=(
            "suggest suggestion option pick next natural easy obvious logical fitting welcome "
            "go take give chance spin note worth deliver offer pair sit mark rank count belong "
            "core regular work storytelling viewer listener reader player audience tag label "
            "clearly fact bit touch hint dose mix discover appeal strength recommendation "
            "candidate exciting gripping captivating moving touching charming clever stylish tense"
        ),
    ),
    claim_words=(
        "directed director directors directing helmed helm helming filmmaker filmmakers auteur "
        "starring starred actor actors actress actresses cast casting costar costars screenplay "
        "screenwriter screenwriters scripted writer novelist author authored produced producer "
        "producers composer composed cinematographer cinematography studio studios franchise "
        "franchises trilogy installment instalment sequel sequels prequel prequels remake "
        "remakes reboot spinoff adaptation adapted biopic creator creators masterminded "
        "mastermind crew voices voiced narrated narrator cameo million millions billion dollars "
        "dollar euros budget grossing oscar oscars academy award awards awarded winning winner "
        "winners won nominated nomination nominations nominee emmy emmys golden globe globes "
        "bafta cannes palme festival grammy grammys praised acclaimed acclaim critics critic "
        "critically reviewers grossing grossed blockbuster bestseller bestselling debut debuted "
        "founded formed performing toured chart charts billboard platinum"
    ),
    disparaging=(
        "boring bored dull tedious annoying awful terrible horrible worst crap crappy stupid "
        "dumb idiot idiots idiotic moron morons nerd nerds fat ugly overrated underwhelming "
        "mediocre lame pathetic garbage trash sucks sucked suck damn shit shitty fuck fucking "
        "bullshit ass asshole bitch bastard"
    ),
    disparaging_prefixes=("shit", "fuck", "bullshit"),
    label_words="genre genres tag tags label labels category categories",
    both_words="both share shares shared common",
    negations="not never",
    meta_talk=(
        r"\bas\s+an?\s+(?:ai|assistant|language\s+model)\b",
        r"\bhere(?:['\u2019]s|\s+is)\s+(?:a|an|the|your|my)\s+(?:[\w-]+\s+){0,2}explanation",
        r"\bi\s+(?:cannot|can['\u2019]t)\s+(?:browse|access|verify)",
    ),
    novelty="new newer discover discovery unseen",
    linkers=("as like than since because after if given unlike what more same similar fans"),
    first_person="i we i've we've i'd we'd",
    feedback_verbs=(
        "rated gave given liked loved watched seen played listened heard read enjoyed bought"
    ),
    list_start=("try watch see enjoy like liked love loved rated gave including also"),
    list_join="and or plus",
    number_words={
        "zero": 0.0,
        "one": 1.0,
        "two": 2.0,
        "three": 3.0,
        "four": 4.0,
        "five": 5.0,
        "six": 6.0,
        "seven": 7.0,
        "eight": 8.0,
        "nine": 9.0,
        "ten": 10.0,
    },
    number_articles="one",
    item_words={
        "item": ("item", "items"),
        "movie": ("movie", "movies"),
        "artist": ("artist", "artists"),
        "band": ("band", "bands"),
        "song": ("song", "songs"),
        "track": ("track", "tracks"),
        "album": ("album", "albums"),
        "podcast": ("podcast", "podcasts"),
        "book": ("book", "books"),
        "game": ("game", "games"),
        "product": ("product", "products"),
        "series": ("series", "series"),
        "show": ("show", "shows"),
        "recipe": ("recipe", "recipes"),
        "course": ("course", "courses"),
        "restaurant": ("restaurant", "restaurants"),
        "article": ("article", "articles"),
    },
    domain_nouns={
        "screen": "film films movie movies story stories cinema plot plots",
        "books": "book books novel novels story stories plot plots",
        "music": "song songs album albums track tracks band bands singer singers",
        "games": "game games gameplay",
    },
    rated_openings=(
        "You rated Harbor Lights (1987) {r1}",
        "Since you gave The Long Orbit (2011) {r2}",
    ),
    unrated_clauses=(
        "{title} is one of your favourites",
        "{title} is in your history",
        "Since {title} is in your history",
    ),
    few_shot_endings={
        "story": (
            ", and Paper Moons (1992) is another Drama and Romance story.",
            ", you may enjoy the Sci-Fi adventure of Comet Season (2014).",
        ),
        "labels": (
            ", and Paper Moons (1992) has Drama and Romance too.",
            ", you may enjoy the Sci-Fi adventure of Comet Season (2014).",
        ),
        "shares": (
            ", and {p1} of the people who {did} it also {did} Paper Moons (1992).",
            "{p2} of the people who {did} The Long Orbit (2011) also {did} Comet Season (2014).",
        ),
    },
    template=Wording(
        rated="you rated {title} {rating}",
        liked="you liked {title}",
        top="{title} is among your favourites",
        in_history="{title} is in your history",
        lead="{recommended} is recommended because {clause}",
        shared=" and both {items} have {labels} in common.",
        also=", and {percent} of the people who {did} it also {did} {recommended}.",
        closest=", and no other of your {items} is more like it.",
        generic="Recommended because it is similar to {items} you liked.",
        generic_history="Recommended because it is similar to {items} in your history.",
        conjunction="and",
        decimal_comma=False,
        top_action="{title} is among your most {action}",
        did_action="you {action} {title}",
        generic_action="Recommended because it is similar to {items} you {action}.",
    ),
    second_person="you your yours yourself you've you'd you'll youve youd youll",
    already="already",
    former="former",
    latter="latter",
    majority=(
        r"\b(?:nearly|almost|virtually|practically)\s+(?:every(?:one|body)|all)\b",
        r"\bmost\s+(?:people|fans|listeners|viewers|players|readers|users|of\s+(?:the|those))\b",
        r"\b(?:everyone|everybody)\s+who\b|\bthe\s+(?:vast\s+)?majority\b",
    ),
    reader_judged=(r"\bas\s+(?!much\b|many\b|well\b|often\b|soon\b|far\b|long\b)\w+\s+as\s+you\b",),
)
