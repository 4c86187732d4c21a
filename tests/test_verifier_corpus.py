"""The verifier as a security boundary, measured (issue 10): a labelled corpus of good and bad
explanations (tests/data/verifier_corpus.yaml), written from the prompt's rules and not from the
verifier's code, is checked against the production verifier built as the service builds it.

Rejection is the positive class: precision is the share of rejections that hit a bad explanation,
recall the share of bad explanations rejected. The figures go to benchmarks/results so that a run
documents where the rule-based verifier stands; the tests hold it to 0 bad accepted and at most
5% of good rejected.

The verifier was tuned on that corpus, so its score there overstates how well it catches new
attacks. A held-out corpus (tests/data/verifier_holdout.yaml), written later by someone who had
read neither the verifier's code nor the first corpus's bad cases, gives the honest measure: it
is held to floors the verifier meets today (see `test_holdout_stays_above_its_floors`), not to
perfection, and it must never be used to tune the verifier.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest

from retrieval.evidence import shared_labels
from serve.config import PROJECT_ROOT, VerifierMode, load_settings
from serve.explain.lang import LANGUAGES
from serve.explain.verifier_eval import (
    MOVIELENS,
    Case,
    CaseVocabulary,
    Catalog,
    Outcome,
    catalogs_for,
    evaluate,
    load_corpus,
    report,
)
from serve.explain.vocabulary import Vocabulary

CORPUS = Path(__file__).parent / "data" / "verifier_corpus.yaml"
REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_corpus.json"
HOLDOUT = Path(__file__).parent / "data" / "verifier_holdout.yaml"
HOLDOUT_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout.json"
# A second held-out corpus (issue 15), written blind on 2026-12-06 after the rules for
# title-only catalogs, collaborative shares and swapped roles: movies, artists by name only and
# a title-only game log, in four languages.
HOLDOUT2 = Path(__file__).parent / "data" / "verifier_holdout2.yaml"
HOLDOUT2_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout2.json"
CLOSED_HOLDOUT2_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout2_closed.json"
# A third and a fourth (issue 19, item 8), each written blind on 2026-12-07 and run once on a
# frozen verifier: movies, artists by name only, and a title-only book (1-10) or game (hours)
# catalog. The third was then tuned on (round two), so the fourth is the honest figure.
HOLDOUT3 = Path(__file__).parent / "data" / "verifier_holdout3.yaml"
HOLDOUT3_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout3.json"
CLOSED_HOLDOUT3_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout3_closed.json"
HOLDOUT4 = Path(__file__).parent / "data" / "verifier_holdout4.yaml"
HOLDOUT4_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout4.json"
CLOSED_HOLDOUT4_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout4_closed.json"
HOLDOUT5 = Path(__file__).parent / "data" / "verifier_holdout5.yaml"
HOLDOUT5_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout5.json"
CLOSED_HOLDOUT5_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout5_closed.json"
HOLDOUT6 = Path(__file__).parent / "data" / "verifier_holdout6.yaml"
HOLDOUT6_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout6.json"
CLOSED_HOLDOUT6_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout6_closed.json"
HOLDOUT7 = Path(__file__).parent / "data" / "verifier_holdout7.yaml"
HOLDOUT7_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout7.json"
CLOSED_HOLDOUT7_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout7_closed.json"
HOLDOUT8 = Path(__file__).parent / "data" / "verifier_holdout8.yaml"
HOLDOUT8_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout8.json"
CLOSED_HOLDOUT8_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout8_closed.json"
# The same corpora through the verifier's "closed" mode (serve/explain/verify/grounding.py).
CLOSED_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_corpus_closed.json"
CLOSED_HOLDOUT_REPORT = PROJECT_ROOT / "benchmarks" / "results" / "verifier_holdout_closed.json"

LABELS = ("good", "bad")
MIN_CASES_PER_LABEL = 60
MIN_HOLDOUT_CASES_PER_LABEL = 50
MIN_HOLDOUT2_CASES_PER_LABEL = 45
MIN_HOLDOUT3_CASES_PER_LABEL = 70
# Floors the verifier meets on each held-out corpus, less a small margin: a regression fails, an
# improvement raises them. The first corpus gave recall 0.72 when written, the second 0.77; since
# issue 19 (which tuned on both) they give 0.92 and 0.92, each with 2 good rejected.
HOLDOUT_MIN_RECALL = 0.89
HOLDOUT_MIN_PRECISION = 0.95
MAX_GOOD_REJECTED = 0.05
HOLDOUT2_MIN_RECALL = 0.94
HOLDOUT2_MAX_GOOD_REJECTED_RATE = 0.04
# The third, run once on the round-one verifier: recall 0.93 and 11 of 75 good rejected; after
# round two tuned on it, 0.93 and 4 of 75. The fourth, run once on the round-two verifier:
# recall 0.87 (13 of 100 bad accepted) and 10 of 80 good rejected (12.5%), against issue 19's
# goal of 0.95 and 5%; the verifier before issue 19 gave 0.70 and 10 of 80 there, round one
# 0.86 and 13. Closed mode: recall 1.0, 62 of 80 good rejected. RULES_REVISION 9 (roles read
# from the clause: the reader as subject, "already", ordinals, quantifiers of shares, numbers
# tied to ratings) then tuned on all four: holdout2 0.96 and 1 of 50, holdout3 0.97 and 1 of 75,
# holdout4 0.99 and 0 of 80, so the third and fourth no longer measure anything either.
HOLDOUT3_MIN_RECALL = 0.95
HOLDOUT3_MAX_GOOD_REJECTED = 3
HOLDOUT4_MIN_RECALL = 0.97
HOLDOUT4_MAX_GOOD_REJECTED = 2
# The fifth, written blind while revision 9 was tuned and run once on it (a movie, an artist and
# a title-only podcast catalog): recall 0.87 (13 of 101 bad accepted) and 12 of 81 good rejected;
# revision 8 gave 0.86 and 13 of 81 there. Tuning on four corpora bought 12 points on them and
# one on text they had not seen: the honest figure, and issue 19's goal still missed.
HOLDOUT5_MIN_RECALL = 0.86
HOLDOUT5_MAX_GOOD_REJECTED = 13
# The sixth, written blind (a title-only board-game catalog and a labelled recipe catalog, both
# implicit, besides MovieLens) and run once on revision 9: rules recall 0.75 (27 of 109 bad
# accepted) and 15 of 95 good rejected; closed 0.95 and 61 of 95. Closed mode's word classes
# (below), chosen without reading it, then gave 0.91 and 37 of 95: 24 fewer good ones refused,
# 5 more bad ones accepted, each of which closed mode had refused only for a word ("tag",
# "nearly", "appeal") and not for its false claim. Nothing was tuned on it since.
HOLDOUT6_MIN_RECALL = 0.74
HOLDOUT6_MAX_GOOD_REJECTED = 16
CLOSED_HOLDOUT6_MIN_RECALL = 0.9
CLOSED_HOLDOUT6_MAX_GOOD_REJECTED = 38
# The seventh, written blind (a title-only podcast catalog and a labelled book catalog rated
# 1-10, besides MovieLens) and run once on revision 9 with closed mode's word classes: rules
# recall 0.86 (15 of 106 bad accepted) and 17 of 92 good rejected; closed 0.97 and 37 of 92.
# Then tuned on (shared tags written as names, favourites on rated catalogs, superlatives over
# the catalog): rules 0.88 and 5 of 92, closed 0.96 and 30 of 92; it no longer measures anything.
HOLDOUT7_MIN_RECALL = 0.87
HOLDOUT7_MAX_GOOD_REJECTED = 6
CLOSED_HOLDOUT7_MIN_RECALL = 0.95
CLOSED_HOLDOUT7_MAX_GOOD_REJECTED = 31
# The eighth, written blind (labelled board games with plays, title-only recipes with times
# cooked, TV series rated 1-5; no MovieLens) and run once on revision 9: rules recall 0.83 and
# 22 of 95 good rejected, closed 0.95 and 62 of 95; then once on revision 10 (tuned on the
# seventh, without reading it): rules 0.82 and 15 of 95, closed 0.95 and 58 of 95. The honest
# figure; issue 19's goal (0.95 with at most 5%) missed.
HOLDOUT8_MIN_RECALL = 0.81
HOLDOUT8_MAX_GOOD_REJECTED = 16
CLOSED_HOLDOUT8_MIN_RECALL = 0.95
CLOSED_HOLDOUT8_MAX_GOOD_REJECTED = 59
# What "closed" mode achieved when its vocabulary was frozen (measured once on the held-out
# corpus, never tuned on it): on the tuning corpus no bad case accepted and 6 of 83 good ones
# rejected (translated tags: "Mathematik", "décalée"); on the held-out corpus 96 of 97 bad ones
# rejected (recall 0.99) but 28 of 71 good ones too (39%): its vocabulary is too small for
# text that is worded freely. A regression of more than a case or two fails.
CLOSED_MAX_GOOD_REJECTED = 6
CLOSED_HOLDOUT_MIN_RECALL = 0.97
# Closed mode's general word classes (lang.pack.ClosedWords: every closed-class word, a fixed
# set of recommending words and mild praise, -ir verbs and clitics in Spanish, German verb
# endings, French feminines), chosen as classes rather than from failed cases: the held-out
# corpus 18 of 71 good rejected (was 26), holdout2 3 of 50 with recall 0.97 (9, 0.99),
# holdout3 11 of 75 (47), holdout4 18 of 80 (62), holdout5 15 of 81 (49) with recall 0.98
# (0.99): the two bad cases let through say "try" to the wrong title, a rule's to catch. Of
# holdout5's 15, 10 are the rules' (a person tag written in title case, a catalog text).
CLOSED_HOLDOUT_MAX_GOOD_REJECTED_RATE = 0.28
CLOSED_HOLDOUT2_MIN_RECALL = 0.97
CLOSED_HOLDOUT2_MAX_GOOD_REJECTED = 4
CLOSED_HOLDOUT3_MIN_RECALL = 0.98
CLOSED_HOLDOUT3_MAX_GOOD_REJECTED = 12
CLOSED_HOLDOUT4_MIN_RECALL = 0.98
CLOSED_HOLDOUT4_MAX_GOOD_REJECTED = 19
CLOSED_HOLDOUT5_MIN_RECALL = 0.97
CLOSED_HOLDOUT5_MAX_GOOD_REJECTED = 16
# The bypasses issue 10 lists, by the category the corpus files them under.
ISSUE_BYPASSES = frozenset(
    {
        "lowercase_person_name",  # "by christopher nolan and won best picture"
        "sentence_start_name",  # "Nolan fans will love"
        "claim_synonym",  # "helmed by the same filmmaker"
        "wrong_genre",  # "another Horror film"
        "rating_in_words",  # "nine out of ten", "four and a half stars"
        "rating_without_scale",  # "gave Heat (1995) a 3"
        "rating_out_of_scale",  # "10/5"
        "wrong_year",  # "Heat (1996)"
        "other_title_lowercase",  # "try alien and jaws"
        "other_title_sentence_start",
        "zero_width_in_name",
        "url",
        "tag_word_abuse",  # words of a free-text user tag used as claims
    }
)
VOCABULARY_FIELDS = frozenset(field.name for field in fields(Vocabulary))
CORPORA = {
    "corpus": CORPUS,
    "holdout": HOLDOUT,
    "holdout2": HOLDOUT2,
    "holdout3": HOLDOUT3,
    "holdout4": HOLDOUT4,
    "holdout5": HOLDOUT5,
    "holdout6": HOLDOUT6,
    "holdout7": HOLDOUT7,
    "holdout8": HOLDOUT8,
}


@pytest.fixture(scope="module")
def corpora() -> dict[str, list[Case]]:
    return {name: load_corpus(path) for name, path in CORPORA.items()}


@pytest.fixture(scope="module")
def catalogs(corpora) -> dict[str, Catalog]:
    """Every catalog the corpora name, as `recsplain verifier-eval` builds them: MovieLens, the
    synthetic artists with and without labels, and the title-only game logs from their facts."""
    return catalogs_for([case for cases in corpora.values() for case in cases])


@pytest.fixture(scope="module")
def corpus(corpora) -> list[Case]:
    return corpora["corpus"]


@pytest.fixture(scope="module")
def holdout(corpora) -> list[Case]:
    return corpora["holdout"]


@pytest.fixture(scope="module")
def holdout2(corpora) -> list[Case]:
    return corpora["holdout2"]


@pytest.fixture(scope="module")
def holdout3(corpora) -> list[Case]:
    return corpora["holdout3"]


@pytest.fixture(scope="module")
def holdout4(corpora) -> list[Case]:
    return corpora["holdout4"]


@pytest.fixture(scope="module")
def holdout5(corpora) -> list[Case]:
    return corpora["holdout5"]


@pytest.fixture(scope="module")
def holdout6(corpora) -> list[Case]:
    return corpora["holdout6"]


@pytest.fixture(scope="module")
def holdout7(corpora) -> list[Case]:
    return corpora["holdout7"]


@pytest.fixture(scope="module")
def holdout8(corpora) -> list[Case]:
    return corpora["holdout8"]


@pytest.fixture(scope="module")
def outcomes(corpus, catalogs) -> list[Outcome]:
    return verify(corpus, catalogs, "rules", CORPUS, REPORT)


@pytest.fixture(scope="module")
def holdout_outcomes(holdout, catalogs) -> list[Outcome]:
    return verify(holdout, catalogs, "rules", HOLDOUT, HOLDOUT_REPORT)


@pytest.fixture(scope="module")
def holdout2_outcomes(holdout2, catalogs) -> list[Outcome]:
    return verify(holdout2, catalogs, "rules", HOLDOUT2, HOLDOUT2_REPORT)


@pytest.fixture(scope="module")
def closed_holdout2_outcomes(holdout2, catalogs) -> list[Outcome]:
    return verify(holdout2, catalogs, "closed", HOLDOUT2, CLOSED_HOLDOUT2_REPORT)


@pytest.fixture(scope="module")
def closed_outcomes(corpus, catalogs) -> list[Outcome]:
    return verify(corpus, catalogs, "closed", CORPUS, CLOSED_REPORT)


@pytest.fixture(scope="module")
def closed_holdout_outcomes(holdout, catalogs) -> list[Outcome]:
    return verify(holdout, catalogs, "closed", HOLDOUT, CLOSED_HOLDOUT_REPORT)


def _source(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def verify(
    cases: list[Case],
    catalogs: dict[str, Catalog],
    mode: VerifierMode = "rules",
    source: Path = CORPUS,
    destination: Path | None = None,
) -> list[Outcome]:
    """Every case through `recsplain verifier-eval`'s evaluation; the report, when asked for,
    is written whatever the asserts."""
    results = evaluate(cases, catalogs, mode)
    if destination is not None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report(results, _source(source), mode), indent=2, ensure_ascii=False)
        destination.write_text(text + "\n")
    return results


def test_a_case_may_override_every_field_of_a_vocabulary_and_no_other():
    """Unknown fields are refused when a corpus is read (`CaseVocabulary`); each one it takes
    must be a field of the catalog's `Vocabulary`, which it overrides."""
    assert set(CaseVocabulary.model_fields) == VOCABULARY_FIELDS


