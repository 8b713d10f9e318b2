"""Table 4: event characteristics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import IntArray, _as_int


def dominant_event_types(label_probs: ArrayLike) -> IntArray:
    """Dominant event type per clip: argmax over heads of the softmax probability of the
    clip's true label.

    label_probs: (N, H) with H = len(EVENT_TYPES) in head order. Ties go to the earlier head;
    rows with any NaN (no usable prediction) get -1. Returns (N,) head indices.
    """
    p = np.asarray(label_probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"label_probs must be (N, H), got shape {p.shape}")
    if p.shape[1] == 0:
        raise ValueError("label_probs has no head column")
    bad = np.asarray(np.isnan(p).any(axis=1), dtype=np.bool_)
    out = np.argmax(np.where(bad[:, None], 0.0, p), axis=1).astype(np.int64)
    out[bad] = -1
    return out


def category_event_types(clip_types: ArrayLike, clip_category: ArrayLike, n_categories: int, n_types: int) -> IntArray:
    """A category's event type: the majority over its clips' dominant types.

    clip_types: (N,) type indices (-1 = unknown, ignored); clip_category: (N,) category
    indices. Ties go to the earlier type; categories without a typed clip get -1. Returns (C,).
    """
    t = _as_int(clip_types, "clip_types", 1)
    cat = _as_int(clip_category, "clip_category", 1)
    if t.shape != cat.shape:
        raise ValueError("clip_types and clip_category differ in length")
    keep = t >= 0
    if keep.any() and (t[keep].max() >= n_types or cat[keep].min() < 0 or cat[keep].max() >= n_categories):
        raise ValueError("a type or category index is out of range")
    votes = np.bincount(cat[keep] * n_types + t[keep], minlength=n_categories * n_types).reshape(n_categories, n_types)
    out = votes.argmax(axis=1).astype(np.int64)
    out[votes.sum(axis=1) == 0] = -1
    return out


def event_type_counts(category_types: ArrayLike, n_types: int) -> IntArray:
    """Table 4 row: number of categories per event type, (T,); untyped (-1) ones are skipped."""
    t = _as_int(category_types, "category_types", 1)
    return np.bincount(t[t >= 0], minlength=n_types).astype(np.int64)
