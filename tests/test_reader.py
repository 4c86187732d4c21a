"""The independent reader (benchmarks/reader.py): each flag fires on a bad text and stays
silent on a good text of the same shape, so a count in its report means what it says."""

import json

import pytest

from benchmarks import reader

HEAT = ("Heat (1995)", ["Action", "Crime", "Thriller"])
DIE_HARD = ("Die Hard (1988)", ["Action", "Crime", "Thriller"], 4.5, 0.42)
MATRIX = ("Matrix, The (1999)", ["Action", "Sci-Fi", "Thriller"], 5.0, 0.3)


def line(
    text,
    *,
    language="en",
    rec=HEAT,
    evidence=(DIE_HARD,),
    feedback="explicit",
    word="movie",
    source="llm",
):
    return {
        "catalog": "test",
        "item_word": word,
        "language": language,
        "feedback": feedback,
        "recommended": {"item_id": "r", "title": rec[0], "labels": list(rec[1])},
        "evidence": [
            {"item_id": str(i), "title": t, "labels": list(lab), "rating": r, "also_share": s}
            for i, (t, lab, r, s) in enumerate(evidence)
        ],
        "text": text,
        "source": source,
        "reason": None,
    }


def flags(record):
    return {f.flag for f in reader.check(record)}


GOOD_EN = "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another crime thriller."
GOOD_DE = (
    "Du hast Die Hard (1988) mit 4,5/5 bewertet, und Heat (1995) ist wieder ein Krimi-Thriller."
)


@pytest.mark.parametrize(("text", "language"), [(GOOD_EN, "en"), (GOOD_DE, "de")])
def test_good_text_is_silent(text, language):
    assert flags(line(text, language=language)) == set()


@pytest.mark.parametrize(
    ("bad", "good", "language"),
    [
        (
            "Heat (1995) is another none genre film like Die Hard (1988).",
            "Heat (1995) is another crime film like Die Hard (1988).",
            "en",
        ),
        (
            "Heat (1995) ist wie Die Hard (1988) ein Film mit dem Genre keine.",
            "Heat (1995) ist wie Die Hard (1988) kein Film für schwache Nerven, keine Frage.",
            "de",
        ),
        (
            "Heat (1995) est, comme Die Hard (1988), un film sans aucun genre.",
            "Heat (1995) est, comme Die Hard (1988), un film policier.",
            "fr",
        ),
    ],
)
def test_none_word(bad, good, language):
    assert "none_word" in flags(line(bad, language=language))
    assert "none_word" not in flags(line(good, language=language))


@pytest.mark.parametrize(
    ("bad", "good", "language"),
    [
        (
            "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another horror comedy.",
            "You rated Die Hard (1988) 4.5/5, and Heat (1995) is another action thriller.",
            "en",
        ),
        (
            "Du hast Die Hard (1988) mit 4,5/5 bewertet; Heat (1995) ist ein Kriegsdrama.",
            "Du hast Die Hard (1988) mit 4,5/5 bewertet; Heat (1995) ist ein Actionthriller.",
            "de",
        ),
    ],
)
def test_label_not_on_item(bad, good, language):
    assert "label_not_on_item" in flags(line(bad, language=language))
    assert "label_not_on_item" not in flags(line(good, language=language))


def test_label_variants_and_title_only_catalog():
    rec = ("Inception (2010)", ["Action", "Sci-Fi"])
    ok = "You rated Matrix, The (1999) 5/5, and Inception (2010) is more Science Fiction."
    assert "label_not_on_item" not in flags(line(ok, rec=rec, evidence=(MATRIX,)))
    bare = ("Inception (2010)", [])
    assert "label_not_on_item" in flags(line(ok, rec=bare, evidence=(MATRIX,)))


def test_foreign_domain_noun():
    rec = ("Tizer", ["jazz"])
    ev = (("Lesdre", ["jazz", "folk"], None, 0.3),)
    bad = "Fans of Lesdre also play Tizer, a jazz film with a great story."
    good = "Fans of Lesdre also play Tizer, another jazz artist with great songs."
    kw = {"rec": rec, "evidence": ev, "word": "artist", "feedback": "implicit"}
    assert "foreign_domain_noun" in flags(line(bad, **kw))
    assert "foreign_domain_noun" not in flags(line(good, **kw))
    de_bad = "Fans von Lesdre hören auch Tizer, ein Jazz-Film."
    de_good = "Fans von Lesdre hören auch Tizer, ebenfalls Jazz mit tollen Songs."
    assert "foreign_domain_noun" in flags(line(de_bad, language="de", **kw))
    assert "foreign_domain_noun" not in flags(line(de_good, language="de", **kw))


