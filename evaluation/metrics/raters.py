"""Raters: gold accuracy, decoy acceptance, time, agreement with the others."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import FloatArray, IntArray, _as_int, _safe_divide
from evaluation.metrics.codes import ABSENT, PRESENT, UNSURE


@dataclass(frozen=True)
class RaterQuality:
    """Per rater (R,): judgments, gold accuracy, decoy acceptance, agreement, median seconds."""

    n_judgments: IntArray
    gold_accuracy: FloatArray
    decoy_acceptance: FloatArray
    consensus_agreement: FloatArray
    median_seconds: FloatArray


def grouped_median(values: ArrayLike, group: ArrayLike, n_groups: int) -> FloatArray:
    """Median of values (V,) per group (V,) -> (G,), nan for empty groups; NaN values are skipped."""
    v = np.asarray(values, dtype=np.float64)
    g = _as_int(group, "group", 1)
    keep = ~np.isnan(v)
    v, g = v[keep], g[keep]
    by_group = np.argsort(g, kind="stable")
    sizes = np.bincount(g, minlength=n_groups)
    ends = np.cumsum(sizes)
    out = np.full(n_groups, np.nan)
    # A partition per group (a handful of raters over millions of ratings): one sort of every
    # value by (group, value) cost more.
    for index in np.flatnonzero(sizes):
        values_of = v[by_group[ends[index] - sizes[index] : ends[index]]]
        lo, hi = (len(values_of) - 1) // 2, len(values_of) // 2
        middle = np.partition(values_of, (lo, hi))
        out[index] = (middle[lo] + middle[hi]) / 2.0
    return out


def rater_quality(
    *,
    rater: ArrayLike,
    item: ArrayLike,
    answer: ArrayLike,
    counts: ArrayLike,
    is_decoy: ArrayLike,
    gold_truth: ArrayLike,
    n_raters: int,
    rating_rater: ArrayLike,
    rating_seconds: ArrayLike,
) -> RaterQuality:
    """Quality figures per rater.

    rater, item, answer: (J,) one entry per judgment on a shown label (rater index in
    [0, R), item index in [0, M), answer code). counts: (M, 3) all raters' answers per item.
    is_decoy: (M,). gold_truth: (M,) int, -1 for items of non-gold clips, else 1 when the
    label is among the clip's original labels and 0 when it is not.
    rating_rater, rating_seconds: (Q,) one entry per completed rating (seconds may be nan).

    - gold accuracy: share of the rater's decisive answers on gold items that match the
      original labels (present on an original label, absent on any other); unsure is skipped;
    - decoy acceptance: share of the rater's decoy judgments answered "present";
    - consensus agreement: share of the rater's decisive answers that match the majority of
      the *other* raters of the item (leave-one-out; items where the others tie or abstain
      are skipped);
    - median seconds per clip over the rater's completed ratings.
    """
    r = _as_int(rater, "rater", 1)
    i = _as_int(item, "item", 1)
    a = _as_int(answer, "answer", 1)
    c = np.asarray(counts, dtype=np.int64)
    decoy = np.asarray(is_decoy, dtype=np.bool_)[i]
    gold = _as_int(gold_truth, "gold_truth", 1)[i]
    decisive = a != UNSURE

    def per_rater(mask: np.ndarray) -> IntArray:
        # Counting the masked raters beats weighted bincount (a float per judgment, ~7M).
        return np.bincount(r[mask], minlength=n_raters)

    on_gold = (gold >= 0) & decisive
    gold_hit = on_gold & (a == np.where(gold == 1, PRESENT, ABSENT))
    gold_accuracy = _safe_divide(per_rater(gold_hit), per_rater(on_gold))
    decoy_acceptance = _safe_divide(per_rater(decoy & (a == PRESENT)), per_rater(decoy))
    # The other raters of the item: its counts less this answer, column by column (no (J, 3) copy).
    said_present, said_absent = a == PRESENT, a == ABSENT
    others_present_votes = c[:, PRESENT][i] - said_present
    others_absent_votes = c[:, ABSENT][i] - said_absent
    others_present = others_present_votes > others_absent_votes
    others_absent = others_absent_votes > others_present_votes
    del others_present_votes, others_absent_votes
    comparable = decisive & (others_present | others_absent)
    agrees = comparable & np.where(said_present, others_present, others_absent)
    agreement = _safe_divide(per_rater(agrees), per_rater(comparable))
    return RaterQuality(
        n_judgments=np.bincount(r, minlength=n_raters).astype(np.int64),
        gold_accuracy=gold_accuracy,
        decoy_acceptance=decoy_acceptance,
        consensus_agreement=agreement,
        median_seconds=grouped_median(rating_seconds, rating_rater, n_raters),
    )
