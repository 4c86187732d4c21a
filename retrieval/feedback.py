"""What an interaction's value means (a rating, a count, a yes) and how much it should weigh.

Every other part asks this module rather than assuming a 0-5 rating: the model's confidence
weights, which interactions are positives, the API's validation and the explanations' wording.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from retrieval.config import FeedbackConfig

log = logging.getLogger(__name__)

# No common rating scale goes beyond 10; integers above it are counts.
MAX_RATING_SCALE = 10.0
# An explicit rating at this share of the scale's max or above is a positive (3.5 of 5).
POSITIVE_SHARE = 0.7


def infer_feedback(values: np.ndarray, has_values: bool = True) -> FeedbackConfig:
    """The kind (and, for ratings, the scale) that `values` look like.

    No value column, or only 0 and 1: binary. Integers beyond any rating scale, any value above
    10, or values off whole and half steps (0.1 or 7.9 hours): implicit counts or weights.
    Otherwise explicit ratings on a 0.5-5 / 1-5 scale when the largest is 5 or less, else 1-10
    (the minimum is the smallest value seen, or 1).
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not has_values or values.size == 0 or np.isin(values, (0.0, 1.0)).all():
        return FeedbackConfig(kind="binary", scale=(0.0, 1.0))
    # Ratings come in whole or half steps; 0.1 or 7.9 (hours played) are measurements.
    off_steps = not np.allclose(values * 2, np.round(values * 2))
    if values.max() > MAX_RATING_SCALE or values.min() < 0 or off_steps:
        return FeedbackConfig(kind="implicit")
    top = 5.0 if values.max() <= 5.0 else MAX_RATING_SCALE
    bottom = float(min(values.min(), 1.0))
    return FeedbackConfig(kind="explicit", scale=(bottom, top))


def resolve_feedback(
    declared: FeedbackConfig, values: np.ndarray, has_values: bool = True, source: str = "data"
) -> FeedbackConfig:
    """The declared kind and scale, with whatever is left to `auto` inferred from `values`."""
    inferred = infer_feedback(values, has_values)
    kind = inferred.kind if declared.kind == "auto" else declared.kind
    scale = declared.scale
    if kind == "explicit" and scale is None:
        scale = inferred.scale if inferred.kind == "explicit" else _span(values)
    elif kind == "binary":
        scale = (0.0, 1.0)
    elif kind == "implicit":
        scale = None
    resolved = FeedbackConfig(kind=kind, scale=scale)
    if declared.kind == "auto":
        log.info(
            "feedback inferred from %s: %s%s (set data.feedback.kind to override)",
            source,
            kind,
            f" on a {scale[0]:g}-{scale[1]:g} scale" if scale and kind == "explicit" else "",
        )
    elif declared.kind != inferred.kind:
        log.info("feedback declared %s; the values look %s", declared.kind, inferred.kind)
    if kind == "explicit" and scale[0] >= scale[1]:
        raise ValueError(f"data.feedback.scale {scale}: min must be below max")
    return resolved


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def positive_threshold(feedback: FeedbackConfig, configured: float | str | None) -> float | None:
    """The value at or above which an interaction is a positive; None: every one is.

    `auto`: 70% of an explicit scale's max (MovieLens: 3.5), 1 for binary (a 0 is a negative),
    and for counts anything above zero.
    """
    if configured != "auto":
        return configured
    if feedback.kind == "explicit":
        low, high = feedback.scale
        if low >= 0:
            return POSITIVE_SHARE * high
        return low + POSITIVE_SHARE * (high - low)
    if feedback.kind == "binary":
        return 1.0
    return math.nextafter(0.0, 1.0)


def weights(feedback: FeedbackConfig, values: np.ndarray) -> np.ndarray:
    """How much each interaction says about taste, for ALS confidence and the user's query.

    Ratings weigh what they say; counts weigh log(1 + count), the usual dampening for play
    counts (a 10,000-play artist is not 10,000 times a 1-play one); binary weighs 1.
    """
    values = np.asarray(values, dtype=np.float32)
    if feedback.kind == "implicit":
        return np.log1p(np.maximum(values, 0.0)).astype(np.float32)
    if feedback.kind == "binary":
        return np.where(np.isnan(values), np.nan, values > 0).astype(np.float32)
    return values


def value_problem(feedback: FeedbackConfig, value: float) -> str | None:
    """Why `value` cannot be a value of this feedback, or None: a rating off the declared
    scale, a negative count, a binary value other than 0 or 1."""
    if feedback.kind == "explicit":
        low, high = feedback.scale
        if not low <= value <= high:
            return f"{value:g} is outside this catalog's rating scale {low:g} to {high:g}"
    elif feedback.kind == "implicit":
        if value < 0:
            return f"{value:g} is negative; this catalog's values are counts or weights (>= 0)"
    elif value not in (0.0, 1.0):
        return f"{value:g} is not 0 or 1; this catalog's feedback is binary"
    return None


def describe(feedback: FeedbackConfig) -> dict:
    """The feedback as JSON for the manifest and /healthz."""
    out: dict = {"kind": feedback.kind}
    if feedback.kind == "explicit" and feedback.scale:
        out["scale"] = {"min": feedback.scale[0], "max": feedback.scale[1]}
    return out