@pytest.mark.parametrize("name", list(CORPORA))
def test_corpus_is_well_formed(name, catalogs, request):
    """Ids unique, fields valid, and every fact is the catalog's row, so the catalog checks and
    the shared labels mean what they would mean in production."""
    corpus = request.getfixturevalue(name)
    ids = Counter(case.id for case in corpus)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    max_chars = load_settings().explain.max_chars
    problems = []
    for case in corpus:
        where = case.id
        if case.label not in LABELS:
            problems.append(f"{where}: label {case.label!r}")
        if case.language not in LANGUAGES:
            problems.append(f"{where}: language {case.language!r}")
        if case.category == "uncategorized" or not case.text:
            problems.append(f"{where}: category and text are required")
        if case.label == "bad" and not case.why:
            problems.append(f"{where}: a bad case says why")
        if case.label == "good" and len(case.text) >= max_chars:
            problems.append(f"{where}: a good case is under {max_chars} characters")
        catalog = catalogs.get(case.catalog)
        if catalog is None or not case.evidence:
            problems.append(f"{where}: unknown catalog or no evidence")
            continue
        for fact in case.facts():
            row = catalog.items.get(str(fact.item_id))
            if row is None or (fact.title, fact.genres, fact.tags) != (
                row["title"],
                row["genres"],
                row["tags"],
            ):
                problems.append(f"{where}: {fact.item_id} {fact.title!r} is not the catalog's")
        recommended = case.recommended
        shared = shared_labels(
            (recommended.genres or []) + (recommended.tags or []),
            [(fact.genres or []) + (fact.tags or []) for fact in case.evidence],
        )
        if case.shared_tags != shared:
            problems.append(f"{where}: shared_tags {case.shared_tags} != retriever's {shared}")
    assert not problems, "\n".join(problems)


