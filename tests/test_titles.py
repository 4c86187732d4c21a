"""Finding catalog titles in explanations: the ways titles are written, and the everyday words
that must not be taken for titles."""

from __future__ import annotations

import time

import pytest

from retrieval.config import DataConfig
from retrieval.data import load_dataset
from serve.explain.verify.titles import CatalogTitles

CATALOG = [
    ("858", "Godfather, The (1972)"),
    ("1221", "Godfather: Part II, The (1974)"),
    ("47", "Seven (a.k.a. Se7en) (1995)"),
    ("32", "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)"),
    ("293", "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)"),
    ("29", "City of Lost Children, The (Cité des enfants perdus, La) (1995)"),
    ("6", "Heat (1995)"),
    ("heat-2013", "Heat, The (2013)"),
    ("up", "Up (2009)"),
    ("it", "It (2017)"),
    ("big", "Big (1988)"),
    ("her", "Her (2013)"),
    ("iiwii", "It Is What It Is (2001)"),
    ("love-story", "Love Story (1970)"),
    ("2571", "Matrix, The (1999)"),
    ("1", "Toy Story (1995)"),
    ("260", "Star Wars: Episode IV - A New Hope (1977)"),
    ("1196", "Star Wars: Episode V - The Empire Strikes Back (1980)"),
    ("527", "Schindler's List (1993)"),
    ("dumb", "Dumb & Dumber (Dumb and Dumber) (1994)"),
    ("stranger", "Stranger Things"),
]


@pytest.fixture(scope="module")
def titles() -> CatalogTitles:
    return CatalogTitles(CATALOG)


@pytest.fixture(scope="module")
def real_titles() -> CatalogTitles:
    items = load_dataset(DataConfig()).items
    return CatalogTitles(zip(items["item_id"].to_list(), items["title"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Article inversion, with and without the year, any case.
        ("You loved The Godfather.", {"858"}),
        ("You loved The Godfather (1972).", {"858"}),
        ("You loved Godfather, The (1972).", {"858"}),
        ("You loved THE GODFATHER.", {"858"}),
        ("you loved the godfather (1972)", {"858"}),
        ("You loved Godfather.", {"858"}),
        # The longest title wins; the shorter one inside it is not reported too.
        ("You loved The Godfather: Part II.", {"1221"}),
        ("You loved The Godfather Part II and The Godfather.", {"1221", "858"}),
        # Alternate titles in parentheses.
        ("A film like Se7en.", {"47"}),
        ("A film like Seven (1995).", {"47"}),
        ("A film like Seven (a.k.a. Se7en) (1995).", {"47"}),
        ("A film like 12 Monkeys or Twelve Monkeys.", {"32"}),
        ("A film like Léon or The Professional.", {"293"}),
        ("A film like Leon: the professional.", {"293"}),
        ("A film like The City of Lost Children.", {"29"}),
        ("A film like La Cité des enfants perdus.", {"29"}),
        # Punctuation- and accent-insensitive, "&" is "and", possessives are the name.
        ("Like schindlers list.", {"527"}),
        ("Like Dumb and Dumber or Dumb & Dumber.", {"dumb"}),
        ("Like Toy-Story.", {"1"}),
        ("Like TOY STORY!", {"1"}),
        # Numbers are not what makes a title a name: "number 23" is just words.
        ("Twelve Monkeys and 12 Monkeys.", {"32"}),
        ("I rated 12 monkeys.", set()),
        # A series name is every title of the series when no title has just that name.
        ("Fans of Star Wars.", {"260", "1196"}),
        ("Fans of Star Wars (1980).", {"1196"}),
        # A title without a year in the catalog.
        ("Fans of Stranger Things.", {"stranger"}),
        # Everyday words: the year, quotes or capitals mid-sentence make them titles.
        ("You rated Heat (1995) 5/5.", {"6"}),
        ("You rated Heat 5/5.", {"6"}),
        ('You rated "Heat" 5/5.', {"6"}),
        ("You will feel the heat.", set()),
        # At a sentence start an unusual word is a title, in lower case only in a list.
        ("Heat is a classic.", {"6"}),
        ("Since it is a classic.", set()),
        ("You will love The Heat.", {"heat-2013"}),
        ("You will love the heat.", set()),
        ("Up (2009) made you cry.", {"up"}),
        ("Look Up there, It is big.", set()),
        ("It (2017) and Big (1988) and Her (2013).", {"it", "big", "her"}),
        ("You liked Big and Her.", set()),
        ('You liked "Big".', set()),
        ("It is what it is.", set()),
        ("It Is What It Is.", set()),
        ("It Is What It Is (2001).", {"iiwii"}),
        ("A love story for you.", set()),
        ("Love story fans will like it.", set()),
        ("You will like Love Story.", {"love-story"}),
        ("The Matrix is better.", {"2571"}),
        ("You liked the matrix (1999).", {"2571"}),
    ],
)
def test_mentions(titles: CatalogTitles, text: str, expected: set[str]) -> None:
    assert titles.mentions(text) == expected


def test_find_reports_spans_and_year(titles: CatalogTitles) -> None:
    text = "Both Heat (1995) and The Godfather."
    found = titles.find(text)
    assert [(text[m.start : m.end], m.with_year) for m in found] == [
        ("Heat (1995", True),
        ("The Godfather", False),
    ]


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        ("Because you rated The Godfather 5/5", "Godfather, The (1972)", True),
        ("Because you rated Se7en 5/5", "Seven (a.k.a. Se7en) (1995)", True),
        ("Because you rated Se7en 5/5", "Godfather, The (1972)", False),
        ("Because you liked Amelie", "Amelie (2001)", True),
        ("Because you liked amelie", "Amelie (2001)", True),
        ("Because amelie is sweet", "Amelie (2001)", False),
    ],
)
def test_matches_one_title(text: str, title: str, expected: bool) -> None:
    assert CatalogTitles.matches(text, title) is expected


