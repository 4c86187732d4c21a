"""The closed-vocabulary check (serve/explain/verify/grounding.py): in "closed" mode a word that no
fact, function word or explaining word accounts for is refused, whatever it says; what the
project itself writes (templates, few-shot answers) and good corpus texts still pass."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from types import SimpleNamespace

import pytest

from serve.config import ExplainSettings, load_settings
from serve.explain import prompts
from serve.explain.explanation import ExplainTask, Fact
from serve.explain.lang import LANGUAGES
from serve.explain.policy import grounding_verifier
from serve.explain.templates import template_explanation
from serve.explain.text import normalize_word, tokenize
from serve.explain.verify import grounding
from serve.explain.verify.titles import CatalogTitles
from serve.explain.verify.verifier import Verifier
from serve.explain.vocabulary import UNDECLARED, Vocabulary
from tests.test_verifier_corpus import CORPUS, catalogs, corpora, load_corpus, verify  # noqa: F401

PLAYS = Vocabulary(kind="implicit", scale=None, item="artist", items="artists", action="played")
BOUGHT = Vocabulary(kind="binary", scale=(0.0, 1.0), item="product", items="products",
                    action="bought")  # fmt: skip
TEN = Vocabulary(scale=(1.0, 10.0), item="book", items="books")
# A catalog that knows only titles (issue 15): its examples quote the share of people.
TITLE_ONLY = replace(PLAYS, labelled=False)
VOCABULARIES = {
    "ratings": UNDECLARED, "plays": PLAYS, "bought": BOUGHT, "ten": TEN, "title_only": TITLE_ONLY,
}  # fmt: skip
# A French elision ("qu'il"): the verifier reads the word after it.
ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['\u2019]", re.IGNORECASE)


@pytest.fixture(scope="module")
def verifiers(items: dict[str, dict]) -> dict[str, Verifier]:
    catalog = [(item_id, row["title"]) for item_id, row in items.items()]
    return {mode: grounding_verifier(catalog, mode=mode) for mode in ("rules", "closed")}


def fact(items: dict[str, dict], item_id: str, rating: float | None = None) -> Fact:
    row = items[item_id]
    return Fact(item_id, row["title"], tuple(row["genres"]), tuple(row["tags"]), rating, 0.1)


def heat_task(items: dict[str, dict], language: str = "en") -> ExplainTask:
    """Heat (1995) recommended because Die Hard (1988) was rated 4.5/5."""
    return ExplainTask(
        recommended=fact(items, "6"),
        evidence=(fact(items, "1036", 4.5),),
        shared_tags=("Action", "Crime", "Thriller"),
        language=language,
    )


def check(verifier: Verifier, text: str, task: ExplainTask):
    return verifier.check(json.dumps({"explanation": text}, ensure_ascii=False), task)


# Each passes every deny-list rule: only the closed vocabulary refuses it, naming the word.
UNGROUNDED = [
    (
        "plot",
        "en",
        "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another Action thriller where a cop "
        "hunts down robbers.",
        "cop",
        "unexplained_run",  # "cop hunts down robbers": four loose words in a row
    ),
    (
        "place",
        "en",
        "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another Action thriller from the "
        "streets of chicago.",
        "chicago",
        None,
    ),
    (
        "handle",
        "en",
        "You rated Die Hard (1988) 4.5/5; ask @moviebuff about Heat (1995), another Action "
        "thriller.",
        "ask",
        "unfamiliar_words",  # "moviebuff" is in no language's word list
    ),
    (
        "insult_fr",
        "fr",
        "Vous avez noté Die Hard (1988) 4,5/5 ; Heat (1995) est un thriller pour les connards.",
        "connards",
        None,
    ),
    (
        "compound_with_an_unknown_part",
        "de",
        "Du hast Die Hard (1988) mit 4,5/5 bewertet, und Heat (1995) ist ein Hafenkrimi.",
        "hafenkrimi",
        "unfamiliar_words",  # rare in German, and no part of the task
    ),
]


@pytest.mark.parametrize(
    ("language", "text", "word", "rules"),
    [case[1:] for case in UNGROUNDED],
    ids=[case[0] for case in UNGROUNDED],
)
def test_closed_mode_refuses_what_no_rule_names(items, verifiers, language, text, word, rules):
    """What no deny-list names: closed mode refuses the first loose word; rules mode refuses
    only where loose words pile up or are rare (`verify.unexplained`), else lets it through."""
    task = heat_task(items, language)
    verdict = check(verifiers["rules"], text, task)
    assert (verdict.ok, None if verdict.ok else verdict.reason) == (rules is None, rules)
    verdict = check(verifiers["closed"], text, task)
    assert (verdict.ok, verdict.reason, verdict.detail) == (False, "ungrounded_word", word)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Because you loved Die Hard (1988), Heat (1995) should be right up your street."),
        ("en", "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another Action, Crime and "
         "Thriller film."),
        ("de", "Du hast Die Hard (1988) mit 4,5/5 bewertet, und Heat (1995) ist ein Actionkrimi."),
        ("fr", "Comme vous avez aimé Die Hard (1988), ce thriller policier devrait vous plaire."),
        ("es", "Como valoraste Die Hard (1988) con 4,5/5, te gustará este thriller de crimen."),
    ],
)  # fmt: skip
def test_inflections_compounds_and_translated_genres_pass(items, verifiers, language, text):
    """ "loved" is "love", "Actionkrimi" is two genres of the task, "policier" and "crimen" are
    its genre Crime in the answer's language."""
    verdict = check(verifiers["closed"], text, heat_task(items, language))
    assert verdict.ok, (verdict.reason, verdict.detail)


