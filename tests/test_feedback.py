"""Feedback kinds: inferred from the values when not declared, and what each value weighs."""

import math

import numpy as np
import pytest

from retrieval.config import FeedbackConfig
from retrieval.feedback import (
    infer_feedback,
    positive_threshold,
    resolve_feedback,
    value_problem,
    weights,
)

MOVIELENS = np.array([0.5, 3.0, 3.5, 4.0, 5.0])


@pytest.mark.parametrize(
    ("values", "has_values", "kind", "scale"),
    [
        (MOVIELENS, True, "explicit", (0.5, 5.0)),
        (np.array([1, 2, 3, 4, 5]), True, "explicit", (1.0, 5.0)),
        (np.array([1, 7, 10, 3]), True, "explicit", (1.0, 10.0)),
        (np.array([0, 1, 10, 4]), True, "explicit", (0.0, 10.0)),  # Book-Crossing's 0-10
        (np.array([1, 13883, 350000, 2]), True, "implicit", None),  # play counts
        (np.array([0.25, 12.5, 40.0]), True, "implicit", None),  # hours
        (np.array([0.1, 2.3, 7.9, 1.0]), True, "implicit", None),  # hours, none above 10
        (np.array([1, 1, 1]), True, "binary", (0.0, 1.0)),
        (np.array([0, 1, 1]), True, "binary", (0.0, 1.0)),
        (np.array([1.0, 1.0]), False, "binary", (0.0, 1.0)),  # no value column
    ],
)
def test_the_kind_is_inferred_from_the_values(values, has_values, kind, scale):
    inferred = infer_feedback(values, has_values)
    assert (inferred.kind, inferred.scale) == (kind, scale)


def test_a_declared_kind_or_scale_overrides_the_inference(caplog):
    declared = FeedbackConfig(kind="implicit")
    assert resolve_feedback(declared, MOVIELENS).kind == "implicit"
    scale = FeedbackConfig(kind="explicit", scale=(1.0, 10.0))
    assert resolve_feedback(scale, MOVIELENS).scale == (1.0, 10.0)
    with caplog.at_level("INFO"):
        resolved = resolve_feedback(FeedbackConfig(), np.array([3, 99999]), source="plays.tsv")
    assert resolved.kind == "implicit" and "inferred from plays.tsv: implicit" in caplog.text


def test_thresholds_and_weights_per_kind():
    ratings = FeedbackConfig(kind="explicit", scale=(0.5, 5.0))
    counts = FeedbackConfig(kind="implicit")
    binary = FeedbackConfig(kind="binary", scale=(0.0, 1.0))
    assert positive_threshold(ratings, "auto") == pytest.approx(3.5)
    assert positive_threshold(binary, "auto") == 1.0
    assert 0 < positive_threshold(counts, "auto") < 1e-300
    assert positive_threshold(counts, 5.0) == 5.0  # a configured threshold wins
    assert weights(ratings, np.array([4.5])).tolist() == [4.5]
    assert weights(counts, np.array([0.0, math.e - 1])).tolist() == pytest.approx([0.0, 1.0])
    assert weights(binary, np.array([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert np.isnan(weights(binary, np.array([np.nan]))[0]), "a missing value stays missing"


def test_values_off_the_scale_are_named():
    ratings = FeedbackConfig(kind="explicit", scale=(0.5, 5.0))
    assert value_problem(ratings, 4.5) is None
    assert "outside this catalog's rating scale 0.5 to 5" in value_problem(ratings, 10.0)
    assert "negative" in value_problem(FeedbackConfig(kind="implicit"), -1.0)
    assert value_problem(FeedbackConfig(kind="implicit"), 13883.0) is None
    assert "not 0 or 1" in value_problem(FeedbackConfig(kind="binary", scale=(0, 1)), 3.0)