def test_corpus_covers_the_issue(corpus):
    """Enough cases of each label, in every language, on two catalogs, and every listed bypass."""
    assert_covers(corpus, MIN_CASES_PER_LABEL)
    bad_categories = {case.category for case in corpus if case.label == "bad"}
    assert not ISSUE_BYPASSES - bad_categories, sorted(ISSUE_BYPASSES - bad_categories)


def test_holdout_covers_languages_and_catalogs(holdout, holdout2):
    assert_covers(holdout, MIN_HOLDOUT_CASES_PER_LABEL)
    assert_covers(holdout2, MIN_HOLDOUT2_CASES_PER_LABEL)


@pytest.mark.parametrize(
    ("name", "source", "reports", "floors", "closed_floors"),
    [
        (
            "holdout3",
            HOLDOUT3,
            (HOLDOUT3_REPORT, CLOSED_HOLDOUT3_REPORT),
            (HOLDOUT3_MIN_RECALL, HOLDOUT3_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT3_MIN_RECALL, CLOSED_HOLDOUT3_MAX_GOOD_REJECTED),
        ),
        (
            "holdout4",
            HOLDOUT4,
            (HOLDOUT4_REPORT, CLOSED_HOLDOUT4_REPORT),
            (HOLDOUT4_MIN_RECALL, HOLDOUT4_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT4_MIN_RECALL, CLOSED_HOLDOUT4_MAX_GOOD_REJECTED),
        ),
        (
            "holdout5",
            HOLDOUT5,
            (HOLDOUT5_REPORT, CLOSED_HOLDOUT5_REPORT),
            (HOLDOUT5_MIN_RECALL, HOLDOUT5_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT5_MIN_RECALL, CLOSED_HOLDOUT5_MAX_GOOD_REJECTED),
        ),
        (
            "holdout6",
            HOLDOUT6,
            (HOLDOUT6_REPORT, CLOSED_HOLDOUT6_REPORT),
            (HOLDOUT6_MIN_RECALL, HOLDOUT6_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT6_MIN_RECALL, CLOSED_HOLDOUT6_MAX_GOOD_REJECTED),
        ),
        (
            "holdout7",
            HOLDOUT7,
            (HOLDOUT7_REPORT, CLOSED_HOLDOUT7_REPORT),
            (HOLDOUT7_MIN_RECALL, HOLDOUT7_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT7_MIN_RECALL, CLOSED_HOLDOUT7_MAX_GOOD_REJECTED),
        ),
        (
            "holdout8",
            HOLDOUT8,
            (HOLDOUT8_REPORT, CLOSED_HOLDOUT8_REPORT),
            (HOLDOUT8_MIN_RECALL, HOLDOUT8_MAX_GOOD_REJECTED),
            (CLOSED_HOLDOUT8_MIN_RECALL, CLOSED_HOLDOUT8_MAX_GOOD_REJECTED),
        ),
    ],
)
def test_issue_19_holdouts_hold_their_floors(
    name, source, reports, floors, closed_floors, catalogs, request
):
    """Issue 19's figures in both modes, with what gets through in benchmarks/results; each held
    to floors just below what it gave (see HOLDOUT3_*, CLOSED_HOLDOUT3_*)."""
    cases = request.getfixturevalue(name)
    assert_covers(cases, MIN_HOLDOUT3_CASES_PER_LABEL)
    rules = report(verify(cases, catalogs, "rules", source, reports[0]), _source(source))
    closed = verify(cases, catalogs, "closed", source, reports[1])
    closed = report(closed, _source(source), "closed")
    print(f"{name} rules {rules['rejection']}")
    print(f"{name} closed {closed['rejection']}")
    assert rules["rejection"]["recall"] >= floors[0], rules["rejection"]
    assert rules["rejection"]["good_rejected"] <= floors[1], rules["rejection"]
    assert closed["rejection"]["recall"] >= closed_floors[0], closed["rejection"]
    assert closed["rejection"]["good_rejected"] <= closed_floors[1], closed["rejection"]


