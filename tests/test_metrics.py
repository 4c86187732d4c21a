import math

import pytest

from retrieval.metrics import coverage_at_k, ndcg_at_k, ranking_metrics, recall_at_k


def test_recall_divides_by_the_smaller_of_k_and_relevant():
    recommended = [[1, 2, 3], [4, 5, 6]]
    relevant = [{2, 9}, {7, 8, 9, 10, 11}]
    # user 1: 1 hit of min(3, 2)=2 -> 0.5; user 2: 0 hits -> 0
    assert recall_at_k(recommended, relevant, 3) == pytest.approx(0.25)


def test_users_without_relevant_items_are_skipped():
    assert recall_at_k([[1], [2]], [{1}, set()], 1) == 1.0


def test_ndcg_by_hand():
    # hits at ranks 1 and 3 of 3, two relevant items
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k([[5, 6, 7]], [{5, 7}], 3) == pytest.approx(dcg / ideal)


def test_ndcg_is_one_for_a_perfect_ranking_and_zero_without_hits():
    assert ndcg_at_k([[1, 2]], [{1, 2}], 2) == pytest.approx(1.0)
    assert ndcg_at_k([[3, 4]], [{1, 2}], 2) == 0.0


def test_coverage_counts_distinct_items_in_all_top_k():
    assert coverage_at_k([[1, 2, 3], [2, 3, 4]], n_items=10, k=2) == pytest.approx(3 / 10)


def test_ranking_metrics_names_the_cutoff():
    assert set(ranking_metrics([[1]], [{1}], 5, 10)) == {"recall@10", "ndcg@10", "coverage@10"}
