"""Multi-label precision / recall / F1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import BoolArray, _as_indicator, _safe_divide

AVERAGES = ("samples", "micro", "macro")


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[BoolArray, BoolArray]:
    t = _as_indicator(y_true, "y_true")
    p = _as_indicator(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    return t, p


def multilabel_prf(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> PRF:
    """Precision, recall and F1 of (N, C) indicator matrices.

    average:
      - "samples": per clip P = |T&P|/|P|, R = |T&P|/|T|, F1 = 2|T&P|/(|T|+|P|), then the
        mean over clips (the paper's Table 2 score);
      - "micro": the same ratios over all (clip, class) cells pooled;
      - "macro": per class over clips, then the unweighted mean over classes.
    zero_division: the value of a ratio whose denominator is 0 (scikit-learn's
    ``zero_division`` with the same meaning, F1 included).
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    t, p = _check_pair(y_true, y_pred)
    axis = 1 if average == "samples" else 0
    if average == "micro":
        tp = np.array([np.count_nonzero(t & p)])
        n_true = np.array([np.count_nonzero(t)])
        n_pred = np.array([np.count_nonzero(p)])
    else:
        tp = (t & p).sum(axis=axis)
        n_true = t.sum(axis=axis)
        n_pred = p.sum(axis=axis)
    precision = _safe_divide(tp, n_pred, zero_division)
    recall = _safe_divide(tp, n_true, zero_division)
    f1 = _safe_divide(2 * tp, n_true + n_pred, zero_division)
    if precision.size == 0:
        return PRF(float("nan"), float("nan"), float("nan"))
    return PRF(float(precision.mean()), float(recall.mean()), float(f1.mean()))


def f1_score(y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0) -> float:
    """F1 of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).f1


def precision_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> float:
    """Precision of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).precision


def recall_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> float:
    """Recall of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).recall


def multilabel_report(y_true: ArrayLike, y_pred: ArrayLike, *, zero_division: float = 0.0) -> dict[str, PRF]:
    """``multilabel_prf`` for every average: {"samples": PRF, "micro": PRF, "macro": PRF}."""
    t, p = _check_pair(y_true, y_pred)
    return {avg: multilabel_prf(t, p, average=avg, zero_division=zero_division) for avg in AVERAGES}
