"""When things happen in a clip, shared by the picture and the sound so both stay in sync."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def beat_pulse(t: np.ndarray, beats: Sequence[float], decay: float) -> np.ndarray:
    """exp(-(t - last beat) / decay) after each beat, 0 before the first."""
    if not beats:
        return np.zeros_like(t)
    beat_array = np.asarray(beats)
    last = np.searchsorted(beat_array, t, side="right") - 1
    since = t - beat_array[np.clip(last, 0, None)]
    return np.where(last >= 0, np.exp(-since / decay), 0.0)


def quiet_windows(
    rng: np.random.Generator, busy: Sequence[tuple[float, float]], seconds: float, length: float, count: int
) -> list[tuple[float, float]]:
    """Up to ``count`` random windows of ``length`` s, clear (by 0.3 s) of ``busy`` and of each other."""
    busy = list(busy)
    windows: list[tuple[float, float]] = []
    for _ in range(count * 20):
        if len(windows) == count:
            break
        start = float(rng.uniform(0.0, seconds - length))
        candidate = (start, start + length)
        if all(candidate[1] + 0.3 < b[0] or candidate[0] - 0.3 > b[1] for b in busy + windows):
            windows.append(candidate)
    return windows
