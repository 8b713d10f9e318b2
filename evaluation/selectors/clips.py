"""Clips and categories as arrays: the clip table every study and run loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from annotator.selectors import judgments as annotator_judgments

if TYPE_CHECKING:
    from annotator.models import Dataset


def taxonomy_categories(*, dataset: Dataset) -> tuple[list[str], dict[int, int]]:
    """Category names by model index, and category pk -> index, for a dataset's taxonomy."""
    rows = annotator_judgments.taxonomy_category_rows(taxonomy_id=dataset.taxonomy_id)
    size = (max(index for _, index, _ in rows) + 1) if rows else 0
    names = [""] * size
    for _, index, name in rows:
        names[index] = name
    return names, {pk: index for pk, index, _ in rows}


def category_ranks(
    category_pks: np.ndarray, category_index: dict[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The taxonomy's category pks in order, each given pk's rank among them (int32: ranks
    sort as the pks do) and the model index of each rank; KeyError for a category outside
    the taxonomy."""
    known = np.asarray(sorted(category_index), dtype=np.int64)
    index = np.asarray([category_index[pk] for pk in known.tolist()], dtype=np.int64)
    if not len(category_pks):
        return known, np.zeros(0, dtype=np.int32), index
    rank = np.searchsorted(known, category_pks).clip(max=max(len(known) - 1, 0)).astype(np.int32)
    wrong = (known[rank] != category_pks) if len(known) else np.ones(len(category_pks), dtype=bool)
    if wrong.any():
        raise KeyError(int(category_pks[wrong][0]))
    return known, rank, index


@dataclass(frozen=True)
class ClipTable:
    """Metadata and original labels of N clips, in a fixed order."""

    pks: np.ndarray  # (N,) Clip primary keys
    clip_ids: list[str]
    youtube_ids: list[str]
    starts: list[int | None]
    original: np.ndarray  # (N, C) bool: the clips' original labels

    def index_of(self) -> dict[int, int]:
        return {int(pk): n for n, pk in enumerate(self.pks)}


def clip_table(*, clip_pks: Sequence[int], num_classes: int, category_index: dict[int, int]) -> ClipTable:
    pk_list = [int(pk) for pk in clip_pks]
    pks = np.asarray(pk_list, dtype=np.int64)
    meta = {
        pk: (clip_id, youtube_id, start)
        for pk, clip_id, youtube_id, start in annotator_judgments.clip_metadata_rows(clip_pks=pk_list)
    }
    rows = [meta[pk] for pk in pk_list]
    original = np.zeros((len(pks), num_classes), dtype=bool)
    label_rows = np.asarray(list(annotator_judgments.clip_label_rows(clip_pks=pk_list)), dtype=np.int64).reshape(-1, 2)
    if len(label_rows):
        # Both lookups by sorted keys in numpy: a Python loop over 200k labels took a second.
        by_pk = np.argsort(pks)
        clip_row = by_pk[np.searchsorted(pks, label_rows[:, 0], sorter=by_pk)]
        _, rank, class_of_rank = category_ranks(label_rows[:, 1], category_index)
        original[clip_row, class_of_rank[rank]] = True
    return ClipTable(
        pks=pks,
        clip_ids=[row[0] for row in rows],
        youtube_ids=[row[1] for row in rows],
        starts=[_seconds_as_written(row[2]) for row in rows],
        original=original,
    )


def _seconds_as_written(seconds: float | None) -> int | float | None:
    """Whole seconds as an integer, so exports write `30`, not `30.0`; LLP's `101.8` stays."""
    return int(seconds) if seconds is not None and float(seconds).is_integer() else seconds


def clip_subset(table: ClipTable, keep: np.ndarray) -> ClipTable:
    idx = np.flatnonzero(keep)
    return ClipTable(
        pks=table.pks[idx],
        clip_ids=[table.clip_ids[i] for i in idx],
        youtube_ids=[table.youtube_ids[i] for i in idx],
        starts=[table.starts[i] for i in idx],
        original=table.original[idx],
    )
