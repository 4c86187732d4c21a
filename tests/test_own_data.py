"""Bring your own data, end to end, on the shipped second example: play counts of music artists
in hetrec's tab-separated `.dat` layout, no timestamps, names with unescaped quotes.

Only the YAML config in data/configs is given: the build and an honest evaluation (a seeded random
split, collaborative models beating popularity). Its explanations from the real LLM, which speak
of artists and plays, never of movies or of "13883/5", are checked by `test_batch`, whose job
runs on this catalog.
"""

from __future__ import annotations

from retrieval.evaluate import evaluate


def test_the_build_infers_nothing_it_was_told_and_records_it(music_artifacts):
    _, manifest = music_artifacts
    assert manifest["feedback"] == {"kind": "implicit"}
    assert manifest["domain"]["item"] == {"singular": "artist", "plural": "artists"}
    assert "random per user" in manifest["metrics"]["protocol"]


def test_quoted_names_are_read_as_written(music_artifacts):
    from retrieval.artifacts import load_recommender

    recommender, _ = load_recommender(music_artifacts[0])
    quoted = [title for title in recommender.titles if title.startswith('"')]
    assert quoted and all(title.count('"') == 2 for title in quoted), quoted[:3]


def test_the_evaluation_is_meaningful(music_config):
    report = evaluate(music_config, models=("popularity", "itemknn", "ease", "served"))
    protocol, models = report["protocol"], report["models"]
    assert protocol["split_strategy"] == "random" and protocol["feedback"] == {"kind": "implicit"}
    ndcg = {name: metrics["ndcg@10"] for name, metrics in models.items()}
    assert ndcg["popularity"] < max(ndcg["itemknn"], ndcg["ease"]), ndcg
    assert ndcg["served"] > ndcg["popularity"], ndcg
