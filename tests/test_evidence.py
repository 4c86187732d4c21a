import numpy as np
import pytest

from retrieval.config import EvidenceConfig
from retrieval.evidence import evidence_positions, shared_labels
from retrieval.hybrid import History


def unit(*rows):
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# items 0-2 are history, 3 is recommended; 3 is close to 0, then 1, far from 2
VECTORS = unit([1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0.1, 0])


def history(positive=(True, True, True)):
    return History(
        items=np.array([0, 1, 2]),
        ratings=np.array([5.0, 4.0, 1.0], dtype=np.float32),
        positive=np.array(positive),
        weights=np.array([5.0, 4.0, 1.0], dtype=np.float32),
    )


def test_evidence_is_the_most_similar_liked_history_items_best_first():
    [triples] = evidence_positions(VECTORS, history(), [3], EvidenceConfig(min_similarity=0.5))
    assert [item for item, _, _ in triples] == [0, 1]
    assert [rating for _, rating, _ in triples] == [5.0, 4.0]
    similarities = [similarity for _, _, similarity in triples]
    assert similarities == sorted(similarities, reverse=True)
    assert similarities[0] == pytest.approx(float(VECTORS[3] @ VECTORS[0]))


def test_disliked_items_are_never_evidence_while_a_liked_one_exists():
    liked_only_two = history(positive=(False, False, True))
    [triples] = evidence_positions(VECTORS, liked_only_two, [3], EvidenceConfig())
    assert [item for item, _, _ in triples] == [2]


def test_at_least_one_and_at_most_max_items():
    [none_similar] = evidence_positions(
        VECTORS, history(), [3], EvidenceConfig(min_similarity=0.99)
    )
    assert len(none_similar) == 1
    [capped] = evidence_positions(
        VECTORS, history(), [3], EvidenceConfig(min_similarity=-1, max_items=2)
    )
    assert len(capped) == 2


def test_shared_labels_keep_the_recommended_items_order_and_ignore_case():
    shared = shared_labels(
        ["Crime", "Thriller", "thriller", "heist"], [["Drama", "THRILLER"], ["crime"]]
    )
    assert shared == ["Crime", "Thriller"]