def assert_covers(corpus: list[dict], min_per_label: int) -> None:
    """Enough cases of each label, in every language, on two catalogs."""
    labels = Counter(case.label for case in corpus)
    assert all(labels[label] >= min_per_label for label in LABELS), labels
    covered = {(case.label, case.language) for case in corpus}
    assert covered >= {(label, language) for label in LABELS for language in LANGUAGES}
    non_movie = {case.label for case in corpus if case.catalog != MOVIELENS}
    assert non_movie == set(LABELS)


def test_no_bad_explanation_is_accepted(outcomes):
    bad = [o for o in outcomes if o.case.label == "bad"]
    accepted = [o for o in bad if o.ok]
    if accepted:
        pytest.fail(
            f"{len(accepted)} of {len(bad)} bad explanations accepted:\n"
            + "\n".join(f"  {o.case.id} ({o.case.category}): {o.case.text!r}" for o in accepted)
        )


def test_few_good_explanations_are_rejected(outcomes):
    good = [o for o in outcomes if o.case.label == "good"]
    rejected = [o for o in good if not o.ok]
    if len(rejected) > MAX_GOOD_REJECTED * len(good):
        pytest.fail(
            f"{len(rejected)} of {len(good)} good explanations rejected "
            f"(at most {MAX_GOOD_REJECTED:.0%}):\n"
            + "\n".join(f"  {o.case.id} ({o.case.category}): {o.reason}" for o in rejected)
        )


