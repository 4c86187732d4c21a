import numpy as np
import pytest

from retrieval.recommender import Query, UnknownItemsError, UnknownUserError


def test_an_anonymous_history_gets_what_the_stored_user_gets(default_recommender):
    rec = default_recommender
    rows = rec.interactions.filter(rec.interactions["user_id"] == "15")
    entries = list(zip(rows["item_id"].to_list(), rows["rating"].to_list(), strict=True))
    stored = rec.recommend([Query(rec.user_history("15"))], 10)[0]
    anonymous = rec.recommend([Query(rec.history_from_items(entries))], 10)[0]
    assert [r.item_id for r in stored] == [r.item_id for r in anonymous]
    assert [r.score for r in stored] == pytest.approx([r.score for r in anonymous], abs=1e-4)


def test_recommendations_skip_seen_and_excluded_items(default_recommender):
    rec = default_recommender
    history = rec.user_history("1")
    first = rec.recommend([Query(history)], 10)[0]
    excluded = [first[0].item_id, first[1].item_id]
    second = rec.recommend([Query(history, exclude_item_ids=excluded)], 10)[0]
    seen = {rec.item_ids[i] for i in history.items}
    assert not {r.item_id for r in first + second} & seen
    assert not {r.item_id for r in second} & set(excluded)
    assert [r.rank for r in second] == list(range(1, 11))


def test_evidence_comes_from_the_users_liked_history(default_recommender):
    rec = default_recommender
    history = rec.user_history("15")
    liked = {
        rec.item_ids[i]
        for i, positive in zip(history.items, history.positive, strict=True)
        if positive
    }
    for item in rec.recommend([Query(history)], 10)[0]:
        assert 1 <= len(item.evidence) <= 3
        assert {e.item_id for e in item.evidence} <= liked
        assert all(e.rating is not None and e.rating >= 3.5 for e in item.evidence)
        labels = set(rec.labels[rec.positions[item.item_id]])
        assert set(item.shared_tags) <= labels


def test_unknown_users_and_items_are_named(default_recommender):
    with pytest.raises(UnknownUserError):
        default_recommender.user_history("no-such-user")
    with pytest.raises(UnknownItemsError) as error:
        default_recommender.history_from_items([("318", 5.0), ("nope", None), ("zzz", 1.0)])
    assert error.value.item_ids == ["nope", "zzz"]


def test_a_liked_item_without_rating_counts_as_positive(default_recommender):
    history = default_recommender.history_from_items([("318", None), ("296", 1.0)])
    assert history.positive.tolist() == [True, False]
    assert np.isnan(history.ratings[0])
    recs = default_recommender.recommend([Query(history)], 3)[0]
    assert recs[0].evidence[0].item_id == "318" and recs[0].evidence[0].rating is None
