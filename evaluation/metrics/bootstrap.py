"""Bootstrap over clips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import FloatArray


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval (nan bounds when undefined)."""

    estimate: float
    low: float
    high: float


def _draw_blocks(n_clips: int, n_boot: int, seed: int, block: int) -> Iterator[FloatArray]:
    """Yield (b, N) resample count blocks, b <= block, B rows in all, from one seeded stream."""
    if n_clips < 1:
        raise ValueError("bootstrap needs at least one clip")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        draws = rng.integers(0, n_clips, size=(rows, n_clips), dtype=np.int64)
        counts = np.empty((rows, n_clips), dtype=np.float64)
        # One resample at a time: its N counters stay in cache, where one bincount over b x N
        # offset bins does not (1000 resamples of 200k clips: 2.1 s against 2.8-3.4 s).
        for row, drawn in enumerate(draws):
            counts[row] = np.bincount(drawn, minlength=n_clips)
        yield counts


def bootstrap_weights(n_clips: int, *, n_boot: int = 1000, seed: int = 0) -> FloatArray:
    """How often each clip is drawn in each resample: (B, N) counts, each row summing to N.

    A resample draws N clips with replacement from ``numpy.random.default_rng(seed)``; row b
    holds the draws ``rng.integers(0, N, size=(B, N))[b]``.
    """
    return np.concatenate(list(_draw_blocks(n_clips, n_boot, seed, BOOTSTRAP_BLOCK)), axis=0)


#: Resamples materialised at once (bounds memory to BLOCK x N floats).
BOOTSTRAP_BLOCK = 64


def bootstrap_intervals(
    clip_sums: ArrayLike,
    statistic: Callable[[FloatArray], FloatArray],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> list[Interval]:
    """Percentile bootstrap intervals for statistics that are functions of sums over clips.

    clip_sums: (N, S) additive per-clip terms (e.g. ``acceptance_clip_sums``, or item terms
    of kappa/alpha summed per clip). statistic maps summed terms (..., S) to (..., R).
    A resample's sums are a row of ``bootstrap_weights(N) @ clip_sums`` (B, S): the whole
    bootstrap is a few matrix products, done in blocks of ``BOOTSTRAP_BLOCK`` resamples.
    Returns R intervals; resamples where a statistic is nan (e.g. no decoy drawn) are left
    out of its percentiles.
    """
    if not 0 < level < 1:
        raise ValueError("level must lie in (0, 1)")
    sums = np.asarray(clip_sums, dtype=np.float64)
    if sums.ndim != 2:
        raise ValueError(f"clip_sums must be (N, S), got shape {sums.shape}")
    resampled_sums = np.concatenate(
        [block @ sums for block in _draw_blocks(sums.shape[0], n_boot, seed, BOOTSTRAP_BLOCK)], axis=0
    )
    estimate = np.atleast_1d(statistic(sums.sum(axis=0)))
    resampled = np.asarray(statistic(resampled_sums)).reshape(n_boot, -1)
    tail = (1.0 - level) / 2.0 * 100.0
    out = []
    for r in range(estimate.shape[0]):
        column = resampled[:, r]
        column = column[~np.isnan(column)]
        if column.size == 0 or np.isnan(estimate[r]):
            out.append(Interval(float(estimate[r]), float("nan"), float("nan")))
            continue
        low, high = np.percentile(column, [tail, 100.0 - tail])
        out.append(Interval(float(estimate[r]), float(low), float(high)))
    return out
