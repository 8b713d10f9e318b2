"""Label sets: union of heads, Top-K, cardinality (Table 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import BoolArray, IntArray, _as_indicator, _as_int


def indices_to_indicator(label_sets: Sequence[Sequence[int]], num_classes: int) -> BoolArray:
    """Turn N lists of class indices into an (N, C) indicator; -1 entries are ignored."""
    out = np.zeros((len(label_sets), num_classes), dtype=np.bool_)
    lengths = np.fromiter((len(s) for s in label_sets), dtype=np.int64, count=len(label_sets))
    if lengths.sum() == 0:
        return out
    rows = np.repeat(np.arange(len(label_sets)), lengths)
    cols = np.fromiter((c for s in label_sets for c in s), dtype=np.int64, count=int(lengths.sum()))
    keep = cols >= 0
    if cols.size and cols.max() >= num_classes:
        raise ValueError(f"class index {int(cols.max())} is outside [0, {num_classes})")
    out[rows[keep], cols[keep]] = True
    return out


def union_indicator(head_predictions: ArrayLike, num_classes: int) -> BoolArray:
    """The multi-label set P = union over heads of each head's top-1.

    head_predictions: (H, N) class indices (-1 = head gave nothing). Returns (N, C).
    """
    preds = _as_int(head_predictions, "head_predictions", 2)
    if preds.size and preds.max() >= num_classes:
        raise ValueError(f"class index {int(preds.max())} is outside [0, {num_classes})")
    n = preds.shape[1]
    out = np.zeros((n, num_classes), dtype=np.bool_)
    rows = np.broadcast_to(np.arange(n), preds.shape)
    keep = preds >= 0
    out[rows[keep], preds[keep]] = True
    return out


def top_k_indicators(scores: ArrayLike, ks: Sequence[int]) -> dict[int, BoolArray]:
    """Top-K label sets from scores, for several K at once.

    scores: (N, C) floats (probabilities or logits). Returns {K: (N, C) indicator} with
    exactly min(K, C) labels per clip. Ties at the K-th score go to the lower class index,
    so the result is deterministic.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be (N, C), got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError("scores hold NaN")
    n, c = s.shape
    if not ks:
        return {}
    if min(ks) < 1:
        raise ValueError("K must be at least 1")
    kmax = min(max(ks), c)
    # The kmax largest values per row, ascending (one partition, then a sort of kmax columns).
    tail = np.sort(np.partition(s, c - kmax, axis=1)[:, c - kmax :], axis=1)
    result: dict[int, BoolArray] = {}
    for k in ks:
        k_eff = min(k, c)
        if k_eff == c:
            result[k] = np.ones((n, c), dtype=np.bool_)
            continue
        kth = tail[:, kmax - k_eff][:, None]
        chosen = s >= kth
        tied = np.flatnonzero(chosen.sum(axis=1) > k_eff)
        if tied.size:  # several classes share the K-th score: keep the lower indices
            sub, sub_kth = s[tied], kth[tied]
            ties = sub == sub_kth
            need = k_eff - (sub > sub_kth).sum(axis=1, keepdims=True)
            chosen[tied] = (sub > sub_kth) | (ties & (np.cumsum(ties, axis=1) <= need))
        result[k] = chosen
    return result


def top_k_indicator(scores: ArrayLike, k: int) -> BoolArray:
    """Top-K label set from (N, C) scores as an (N, C) indicator (see ``top_k_indicators``)."""
    return top_k_indicators(scores, [k])[k]


@dataclass(frozen=True)
class Cardinality:
    """Label-set sizes: mean and histogram (``histogram[s]`` = clips with s labels)."""

    mean: float
    histogram: IntArray


def cardinality(indicator: ArrayLike, *, max_size: int | None = None) -> Cardinality:
    """Mean |P| and a histogram of |P| over clips.

    indicator: (N, C). The histogram has max(max_size, largest set) + 1 bins (0..size).
    """
    sizes = _as_indicator(indicator, "indicator").sum(axis=1)
    length = max(max_size or 0, int(sizes.max()) if sizes.size else 0) + 1
    return Cardinality(
        mean=float(sizes.mean()) if sizes.size else float("nan"),
        histogram=np.bincount(sizes, minlength=length).astype(np.int64),
    )
