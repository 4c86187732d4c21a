import numpy as np
import scipy.sparse as sp

from retrieval.baselines import EASE, ItemKNN, top_k_unseen

X = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1]], dtype=np.float32))


def test_ease_matches_the_closed_form():
    regularization = 2.0
    inverse = np.linalg.inv(X.T.toarray() @ X.toarray() + regularization * np.eye(4))
    expected = np.eye(4) - inverse / np.diag(inverse)
    np.testing.assert_allclose(EASE(X, regularization).weights, expected, atol=1e-5)


def test_itemknn_keeps_only_the_nearest_neighbours_and_never_the_item_itself():
    knn = ItemKNN(X, neighbors=1)
    assert (np.diag(knn.similarity) == 0).all()
    assert ((knn.similarity > 0).sum(axis=0) <= 1 + 1).all()  # ties may keep two


def test_top_k_unseen_drops_seen_items_and_orders_by_score():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert top_k_unseen(scores, seen, 2) == [[1, 2]]