@pytest.mark.parametrize(
    ("bad", "good", "language"),
    [
        (
            "You rated Heat (1995) 4.5/5, and it is a crime thriller like Die Hard (1988).",
            "You rated Die Hard (1988) 4.5/5, and Heat (1995) is a crime thriller.",
            "en",
        ),
        (
            "Weil dir Heat (1995) gefallen hat, ist Die Hard (1988) ein Krimi.",
            "Weil dir Die Hard (1988) gefallen hat, könnte dir Heat (1995) gefallen.",
            "de",
        ),
    ],
)
def test_recommended_as_seen(bad, good, language):
    assert "recommended_as_seen" in flags(line(bad, language=language))
    assert "recommended_as_seen" not in flags(line(good, language=language))


def test_evidence_as_recommended():
    bad = "You rated Heat (1995) 4.5/5, so you may enjoy Die Hard (1988) too."
    good = "You rated Die Hard (1988) 4.5/5, so you may enjoy Heat (1995) too."
    assert "evidence_as_recommended" in flags(line(bad))
    assert "evidence_as_recommended" not in flags(line(good))
    assert "evidence_as_recommended" in flags(line("Try Die Hard (1988), a crime thriller."))


def test_invented_title():
    bad = 'You rated Die Hard (1988) 4.5/5; like "Lethal Weapon", Heat (1995) is a thriller.'
    assert "invented_title" in flags(line(bad))
    assert "invented_title" in flags(line("You rated Speed (1994) 4/5; Heat (1995) is a thriller."))
    assert "invented_title" in flags(line("You rated Die Hard (1987) 4.5/5; Heat (1995) too."))
    assert "invented_title" not in flags(line(GOOD_EN))
    moved = "You rated The Matrix 5/5, and Heat (1995) is another action thriller."
    assert flags(line(moved, evidence=(MATRIX,))) == set()


def test_wrong_percent_and_ratings():
    implicit = {"feedback": "implicit"}
    good = "42% of Die Hard (1988) fans also like Heat (1995)."
    assert "wrong_percent" not in flags(line(good, **implicit))
    assert "wrong_percent" in flags(line(good.replace("42", "43"), **implicit))
    assert "wrong_percent" in flags(line("Heat (1995) came out in 1995.", **implicit))
    assert "wrong_percent" in flags(line(GOOD_EN.replace("4.5/5", "4/5")))
    assert "wrong_percent" in flags(line(GOOD_DE.replace("4,5/5", "4/5"), language="de"))
    assert "wrong_percent" not in flags(line(GOOD_DE, language="de"))


def test_no_recommended_title():
    assert "no_recommended_title" in flags(line("You rated Die Hard (1988) 4.5/5; try this."))
    matrix = ("Matrix, The (1999)", ["Action", "Sci-Fi"])
    ev = (("Speed (1994)", ["Action"], 4.5, None),)
    ok = "You rated Speed (1994) 4.5/5, and The Matrix is more action."
    assert "no_recommended_title" not in flags(line(ok, rec=matrix, evidence=ev))


def test_cli_summary(tmp_path, capsys):
    audit = tmp_path / "audit.jsonl"
    rows = [line(GOOD_EN), line("Heat (1995) is a none film.", source="template"), line("x")]
    audit.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    out = tmp_path / "out.jsonl"
    assert reader.main([str(audit), "--json", str(out)]) == 0
    written = [json.loads(x) for x in out.read_text().splitlines()]
    summary = written[-1]["summary"]
    assert summary["count"] == 3 and summary["llm"] == 2 and summary["unreadable"] == 1
    assert summary["flags"]["none_word"] == {"all": 1, "llm": 0, "template": 1}
    assert summary["flags"]["no_recommended_title"]["llm"] == 1
    assert "none_word" in capsys.readouterr().out


# --- the verifier's refusals, as benchmarks.explanations records them


def test_every_refused_answer_is_kept_with_its_reason():
    import logging

    from benchmarks.explanations import Rejections

    handler, log = Rejections(), logging.getLogger("test.rejections")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        for reason, raw in [("wrong_genre", "a"), ("wrong_genre", "b"), ("not_json", "c")] * 2:
            log.debug("rejected explanation (%s): %r", reason, raw)
        log.debug("something else (%s): %r", "x", "y")
    finally:
        log.removeHandler(handler)
    assert handler.reasons == {"wrong_genre": 4, "not_json": 2}
    assert len(handler.examples["wrong_genre"]) == 3  # the README's table shows a few
    assert len(handler.refused) == 6 and handler.refused[2] == ("not_json", "c")