def test_a_genre_translation_counts_only_for_the_task_s_genres(items, verifiers):
    """ "enfants" says Children: neither Heat (1995) nor Die Hard (1988) is one."""
    text = "Comme vous avez aimé Die Hard (1988), voici un film pour les enfants."
    verdict = check(verifiers["closed"], text, heat_task(items, "fr"))
    assert (verdict.reason, verdict.detail) == ("ungrounded_word", "enfants")


# The evidence items of tests/test_templates.py's tasks, with the shared labels they print.
TEMPLATE_TASKS = {
    "rated": ([("858", 5.0), ("47", 4.5)], ("Crime", "Drama")),
    "tags": ([("47", 4.5)], ("Thriller", "serial killer", "twist ending", "dark")),
    "unrated": ([("858", None)], ("Crime",)),
    "no_shared": ([("6", 4.0)], ()),
}


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATE_TASKS)
def test_templates_pass_in_closed_mode(items, verifiers, name, language, vocabulary):
    evidence, shared = TEMPLATE_TASKS[name]
    task = ExplainTask(
        recommended=fact(items, "16"),
        evidence=tuple(fact(items, item_id, rating) for item_id, rating in evidence),
        shared_tags=shared,
        language=language,
        vocabulary=VOCABULARIES[vocabulary],
    )
    text = template_explanation(task).text
    verdict = check(verifiers["closed"], text, task)
    assert verdict.ok, (verdict.reason, verdict.detail, text)


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_few_shot_answers_pass_in_closed_mode(language, vocabulary):
    """The answers the prompt shows the model are grounded in their own examples (checked as
    if their invented titles were the catalog)."""
    for task, _, answer in prompts.examples(VOCABULARIES[vocabulary], language):
        facts = (task.recommended, *task.evidence)
        titles = CatalogTitles((f.item_id, f.title) for f in facts)
        verifier = Verifier(titles, few_shot_titles=[], instruction_phrases=[], closed=True)
        verdict = check(verifier, answer, task)
        assert verdict.ok, (verdict.reason, verdict.detail, answer)


def test_title_less_templates_are_grounded(items):
    """A template without evidence names nothing (so it cites nothing), but every word of it is
    still allowed: the grounding check alone passes it."""
    for vocabulary in VOCABULARIES.values():
        for language in LANGUAGES:
            task = replace(heat_task(items, language), evidence=(), vocabulary=vocabulary)
            text = template_explanation(task).text
            tokens = tokenize(text)
            bare = [normalize_word(ELISION.sub("", text[t.start : t.end])) for t in tokens]
            word = grounding.ungrounded_word(tokens, bare, lambda start, end: False, task)
            assert word is None, (word, text)


def test_good_english_corpus_texts_pass(catalogs):  # noqa: F811 (the corpus fixture)
    """Every good English text of the tuning corpus passes in closed mode (the whole corpus, in
    both modes and every language, is tests/test_verifier_corpus.py's)."""
    good = [case for case in load_corpus(CORPUS) if case.label == "good" and case.language == "en"]
    verdicts = verify(good, catalogs, "closed")
    rejected = [(o.case.id, o.reason) for o in verdicts if not o.ok]
    assert len(good) >= 40 and not rejected


def test_the_setting_defaults_to_rules_and_is_typed(monkeypatch):
    assert ExplainSettings().verifier == "rules"
    monkeypatch.setenv("RECSPLAIN_EXPLAIN__VERIFIER", "closed")
    assert load_settings().explain.verifier == "closed"
    with pytest.raises(ValueError, match="verifier"):
        ExplainSettings(verifier="open")


def test_the_setting_reaches_the_offline_policy(items, default_recommender, default_artifacts):
    """`explain.verifier: closed` is what batch and precompute verify with (the ingress passes
    the same setting to the same `grounding_verifier`)."""
    from serve.explain.batch import offline_policy

    manifest = default_artifacts[1]
    text, word = UNGROUNDED[1][2], UNGROUNDED[1][3]  # the place, which rules mode lets through
    verdicts = {}
    for mode in ("rules", "closed"):
        settings = load_settings()
        explain = settings.explain.model_copy(update={"verifier": mode})
        settings = settings.model_copy(update={"explain": explain})
        engine = SimpleNamespace(generate=None)  # never called: the verifier is checked alone
        policy = offline_policy(settings, default_recommender, manifest, engine, cache_size=1)
        verdicts[mode] = check(policy.verifier, text, heat_task(items))
    assert verdicts["rules"].ok
    assert (verdicts["closed"].reason, verdicts["closed"].detail) == ("ungrounded_word", word)


