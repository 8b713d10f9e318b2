"""The human-study summary (one call, one set of bootstrap weights)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.metrics._arrays import FloatArray, IntArray, _safe_divide
from evaluation.metrics.agreement import (
    _group_sums,
    agreement_counts,
    alpha_from_sums,
    alpha_item_terms,
    kappa_from_sums,
    kappa_item_terms,
)
from evaluation.metrics.bootstrap import Interval, bootstrap_intervals
from evaluation.metrics.study import StudyItems, acceptance_clip_sums, acceptance_from_sums


@dataclass(frozen=True)
class StudySummary:
    """The human-study figures with bootstrap 95% intervals over clips."""

    n_clips: int
    n_proposals: int
    n_decoys: int
    mean_proposals_per_clip: float
    acceptance: Interval
    correct_per_clip: Interval
    decoy_acceptance: Interval
    corrected_acceptance: Interval
    fleiss_kappa: Interval
    krippendorff_alpha: Interval


def study_summary(
    items: StudyItems, *, n_boot: int = 1000, seed: int = 0, unsure_as_category: bool = False
) -> StudySummary:
    """Acceptance, correct labels per clip, decoys, kappa and alpha, each with a 95% CI.

    Agreement (kappa, alpha) is over every shown item, proposals and decoys alike; see
    ``agreement_counts`` for how "unsure" is handled.
    """
    if items.n_clips < 1:
        raise ValueError("the study has no clips")
    n = items.n_clips
    acc = acceptance_clip_sums(items)
    agree = agreement_counts(items.counts, unsure_as_category=unsure_as_category)
    kappa_terms = _group_sums(kappa_item_terms(agree), items.clip, n)
    alpha_terms = _group_sums(alpha_item_terms(agree), items.clip, n)
    sums = np.concatenate([acc, kappa_terms, alpha_terms], axis=1)
    k = kappa_terms.shape[1]

    def statistic(s: FloatArray) -> FloatArray:
        kappa = kappa_from_sums(s[..., 5 : 5 + k])
        alpha = alpha_from_sums(s[..., 5 + k :])
        return np.concatenate([acceptance_from_sums(s[..., :5]), kappa[..., None], alpha[..., None]], axis=-1)

    acceptance, per_clip, decoy, corrected, kappa, alpha = bootstrap_intervals(
        sums, statistic, n_boot=n_boot, seed=seed
    )
    n_proposals = int((~items.is_decoy).sum())
    return StudySummary(
        n_clips=n,
        n_proposals=n_proposals,
        n_decoys=int(items.is_decoy.sum()),
        mean_proposals_per_clip=n_proposals / n,
        acceptance=acceptance,
        correct_per_clip=per_clip,
        decoy_acceptance=decoy,
        corrected_acceptance=corrected,
        fleiss_kappa=kappa,
        krippendorff_alpha=alpha,
    )


def acceptance_by_label(items: StudyItems, n_labels: int) -> tuple[FloatArray, IntArray]:
    """Share of each label's proposals (decoys excluded) confirmed (their consensus,
    ``StudyItems.confirmed``): ((L,) rate, (L,) proposals)."""
    proposal = ~items.is_decoy
    confirmed = items.confirmed() & proposal
    shown = np.bincount(items.label[proposal], minlength=n_labels)
    hits = np.bincount(items.label[confirmed], minlength=n_labels)
    return _safe_divide(hits, shown), shown.astype(np.int64)