@pytest.mark.parametrize(
    ("title", "first", "others"),
    [
        (
            "Godfather, The (1972)",
            "The Godfather (1972)",
            ["The Godfather", "Godfather, The (1972)", "Godfather, The", "Godfather"],
        ),
        ("Seven (a.k.a. Se7en) (1995)", "Seven (1995)", ["Seven", "Se7en (1995)", "Se7en"]),
        (
            "Star Maker, The (Uomo delle stelle, L') (1995)",
            "The Star Maker (1995)",
            ["L'Uomo delle stelle"],
        ),
        (
            "Star Wars: Episode IV - A New Hope (1977)",
            "Star Wars: Episode IV - A New Hope (1977)",
            ["Star Wars"],
        ),
        ("Stranger Things", "Stranger Things", []),
    ],
)
def test_display_variants(title: str, first: str, others: list[str]) -> None:
    variants = CatalogTitles.display_variants(title)
    assert variants[0] == first
    assert set(others) <= set(variants)
    assert len(variants) == len(set(variants))


@pytest.mark.parametrize(
    "text",
    [
        "It is a great movie that you will love up there.",
        "Because you loved the action and the story, you will enjoy this one too.",
        "You rated it highly, so this dark comedy with a twist ending should be a good fit.",
        "Both films share a love story set during the war, with great characters and a big heart.",
        "This is a true story about family, friends and life in a small town.",
        "Since you enjoyed the heat of the chase, this will keep you on the edge of your seat.",
        "You gave it 5 stars, and it has the same sense of humor and adventure.",
        "Fans of science fiction and time travel will find a lot to like here.",
        "Because you rated it 4 out of 5, we think you will like this one as well.",
        "The movie is about a man who goes back home to find himself.",
        "It's a wonderful life lesson about love, loss and hope.",
        "You liked it so much that you gave it a perfect score.",
        "Both are about a boy and his dog on an adventure.",
        "A classic tale of good versus evil with an unforgettable villain.",
        "Life is beautiful, and so is this film.",
        "Weil du den Film mit 5/5 bewertet hast, wird dir auch dieser gefallen.",
        "Parce que vous avez aimé ce film, celui-ci devrait vous plaire aussi.",
        "Porque te gustó esta película, también te gustará esta.",
    ],
)
def test_everyday_sentences_name_no_real_title(real_titles: CatalogTitles, text: str) -> None:
    assert real_titles.find(text) == []


def test_real_titles_are_found(real_titles: CatalogTitles) -> None:
    text = "Because you rated The Godfather 5/5, Se7en and Toy Story (1995) fit you."
    assert real_titles.mentions(text) == {"858", "47", "1"}


def test_real_catalog_builds_and_answers_fast() -> None:
    items = load_dataset(DataConfig()).items
    pairs = list(zip(items["item_id"].to_list(), items["title"].to_list(), strict=True))
    texts = [
        f"Because you rated {title} 5/5, this one with a dark twist should suit you {i}."
        for i, (_, title) in enumerate(pairs[:1000])
    ]
    started = time.perf_counter()
    titles = CatalogTitles(pairs)
    found = [titles.mentions(text) for text in texts]
    elapsed = time.perf_counter() - started
    # A guard against a quadratic build or scan (minutes), not a speed target: about 1 s alone on
    # a 2-core AVX2 EPYC, 2.05 s beside other work, so a 2 s bound failed on a busy machine.
    assert elapsed < 10.0, f"building on {len(pairs)} titles and checking 1000 took {elapsed:.2f}s"
    assert all(item_id in mentioned for (item_id, _), mentioned in zip(pairs, found, strict=False))


def test_an_expected_short_title_counts_even_at_a_sentence_start():
    """Artists are often one short word with no year: "Su is one of your most played" cites
    the artist "Su" when the explanation was asked to cite it, not when the catalog guesses."""
    text = "Su is one of your most played."
    assert not CatalogTitles([("1", "Su")]).mentions(text)
    assert CatalogTitles([("1", "Su")], expected=True).mentions(text) == {"1"}
    assert not CatalogTitles([("1", "Su")], expected=True).mentions("su is lower case.")
