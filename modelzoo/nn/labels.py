"""The LLP single-label restriction: the one label a multi-labelled clip trains with.

One rule for the whole project (the product's training runs, the synthetic generator and the
benches): the clip id's CRC-32 picks among the clip's distinct labels in ascending order. A
hash of the id, not a seeded draw, so every run, machine and process picks the same label
without sharing a seed, and over many clips no class is favoured. Pure Python (no torch), so
the Django code and the generator import it cheaply.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence


def single_label(*, clip_id: str, label_indices: Sequence[int]) -> int:
    """The label ``clip_id`` trains with: sorted distinct labels[crc32(clip_id) mod count]."""
    ordered = sorted({int(label) for label in label_indices})
    if not ordered:
        raise ValueError(f"clip {clip_id!r} has no label to keep")
    return ordered[zlib.crc32(clip_id.encode()) % len(ordered)]
