import numpy as np
import pytest
import scipy.sparse as sp

from retrieval.baselines import EASE, ItemKNN, _spd_inverse, top_k_unseen

X = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1]], dtype=np.float32))


def test_ease_matches_the_closed_form():
    regularization = 2.0
    inverse = np.linalg.inv(X.T.toarray() @ X.toarray() + regularization * np.eye(4))
    expected = np.eye(4) - inverse / np.diag(inverse)
    np.testing.assert_allclose(EASE(X, regularization).weights, expected, atol=1e-5)


def test_ease_inverts_block_by_block_without_copying():
    positives = (np.random.default_rng(3).random((40, 9)) < 0.3).astype(np.float32)
    positives[:, 4] = 0.0
    gram = positives.T @ positives + 5.0 * np.eye(9)
    expected = np.linalg.inv(gram)
    matrix = gram.copy()
    inverse = _spd_inverse(matrix, block=2)
    assert np.shares_memory(inverse, matrix)
    np.testing.assert_allclose(inverse, expected, rtol=1e-10, atol=1e-12)
    ease = EASE(sp.csr_matrix(positives), 5.0)
    assert ease.active.tolist() == [0, 1, 2, 3, 5, 6, 7, 8]
    inverse = np.linalg.inv(np.delete(np.delete(gram, 4, 0), 4, 1))
    np.testing.assert_allclose(
        ease.weights, np.eye(8) - inverse / np.diag(inverse), rtol=1e-5, atol=1e-6
    )


def test_itemknn_keeps_only_the_nearest_neighbours_and_never_the_item_itself():
    knn = ItemKNN(X, neighbors=1)
    assert (knn.similarity.diagonal() == 0).all()
    assert ((knn.similarity > 0).sum(axis=0) <= 1 + 1).all()  # ties may keep two


def dense_itemknn_scores(positives: np.ndarray, neighbors: int) -> np.ndarray:
    """The textbook computation over the whole catalog, as ItemKNN did before it went sparse."""
    norms = np.sqrt((positives**2).sum(axis=0))
    normalized = positives / np.maximum(norms, 1e-12)
    similarity = (normalized.T @ normalized).astype(np.float32)
    np.fill_diagonal(similarity, 0.0)
    if neighbors < len(similarity):
        cutoff = -np.partition(-similarity, neighbors - 1, axis=0)[neighbors - 1]
        similarity[similarity < cutoff[None, :]] = 0.0
    return positives.astype(np.float32) @ similarity


@pytest.mark.parametrize("neighbors", [1, 2, 3, 50])
def test_itemknn_works_on_items_seen_in_train_and_scores_the_others_zero(neighbors, monkeypatch):
    """Items nobody has in train (columns 1 and 5) score 0; over blocks of 2 columns the scores
    are the dense computation's."""
    monkeypatch.setattr(ItemKNN, "BLOCK", 2)
    rng = np.random.default_rng(7)
    positives = (rng.random((30, 8)) < 0.4).astype(np.float32)
    positives[:, [1, 5]] = 0.0
    knn = ItemKNN(sp.csr_matrix(positives), neighbors)
    assert knn.active.tolist() == [0, 2, 3, 4, 6, 7]
    assert knn.similarity.shape == (6, 6)
    scores = knn.scores(np.arange(30))
    assert (scores[:, [1, 5]] == 0).all()
    np.testing.assert_allclose(scores, dense_itemknn_scores(positives, neighbors), rtol=1e-6)


def test_itemknn_without_positives_scores_nothing():
    knn = ItemKNN(sp.csr_matrix((3, 4), dtype=np.float32), neighbors=2)
    assert (knn.scores(np.arange(3)) == 0).all()


def test_top_k_unseen_drops_seen_items_and_orders_by_score():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert top_k_unseen(scores, seen, 2) == [[1, 2]]


def test_top_k_unseen_on_a_catalog_smaller_than_k():
    """A four-game log asked for a top-10 (a tuned build's validation did this, and failed)."""
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert top_k_unseen(scores, seen, 10) == [[1, 2, 3]]
