"""Single-label accuracy (Table 1)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import BoolArray, FloatArray, _as_indicator, _as_int


def correct_matrix(predictions: ArrayLike, truth: ArrayLike) -> BoolArray:
    """Which predictions hit the truth.

    predictions: (N,) or (H, N) class indices, -1 for "no prediction".
    truth: (N,) class indices (single label) or (N, C) indicator (a hit is any true label).
    Returns a boolean array of the predictions' shape.
    """
    preds = np.asarray(predictions)
    if preds.ndim not in (1, 2):
        raise ValueError(f"predictions must be (N,) or (H, N), got shape {preds.shape}")
    preds = _as_int(preds, "predictions", preds.ndim)
    n = preds.shape[-1]
    truth_arr = np.asarray(truth)
    if truth_arr.ndim == 1:
        labels = _as_int(truth_arr, "truth", 1)
        if labels.shape[0] != n:
            raise ValueError(f"truth has {labels.shape[0]} clips, predictions {n}")
        if labels.size and labels.min() < 0:
            raise ValueError("truth holds a negative class index; drop unlabelled clips first")
        return (preds == labels) & (preds >= 0)
    indicator = _as_indicator(truth_arr, "truth")
    if indicator.shape[0] != n:
        raise ValueError(f"truth has {indicator.shape[0]} clips, predictions {n}")
    c = indicator.shape[1]
    if preds.size and preds.max() >= c:
        raise ValueError(f"a prediction names class {int(preds.max())} but truth has only {c} classes")
    safe = np.clip(preds, 0, max(c - 1, 0))
    rows = np.arange(n)
    return indicator[rows, safe] & (preds >= 0) if c else np.zeros(preds.shape, dtype=np.bool_)


def accuracy(predictions: ArrayLike, truth: ArrayLike) -> float:
    """Share of clips whose prediction is a true label.

    predictions: (N,) class indices (-1 = none); truth: (N,) indices or (N, C) indicator.
    Use it for one head, for a baseline's argmax, or for the vote label.
    """
    hits = correct_matrix(predictions, truth)
    return float(hits.mean()) if hits.size else float("nan")


def head_accuracies(head_predictions: ArrayLike, truth: ArrayLike) -> FloatArray:
    """Accuracy per head. head_predictions: (H, N); truth: (N,) or (N, C). Returns (H,)."""
    preds = np.asarray(head_predictions)
    if preds.ndim != 2:
        raise ValueError(f"head_predictions must be (H, N), got shape {preds.shape}")
    hits = correct_matrix(preds, truth)
    if hits.shape[1] == 0:
        return np.full(hits.shape[0], np.nan)
    return hits.mean(axis=1)
