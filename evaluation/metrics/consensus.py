"""The consensus of a label and of its modality, the rules the dataset export, the study
tables and the settled queue share.

A label is in the consensus when more of the raters shown it answered present than absent
(unsure abstains); a label a rater added needs a second rater's present as well
(ADDED_MIN_PRESENT): one rater's word is not a verified label.

A label the study's researcher adjudicated takes their decision instead (``decided``):
present puts it in the consensus, absent leaves it out, whatever the votes; a present
decision that says where the label is (A / V / AV) sets its modality too.

Modality is two questions, heard? and seen?, each decided by the majority of the label's
modality votes (A counts as heard, V as seen, AV as both), a tie counting as yes: two raters
saying AV and A give AV, since half of them saw it. Each vote is heard or seen or both, so
at least one question is yes and the consensus is always one of A / V / AV.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import BoolArray, FloatArray, IntArray, _safe_divide
from evaluation.metrics.codes import MODALITIES

ADDED_MIN_PRESENT = 2
_A, _V, _AV = (MODALITIES.index(code) for code in ("A", "V", "AV"))


def label_confirmed(present: ArrayLike, absent: ArrayLike, is_added: ArrayLike) -> BoolArray:
    """(M,) the consensus rule above, elementwise."""
    p, a = np.asarray(present), np.asarray(absent)
    return (p > a) & (~np.asarray(is_added, dtype=bool) | (p >= ADDED_MIN_PRESENT))


#: Codes of a researcher's decision per label (``decided``); NOT_DECIDED leaves it to the vote.
NOT_DECIDED, DECIDED_ABSENT, DECIDED_PRESENT = -1, 0, 1


def decided(confirmed: ArrayLike, decision: ArrayLike) -> BoolArray:
    """(M,) the consensus with each decision over the vote: `confirmed` (M,) by the votes,
    `decision` (M,) DECIDED_PRESENT / DECIDED_ABSENT / NOT_DECIDED."""
    c, d = np.asarray(confirmed, dtype=bool), np.asarray(decision, dtype=np.int64)
    if c.shape != d.shape:
        raise ValueError(f"confirmed {c.shape} and decision {d.shape} differ in shape")
    return np.where(d == NOT_DECIDED, c, d == DECIDED_PRESENT)


def decided_modality(consensus: ArrayLike, decision: ArrayLike, modality: ArrayLike) -> IntArray:
    """(M,) the modality consensus (index into MODALITIES, -1 none) with a present decision's
    modality (`modality`, -1 when it left it to the votes) over it."""
    c, d, m = (np.asarray(values, dtype=np.int64) for values in (consensus, decision, modality))
    return np.where((d == DECIDED_PRESENT) & (m >= 0), m, c).astype(np.int64)


def modality_consensus(votes: ArrayLike) -> IntArray:
    """votes: (M, 3) modality votes, columns MODALITIES. Returns (M,) the consensus as an
    index into MODALITIES, -1 for labels without a modality vote."""
    v = np.asarray(votes, dtype=np.int64).reshape(-1, len(MODALITIES))
    total = v.sum(axis=1)
    heard = 2 * (v[:, _A] + v[:, _AV]) >= total
    seen = 2 * (v[:, _V] + v[:, _AV]) >= total
    out = np.where(heard & seen, _AV, np.where(heard, _A, _V))
    return np.where(total > 0, out, -1).astype(np.int64)


def modality_agreement(votes: ArrayLike) -> FloatArray:
    """(M,) share of each label's modality votes equal to its consensus (nan without votes)."""
    v = np.asarray(votes, dtype=np.int64).reshape(-1, len(MODALITIES))
    consensus = modality_consensus(v)
    matching = np.where(consensus >= 0, v[np.arange(len(v)), np.maximum(consensus, 0)], 0)
    return _safe_divide(matching.astype(np.float64), v.sum(axis=1).astype(np.float64))
