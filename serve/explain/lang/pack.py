"""What one language pack holds: every word of one explanation language, for the prompts that ask
in it, the templates that write in it and the verifier that reads it.

Word lists are written as plain strings, one word a space, as a person types them (accents and
all); their users fold them (`text.word_set`). Regex fragments are alternatives without groups
that capture, joined across the packs by their users.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    """The template sentences of one language; `{items}` and `{action}` come from the catalog's
    vocabulary.

    A sentence names the recommended item (`{recommended}`) and one history item (`{title}`),
    and gives the best true reason the catalog has: the labels both share, else the share of
    people who liked both (`{percent}`), else that no other history item is more like it."""

    rated: str  # explicit ratings: "{rating}" is quoted on the catalog's scale ("4.5/5")
    liked: str  # a history item given without a value
    top: str  # implicit: among the user's highest counts ("most played"), counts never quoted
    in_history: str  # implicit or binary, not among the highest
    lead: str  # "{recommended} is recommended because {clause}"
    shared: str
    also: str  # the collaborative share
    closest: str  # no label shared and no share known
    generic: str
    generic_history: str  # implicit or binary catalogs, where "liked" is not known
    conjunction: str
    decimal_comma: bool
    # English only: the catalog's verb ("played") makes "most played" and "you played X".
    top_action: str | None = None
    did_action: str | None = None
    generic_action: str | None = None


@dataclass(frozen=True)
class VerbLast:
    """The grammar of a language that puts the verb last and writes compounds (German): who
    did what is told by a participle after the title and an auxiliary anywhere in the clause
    ("Weil du <title> gesehen hast"), a clause starts at a conjunction, and a genre may head a
    compound ("Krimidrama")."""

    clause_conjunctions: str
    participles: str
    auxiliaries: str
    preterites: str
    compound_genre_stems: dict[str, str]  # stem: the genre it starts ("krieg": "war")


@dataclass(frozen=True)
class ClosedWords:
    """What closed mode (verify.grounding) accepts beyond `function_words` and `explaining`,
    which the rule-based run counter (verify.unexplained) was tuned with and still reads alone,
    so that widening closed mode leaves rules mode as measured.

    General classes only, never words of a particular answer: every closed-class word of the
    language (determiners, pronouns, prepositions, conjunctions, auxiliary and modal verbs and
    their forms), the fixed ways of recommending (suggest, enjoy, try, one's pick, the
    audience of a catalog: viewers, listeners) and light morphology (verb endings, clitics).
    Content stays out: people, places, plots, awards, studios, durations, prices, counts."""

    grammar: str
    explaining: str
    endings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LanguagePack:
    """Every word of one explanation language. Adding a language is one more pack (and its
    few-shot answers, which are fields here too)."""

    code: str  # "en"
    name: str  # "English", as the prompt names it

    # Reading a text (verify.languages, verify.titles): the most frequent function words, which
    # identify the language and make titles of their own words need a year; everyday words of
    # explanations (never names, maybe capitalized); capitalized words that start sentences.
    stopwords: str
    common_words: str
    sentence_starters: str
    # Closed mode (verify.grounding): every function word, how a recommendation is explained,
    # the regular endings taken off a word ((ending, what replaces it)), and the catalog's
    # genres in this language's words, keyed by the folded genre label word.
    function_words: str
    explaining: str
    endings: tuple[tuple[str, str], ...]
    genre_names: dict[str, str]
    closed: ClosedWords
    # Claims no catalog field supports (verify.claims).
    claim_words: str
    disparaging: str
    disparaging_prefixes: tuple[str, ...]  # compounds of swear words: "Scheißkomödie"
    label_words: str  # talk of labels: "genre", "tag", "category"
    both_words: str  # "both", "share", "in common"
    # Roles (verify.roles): words that negate a clause, and words that tie a title to something
    # else than a recommending cue ("as much as <title>").
    negations: str
    linkers: str
    # Words that call the recommended item new: false of an item a caller says the user has.
    novelty: str
    # The writer talking about itself or the task instead of the items ("as an AI", "here is
    # an explanation"): regular expressions, matched case-insensitively outside titles.
    meta_talk: tuple[str, ...]
    # The writer as the one who rated or liked ("we rated", "Wir haben … bewertet"): subject
    # words, and the feedback verbs that make it a claim about the evidence.
    first_person: str
    feedback_verbs: str
    # Titles (verify.titles): words that open a list of titles ("try alien and jaws"), and those
    # that join one.
    list_start: str
    list_join: str
    # Ratings (verify.ratings): number words and their values; those that are also articles.
    number_words: dict[str, float]
    number_articles: str
    # What the items are called (vocabulary): item words keyed by the English singular, as
    # (singular, plural); the nouns of each kind of catalog ("screen", "music", ...).
    item_words: dict[str, tuple[str, str]]
    domain_nouns: dict[str, str]
    # The few-shot answers (prompts): how the two answers open for a rated catalog ({r1},
    # {r2}: the ratings), for counts and yes/no (most used, in the history, "since" + in the
    # history), and how they go on, by what the catalog knows ("story", "labels", "shares").
    rated_openings: tuple[str, str]
    unrated_clauses: tuple[str, str, str]
    few_shot_endings: dict[str, tuple[str, str]]
    # The fallback sentences (templates).
    template: Wording
    # Grammar only some languages have: None where the language has none of it.
    verb_last: VerbLast | None = None
    # Roles read from the clause (verify.roles, verify.shares): the words that make the reader
    # the subject ("du", "tu", "tus"), the adverbs that put an act in the past ("schon"), the
    # endings of the writer's own verb forms ("-ons", "-amos"), the ordinals that point back
    # at the first or second title named ("the former", "la primera"), quantifiers that claim
    # most people (regex: "nearly everyone", "la mayoría"), and a judgment of the reader (regex:
    # "as simple as you").
    second_person: str = ""
    already: str = ""
    first_person_endings: tuple[str, ...] = ()
    former: str = ""
    latter: str = ""
    majority: tuple[str, ...] = ()
    reader_judged: tuple[str, ...] = ()
