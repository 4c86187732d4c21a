"""The served model is chosen on validation, served exactly as evaluated, and item-item models
give the same answers stored, loaded, and for an anonymous history."""

import numpy as np
import pytest
import scipy.sparse as sp

from retrieval.artifacts import load_recommender
from retrieval.baselines import EASE
from retrieval.build import build
from retrieval.config import DataConfig, ModelConfig, RetrievalConfig
from retrieval.evaluate import evaluate
from retrieval.itemitem import ItemItem, _top_per_row, learn_weights, popularity_scores
from retrieval.recommender import Query

rng = np.random.default_rng(3)


def _likes(users=60, items=30, density=0.2) -> sp.csr_matrix:
    return sp.csr_matrix((rng.random((users, items)) < density).astype(np.float32))


def test_ease_weights_with_every_neighbour_kept_score_as_the_baseline():
    likes = _likes()
    config = ModelConfig(kind="ease", ease_lambda=10.0)
    served = ItemItem.fit(likes, popularity_scores(likes), config)
    baseline = EASE(likes, 10.0).weights
    active = np.flatnonzero(np.asarray(likes.sum(axis=0)).ravel() > 0)
    expected = np.zeros(likes.shape, dtype=np.float32)
    expected[:, active] = likes[:, active] @ baseline
    assert served.active is not None  # dense: it fits the memory budget
    top = expected.max(axis=1, keepdims=True)
    assert np.allclose(served.raw_scores(likes), expected / np.where(top > 0, top, 1), atol=1e-5)


def test_ease_over_the_memory_budget_keeps_each_items_strongest_weights():
    likes = _likes(items=600, density=0.1)
    # 1 MB holds a dense 512 x 512 block, not ~600 x 600: sparse, 1 MB / (8 x items) a row.
    weights, active = learn_weights(likes, ModelConfig(kind="ease", max_weights_mb=1))
    assert active is None and weights.shape == (600, 600)
    keep = (1 << 20) // (8 * int((np.asarray(likes.sum(axis=0)) > 0).sum()))
    assert np.diff(weights.indptr).max() == keep
    whole = ItemItem.fit(likes, popularity_scores(likes), ModelConfig(kind="ease"))
    pulls = whole.pull(np.arange(600), np.arange(600))
    row = pulls[7]
    kept = np.flatnonzero(weights[7].toarray().ravel())
    assert np.abs(row[kept]).min() >= np.sort(np.abs(row))[-keep] - 1e-6


def test_each_item_keeps_only_its_strongest_weights():
    dense = np.array([[0.0, 3.0, 1.0, 2.0], [5.0, 0.0, -4.5, 1.0]], dtype=np.float32)
    # Strongest in magnitude: EASE's negative weights are kept.
    assert _top_per_row(dense, 2).tolist() == [[0, 3, 0, 2], [5, 0, -4.5, 0]]


def test_scores_are_scaled_to_one_then_blended_with_popularity():
    likes = _likes()
    popularity = popularity_scores(likes)
    assert popularity.max() == pytest.approx(1.0)
    model = ItemItem.fit(likes, popularity, ModelConfig(kind="itemknn", popularity_blend=0.5))
    raw = model.raw_scores(likes[:5])
    assert np.allclose(raw.max(axis=1), 1.0)
    assert np.allclose(model.scores(likes[:5]), raw + 0.5 * popularity)


def _pairs_data(path, users=240, pairs=40):
    """Each user likes a few whole pairs (2i, 2i+1) and one popular item: item-item recovers a
    held-out half of a pair exactly, which a popularity ranking cannot."""
    lines = ["user_id,item_id"]
    for user in range(users):
        chosen = rng.choice(pairs, size=3, replace=False)
        for pair in chosen:
            lines += [f"u{user},i{2 * pair}", f"u{user},i{2 * pair + 1}"]
        lines.append(f"u{user},pop{user % 3}")
    (path / "interactions.csv").write_text("\n".join(lines) + "\n")
    titles = [f"i{i}" for i in range(2 * pairs)] + [f"pop{i}" for i in range(3)]
    (path / "items.csv").write_text(
        "item_id,title\n" + "\n".join(f"{t},Item {t}" for t in titles) + "\n"
    )


@pytest.fixture(scope="module")
def pairs_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("pairs")
    _pairs_data(path)
    return RetrievalConfig(
        data=DataConfig(
            path=path,
            layout="generic",
            interactions={"rating": None, "timestamp": None},
            items={"list_fields": []},
        ),
        content={"cache_dir": tmp_path_factory.mktemp("embeddings")},
    )


