"""Intervals for the event-type bench: a two-level bootstrap over training seeds and test clips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DRAWS = 2000


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval."""

    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"

    def above(self, other: Estimate) -> bool:
        """True when this interval lies entirely above ``other``'s (no overlap)."""
        return self.low > other.high


def bootstrap(values: np.ndarray, *, draws: int = DRAWS, seed: int = 0) -> Estimate:
    """values: (S seeds, N clips) per-clip scores -> their mean and a 95% percentile interval.

    Each draw resamples the seeds and the clips (independently, with replacement), so the
    interval covers both the training run's luck and the choice of test clips.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    num_seeds, num_clips = values.shape
    seed_draw = rng.integers(num_seeds, size=(draws, num_seeds))
    clip_draw = rng.integers(num_clips, size=(draws, num_clips))
    means = values[seed_draw[:, :, None], clip_draw[:, None, :]].mean(axis=(1, 2))
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(float(values.mean()), float(low), float(high))