def loose_words(text: str, task: ExplainTask, wide: bool) -> list[str]:
    """The ungrounded words of `text` (years and titles aside), with closed mode's vocabulary
    (`wide`) or the narrower one rules mode counts with."""
    tokens = tokenize(text)
    bare = [normalize_word(ELISION.sub("", text[t.start : t.end])) for t in tokens]
    found = grounding.ungrounded(tokens, bare, lambda start, end: False, task, wide)
    return [word for _, word in found if not word.isdigit()]


# Words of the general classes closed mode accepts (lang.pack.ClosedWords), each missing from
# the lists rules mode counts with: closed-class words ("parmi", "entonces"), recommending words
# ("natural pick", "zusagen", "opción"), the audience ("viewers") and light morphology ("hörst"
# is "hören", "gustarte" is "gustar" + "te", "criminelle" is "criminel").
GENERAL = [
    ("en", "You rated Die Hard (1988) 4.5/5, so Heat (1995) is a natural pick for viewers who "
     "like it.", ["natural", "viewers"]),
    ("de", "Weil du Die Hard (1988) mit 4,5/5 bewertet hast, probier Heat (1995): ein Krimi, "
     "der dir zusagen dürfte.", ["probier", "zusagen"]),
    ("de", "Wenn du Die Hard (1988) mit 4,5/5 bewertet hast, hörst du sicher gern von Heat "
     "(1995).", ["horst"]),
    ("fr", "Parmi tes films, Die Hard (1988) a reçu 4,5/5 ; alors Heat (1995), un thriller à "
     "l'ambiance criminelle, devrait te plaire.", ["parmi", "recu", "alors", "criminelle"]),
    ("es", "Como le diste 4,5/5 a Die Hard (1988), Heat (1995) podría gustarte: entonces es una "
     "opción segura.", ["gustarte", "entonces", "opcion", "segura"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "narrow"), GENERAL)
def test_closed_mode_accepts_the_general_word_classes(items, verifiers, language, text, narrow):
    """Closed mode passes them; rules mode's run counter still reads the narrower lists, so its
    verdicts are those it was measured with."""
    task = heat_task(items, language)
    verdict = check(verifiers["closed"], text, task)
    assert verdict.ok, (verdict.reason, verdict.detail)
    assert loose_words(text, task, wide=False) == narrow
    assert loose_words(text, task, wide=True) == []


# Words that carry new content stay refused however wide the vocabulary: people, places, plots,
# awards, studios, runtimes, prices, nutrition, player counts (the count, not "players").
CONTENT = [
    ("en", "Heat (1995) is a thriller starring a cop in Los Angeles, like Die Hard (1988).",
     ["starring", "cop", "los", "angeles"]),
    ("en", "Heat (1995) runs three hours, costs ten dollars and won an oscar.",
     ["runs", "three", "hours", "costs", "ten", "dollars", "won", "oscar"]),
    ("en", "Like Die Hard (1988), Heat (1995) is for four players, low in calories, by Pixar.",
     ["four", "low", "calories", "pixar"]),  # "players" is an audience: the count is refused
    ("de", "Heat (1995) spielt in Berlin und dauert drei Stunden, wie Die Hard (1988).",
     ["berlin", "dauert", "drei", "stunden"]),
    ("fr", "Heat (1995) raconte un braquage à Paris, primé aux Oscars, comme Die Hard (1988).",
     ["raconte", "braquage", "paris", "prime", "oscars"]),
    ("es", "Heat (1995) trata de un ladrón en Madrid y cuesta diez euros, como Die Hard (1988).",
     ["trata", "ladron", "madrid", "cuesta", "diez", "euros"]),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "content"), CONTENT)
def test_content_words_stay_ungrounded_in_closed_mode(items, language, text, content):
    assert loose_words(text, heat_task(items, language), wide=True) == content


def test_the_catalog_s_verb_passes_in_every_form(items, verifiers):
    """The catalog gives its verb as an English past tense ("cooked"): closed mode reads its
    base in every form ("cooking"), as it reads "played" in "plays"."""
    cooked = Vocabulary(kind="implicit", scale=None, item="recipe", items="recipes",
                        action="cooked")  # fmt: skip
    task = replace(heat_task(items), vocabulary=cooked)
    text = "Since you keep cooking Die Hard (1988), Heat (1995) is a recipe you may enjoy."
    assert loose_words(text, task, wide=False) == ["cooking"]
    assert loose_words(text, task, wide=True) == []
    verdict = check(verifiers["closed"], text, task)
    assert verdict.ok, (verdict.reason, verdict.detail)
