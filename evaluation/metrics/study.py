"""Human study: items, majority rule, acceptance, decoys.

The rules the human study uses (the paper's "62% of predicted labels confirmed") are
documented on ``majority_confirmed`` and ``corrected_acceptance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import BoolArray, FloatArray, IntArray, _as_int, _safe_divide
from evaluation.metrics.codes import ABSENT, ANSWERS, PRESENT
from evaluation.metrics.consensus import decided


@dataclass(frozen=True)
class StudyItems:
    """The rated items of a study, as arrays.

    counts: (M, 3) answers per item, columns present / absent / unsure.
    clip: (M,) clip index in [0, n_clips) of each item.
    label: (M,) class index of each item.
    is_decoy: (M,) True for decoys, False for model proposals.
    n_clips: N, the number of clips (clips with no item still count in per-clip means).
    decision: (M,) the researcher's decision per item where one was taken (``consensus.decided``:
      1 present, 0 absent, -1 none), over the majority rule in ``confirmed``; None: no decisions.
    """

    counts: IntArray
    clip: IntArray
    label: IntArray
    is_decoy: BoolArray
    n_clips: int
    decision: IntArray | None = None

    def __post_init__(self) -> None:
        m = self.counts.shape[0]
        if self.counts.ndim != 2 or self.counts.shape[1] != len(ANSWERS):
            raise ValueError(f"counts must be (M, 3), got shape {self.counts.shape}")
        for name in ("clip", "label", "is_decoy"):
            if getattr(self, name).shape != (m,):
                raise ValueError(f"{name} must be ({m},), got shape {getattr(self, name).shape}")
        if m and (self.clip.min() < 0 or self.clip.max() >= self.n_clips):
            raise ValueError(f"clip indices must lie in [0, {self.n_clips})")
        if m and self.counts.min() < 0:
            raise ValueError("counts must be non-negative")
        if self.decision is not None and self.decision.shape != (m,):
            raise ValueError(f"decision must be ({m},), got shape {self.decision.shape}")

    def confirmed(self) -> BoolArray:
        """(M,) each item's consensus: ``majority_confirmed``, a researcher's decision over it."""
        confirmed = majority_confirmed(self.counts)
        return confirmed if self.decision is None else decided(confirmed, self.decision)

    def subset(self, keep: ArrayLike, *, clip: ArrayLike | None = None, n_clips: int | None = None) -> StudyItems:
        """The items where `keep` (M,) is True, decisions included; `clip` and `n_clips`
        re-index their clips (default: as they are)."""
        k = np.asarray(keep, dtype=bool)
        return StudyItems(
            counts=self.counts[k],
            clip=self.clip[k] if clip is None else np.asarray(clip, dtype=np.int64),
            label=self.label[k],
            is_decoy=self.is_decoy[k],
            n_clips=self.n_clips if n_clips is None else n_clips,
            decision=None if self.decision is None else self.decision[k],
        )


def answer_counts(item_index: ArrayLike, answers: ArrayLike, n_items: int) -> IntArray:
    """Count answers per item. item_index: (J,) in [0, M); answers: (J,) codes 0..2. Returns (M, 3)."""
    items = _as_int(item_index, "item_index", 1)
    codes = _as_int(answers, "answers", 1)
    if items.shape != codes.shape:
        raise ValueError("item_index and answers differ in length")
    if codes.size and (codes.min() < 0 or codes.max() >= len(ANSWERS)):
        raise ValueError("answers must be codes 0 (present), 1 (absent) or 2 (unsure)")
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"item_index must lie in [0, {n_items})")
    flat = np.bincount(items * len(ANSWERS) + codes, minlength=n_items * len(ANSWERS))
    return flat.reshape(n_items, len(ANSWERS)).astype(np.int64)


def majority_confirmed(counts: ArrayLike) -> BoolArray:
    """The majority rule: is each item confirmed by its raters?

    counts: (M, 3) present / absent / unsure. An item is confirmed when more raters said
    "present" than "absent", i.e. present > half of the decisive (non-unsure) answers.
    "Unsure" is an abstention: it counts for neither side. A tie, or an item with only
    unsure answers, is not confirmed. Returns (M,) bool.
    """
    c = np.asarray(counts)
    return c[:, PRESENT] > c[:, ABSENT]


def majority_rejected(counts: ArrayLike) -> BoolArray:
    """Mirror of ``majority_confirmed``: absent > present. Ties are neither. Returns (M,)."""
    c = np.asarray(counts)
    return c[:, ABSENT] > c[:, PRESENT]


def corrected_acceptance(acceptance: ArrayLike, decoy_acceptance: ArrayLike) -> FloatArray:
    """Acceptance corrected for raters' tendency to accept wrong labels: (a - d) / (1 - d).

    If raters confirm a wrong label with probability d (measured on decoys, labels the model
    did not propose) and a right one always, an observed acceptance a arises from a true
    share t of right proposals as a = t + (1 - t) d, hence t = (a - d) / (1 - d) (the
    classic correction for guessing). It can be negative when a < d; d = 1 gives nan.
    """
    a = np.asarray(acceptance, dtype=np.float64)
    d = np.asarray(decoy_acceptance, dtype=np.float64)
    return _safe_divide(a - d, 1.0 - d)


#: Columns of ``acceptance_clip_sums``.
ACCEPTANCE_SUMS = ("confirmed_proposals", "proposals", "confirmed_decoys", "decoys", "clips")


def acceptance_clip_sums(items: StudyItems) -> FloatArray:
    """Per clip: confirmed proposals, proposals, confirmed decoys, decoys, 1 (confirmed: the
    items' consensus, ``StudyItems.confirmed``). Returns (N, 5)."""
    confirmed = items.confirmed()
    proposal = ~items.is_decoy
    n = items.n_clips
    return np.stack(
        [
            np.bincount(items.clip, weights=confirmed & proposal, minlength=n),
            np.bincount(items.clip, weights=proposal, minlength=n),
            np.bincount(items.clip, weights=confirmed & items.is_decoy, minlength=n),
            np.bincount(items.clip, weights=items.is_decoy, minlength=n),
            np.ones(n),
        ],
        axis=1,
    ).astype(np.float64)


def acceptance_from_sums(sums: ArrayLike) -> FloatArray:
    """Acceptance statistics from summed ``acceptance_clip_sums`` columns.

    sums: (..., 5) summed over clips (the last column then counts clips). Returns (..., 4):
    acceptance (confirmed proposals / proposals), correct labels per clip (confirmed
    proposals / clips), decoy acceptance (confirmed decoys / decoys), corrected acceptance.
    """
    s = np.asarray(sums, dtype=np.float64)
    acceptance = _safe_divide(s[..., 0], s[..., 1])
    per_clip = _safe_divide(s[..., 0], s[..., 4])
    decoy = _safe_divide(s[..., 2], s[..., 3])
    return np.stack([acceptance, per_clip, decoy, corrected_acceptance(acceptance, decoy)], axis=-1)
