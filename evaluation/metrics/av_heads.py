"""Table 3: complementarity of the audio-visual heads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics.codes import AV_HEADS


@dataclass(frozen=True)
class Complementarity:
    """Table 3 counts over clips for the continuous / instant / onset heads.

    only_continuous, only_instant, only_onset: clips that head gets right while the other
    two are wrong (the paper's first three columns); new_heads_over_continuous: clips the
    continuous head gets wrong and instant or onset right, ``(Ins. or Ons.) and not Cont.``
    (the paper's last column). exactly_two, all_three, none: the remaining patterns.
    """

    only_continuous: int
    only_instant: int
    only_onset: int
    new_heads_over_continuous: int
    exactly_two: int
    all_three: int
    none: int
    n_clips: int


def complementarity(correct: ArrayLike) -> Complementarity:
    """Table 3 from correctness of the AV heads. correct: (3, N) bool, rows continuous,
    instant, onset (``AV_HEADS``)."""
    hits = np.asarray(correct, dtype=np.bool_)
    if hits.ndim != 2 or hits.shape[0] != 3:
        raise ValueError(f"correct must be (3, N) for {AV_HEADS}, got shape {hits.shape}")
    code = hits[0].astype(np.int64) | (hits[1].astype(np.int64) << 1) | (hits[2].astype(np.int64) << 2)
    pattern = np.bincount(code, minlength=8)
    return Complementarity(
        only_continuous=int(pattern[0b001]),
        only_instant=int(pattern[0b010]),
        only_onset=int(pattern[0b100]),
        new_heads_over_continuous=int(pattern[0b010] + pattern[0b100] + pattern[0b110]),
        exactly_two=int(pattern[0b011] + pattern[0b101] + pattern[0b110]),
        all_three=int(pattern[0b111]),
        none=int(pattern[0b000]),
        n_clips=int(hits.shape[1]),
    )