@pytest.fixture(scope="module")
def pairs_build(pairs_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "pairs"
    return out, build(pairs_config, out, progress=False)


@pytest.fixture(scope="module")
def ease_build(pairs_config, tmp_path_factory):
    """EASE as configured, whatever the search would choose."""
    config = pairs_config.model_copy(update={"model": ModelConfig(kind="ease", ease_lambda=20.0)})
    out = tmp_path_factory.mktemp("build") / "ease"
    return out, build(config, out, progress=False, tune=False)


def test_the_build_serves_the_best_candidate_on_validation(pairs_build):
    """The best, unless a hybrid leads the best item-item model by one standard error or less."""
    _, manifest = pairs_build
    selection = manifest["selection"]
    candidates = selection["candidates"]
    best = max(candidates, key=candidates.get)
    item_item = max((n for n in candidates if not n.startswith("hybrid")), key=candidates.get)
    rule = selection["one_standard_error_rule"]
    if best.startswith("hybrid"):
        assert rule["best"] == best and rule["best_item_item"] == item_item
        assert rule["lead"] == pytest.approx(candidates[best] - candidates[item_item], abs=2e-5)
        expected = best if rule["lead"] > rule["standard_error"] else item_item
    else:
        assert rule is None
        expected = best
    assert selection["chosen"] == expected
    families = {name.split("(")[0] for name in candidates}
    assert families == {"hybrid", "ease", "itemknn"}
    # Binary feedback: the weighted item-item variants would be the same model.
    assert not any("values=weight" in name for name in candidates)
    assert manifest["config"]["model"] == selection["model"]


def test_evaluate_serves_and_scores_what_build_serves(pairs_config, pairs_build):
    _, manifest = pairs_build
    report = evaluate(pairs_config, models=("popularity", "served"))
    assert report["protocol"]["selection"]["chosen"] == manifest["selection"]["chosen"]
    assert report["models"]["served"] == pytest.approx(
        {k: v for k, v in manifest["metrics"].items() if k != "protocol"}
    )
    assert report["models"]["served"]["ndcg@10"] > report["models"]["popularity"]["ndcg@10"]


def test_an_item_item_build_loads_and_answers_as_fitted(ease_build):
    out, manifest = ease_build
    assert manifest["selection"]["chosen"] == "as configured"
    recommender, _ = load_recommender(out)
    assert recommender.item_item is not None
    everything = np.arange(len(recommender.item_ids))
    assert np.abs(recommender.item_item.pull(everything, everything)).sum() > 0
    history = recommender.user_history("u0")
    stored = recommender.recommend([Query(history)], 5)[0]
    entries = [(recommender.item_ids[i], None) for i in history.items]
    anonymous = recommender.recommend([Query(recommender.history_from_items(entries))], 5)[0]
    assert [r.item_id for r in stored] == [r.item_id for r in anonymous]
    seen = {recommender.item_ids[i] for i in history.items}
    assert not seen & {r.item_id for r in stored}
    described = recommender.describe(Query(history), [r.item_id for r in stored])
    assert [r.score for r in described] == pytest.approx([r.score for r in stored], abs=1e-5)


def test_also_share_is_the_share_of_an_items_fans_who_like_the_other(ease_build):
    recommender, _ = load_recommender(ease_build[0])
    likers = recommender.likers.toarray() > 0
    a, b = recommender.positions["i0"], recommender.positions["pop0"]
    assert likers[:, b].sum() > 2 * likers[:, a].sum()  # so the direction matters
    expected = round(float((likers[:, a] & likers[:, b]).sum() / likers[:, a].sum()), 2)
    assert recommender.also_share(a, b) == expected
    assert recommender.also_share(a, recommender.positions["i1"]) == 1.0  # a pair
    recs = recommender.recommend([Query(recommender.user_history("u1"))], 3)[0]
    for rec in recs:
        for evidence in rec.evidence:
            shared = recommender.also_share(
                recommender.positions[evidence.item_id], recommender.positions[rec.item_id]
            )
            assert evidence.also_share == shared


def test_item_item_evidence_is_what_drove_the_score(ease_build):
    """A held-out half of a pair is explained by the other half, its only strong driver."""
    recommender, _ = load_recommender(ease_build[0])
    history = recommender.history_from_items([("i4", None), ("pop0", None), ("i10", None)])
    [rec] = recommender.describe(Query(history), ["i5"])
    assert rec.evidence[0].item_id == "i4"
    sources = [recommender.positions[e.item_id] for e in rec.evidence]
    pulls = recommender.item_item.pull(sources, [recommender.positions["i5"]])[:, 0].tolist()
    assert pulls == sorted(pulls, reverse=True) and all(p > 0 for p in pulls)