def test_holdout_stays_above_its_floors(holdout_outcomes):
    """The honest measure. When the held-out corpus was written (97 bad, 71 good) the verifier
    rejected 70 bad and 2 good: recall 0.72, precision 0.97, 2.8% of good rejected. The floors
    sit just below: three bad cases fewer caught, or two good ones more rejected, fail. What gets
    through is listed in benchmarks/results/verifier_holdout.json."""
    rejection = report(holdout_outcomes, _source(HOLDOUT))["rejection"]
    misses = "\n".join(
        f"  {o.case.id} ({o.case.category}): {o.reason or repr(o.case.text)}"
        for o in holdout_outcomes
        if not o.correct
    )
    assert rejection["recall"] >= HOLDOUT_MIN_RECALL, f"{rejection}\n{misses}"
    assert rejection["precision"] >= HOLDOUT_MIN_PRECISION, f"{rejection}\n{misses}"


def test_closed_mode_accepts_no_bad_case_of_the_corpus(closed_outcomes):
    rejection = report(closed_outcomes, _source(CORPUS), "closed")["rejection"]
    assert rejection["bad_accepted"] == 0, rejection
    assert rejection["good_rejected"] <= CLOSED_MAX_GOOD_REJECTED, rejection


def test_closed_mode_on_the_holdout(closed_holdout_outcomes, holdout_outcomes):
    """Closed mode catches nearly every held-out bad case the rules miss, and pays for it in
    good ones rejected: the trade-off `ExplainSettings.verifier` chooses."""
    closed = report(closed_holdout_outcomes, _source(HOLDOUT), "closed")["rejection"]
    rules = report(holdout_outcomes, _source(HOLDOUT))["rejection"]
    assert closed["recall"] >= CLOSED_HOLDOUT_MIN_RECALL > rules["recall"], closed
    assert closed["good_rejected_rate"] <= CLOSED_HOLDOUT_MAX_GOOD_REJECTED_RATE, closed


def test_closed_mode_on_holdout2(closed_holdout2_outcomes):
    closed = report(closed_holdout2_outcomes, _source(HOLDOUT2), "closed")["rejection"]
    assert closed["recall"] >= CLOSED_HOLDOUT2_MIN_RECALL, closed
    assert closed["good_rejected"] <= CLOSED_HOLDOUT2_MAX_GOOD_REJECTED, closed
