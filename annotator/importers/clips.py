"""Clip lists into a dataset: clips, their ids and splits, and their original labels.

The file is read and checked completely first; then clips are written in batches, each in
its own transaction, so a crash keeps every batch written before it and a rerun finishes
the job. A rerun never duplicates (clip ids are unique per dataset) and makes the listed
clips' labels exactly those of the file.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from annotator.importers.bulk import rows_delete, rows_upsert
from annotator.importers.clip_formats import CLIP_READERS, ClipRow
from annotator.importers.readers import text_read
from annotator.importers.report import ImportInputError, ImportReport, RowError
from annotator.models import Clip, ClipLabel, Dataset, Taxonomy

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
CLIP_FIELDS = ("youtube_id", "start_seconds", "split", "media_path")
SPLIT_COLUMN_FORMATS = frozenset({"vggsound"})
LLP_SPLIT_WORDS = ("train", "val", "test")

ProgressCallback = Callable[[int, int], None]


def clips_import(
    *,
    dataset_name: str,
    path: Path | str,
    file_format: str,
    taxonomy_name: str = "",
    split: str = "",
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a clip list into dataset `dataset_name`, creating it (with `taxonomy_name`) if
    missing. `split`: the split of every clip for files without a split column (default
    `test` for `vggsound-test`, the train/val/test word of an LLP file name); for
    `vggsound`, only rows of that split are imported; for `generic`, the split of rows whose
    split cell is empty."""
    reader = CLIP_READERS.get(file_format)
    if reader is None:
        raise ImportInputError(f"unknown clip list format {file_format!r}; use one of {', '.join(CLIP_READERS)}")
    dataset, taxonomy = _dataset_and_taxonomy(dataset_name, taxonomy_name)
    text = text_read(path=path)
    report = ImportReport()
    rows = []
    for item in reader(text, default_split=_default_split(file_format, Path(path), split)):
        if isinstance(item, RowError):
            report.errors.append(item)
        elif file_format in SPLIT_COLUMN_FORMATS and split and item.split != split:
            report.extra["skipped_other_split"] += 1
        else:
            rows.append(item)
    rows = _known_labels_only(rows, taxonomy, report)
    merged = _merge_duplicates(rows, report)
    if merged:
        if dataset is None:
            dataset, _ = Dataset.objects.get_or_create(name=dataset_name, defaults={"taxonomy": taxonomy})
        clips_store(dataset=dataset, rows=merged, report=report, batch_size=batch_size, on_progress=on_progress)
    report.errors.sort(key=lambda error: error.line or 0)
    logger.info("clips of %s from %s: %s", dataset_name, path, report.summary())
    return report


def clips_store(
    *,
    dataset: Dataset,
    rows: Sequence[ClipRow],
    report: ImportReport,
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Upsert checked rows (unique clip ids, known labels) batch by batch into `report`.
    The dataset's current clips and labels are read once, up front: one scan is much
    cheaper than a lookup of thousands of ids per batch."""
    categories = dict(dataset.taxonomy.categories.values_list("name", "pk"))
    state = _StoredClips.read(dataset)
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        with transaction.atomic():
            _store_batch(dataset, batch, categories, state, report)
        if on_progress is not None:
            on_progress(start + len(batch), len(rows))


@dataclass
class _StoredClips:
    """clip id -> (pk, *CLIP_FIELDS) and clip pk -> {category pk: clip label pk}."""

    clips: dict[str, tuple]
    labels: dict[int, dict[int, int]]

    @classmethod
    def read(cls, dataset: Dataset) -> _StoredClips:
        clips = {
            clip_id: (pk, *values)
            for pk, clip_id, *values in Clip.objects.filter(dataset=dataset)
            .order_by()
            .values_list("pk", "clip_id", *CLIP_FIELDS)
            .iterator(chunk_size=10_000)
        }
        labels: dict[int, dict[int, int]] = defaultdict(dict)
        for label_pk, clip_pk, category_pk in (
            ClipLabel.objects.filter(clip__dataset=dataset)
            .order_by()
            .values_list("pk", "clip_id", "category_id")
            .iterator(chunk_size=10_000)
        ):
            labels[clip_pk][category_pk] = label_pk
        return cls(clips, labels)


def _store_batch(
    dataset: Dataset, batch: Sequence[ClipRow], categories: dict[str, int], state: _StoredClips, report: ImportReport
) -> None:
    upserts, created_ids, changed_ids = [], set(), set()
    no_flags: list[str] = []  # one object for every row: the bulk helper adapts it to JSON once
    for row in batch:
        stored = state.clips.get(row.clip_id)
        values = (
            row.youtube_id,
            row.start_seconds,
            row.split,
            row.media_path or (stored[4] if stored else ""),
        )
        if stored is None:
            created_ids.add(row.clip_id)
        elif values != stored[1:]:
            changed_ids.add(row.clip_id)
        else:
            continue
        upserts.append((dataset.pk, row.clip_id, *values, Clip.MediaStatus.MISSING, "", no_flags))
    # An upsert, not a plain insert: a clip created meanwhile by a concurrent import is
    # updated instead of failing the batch. Media status, error and flags only count for
    # new rows (the statement bypasses the model's defaults).
    returned = rows_upsert(
        model=Clip,
        fields=("dataset", "clip_id", *CLIP_FIELDS, "media_status", "media_error", "media_flags"),
        rows=upserts,
        unique_fields=("dataset", "clip_id"),
        update_fields=CLIP_FIELDS,
        returning=("id", "clip_id"),
    )
    clip_pks = {row.clip_id: state.clips[row.clip_id][0] for row in batch if row.clip_id in state.clips}
    clip_pks.update({clip_id: pk for pk, clip_id in returned})

    stale, missing = [], []
    for row in batch:
        clip_pk = clip_pks[row.clip_id]
        wanted = {categories[name] for name in row.labels}
        have = state.labels.get(clip_pk, {})
        clip_stale = [label_pk for category_pk, label_pk in have.items() if category_pk not in wanted]
        new_labels = wanted - have.keys()
        stale += clip_stale
        missing += [(clip_pk, category_pk) for category_pk in new_labels]
        if row.clip_id not in created_ids and (new_labels or clip_stale):
            changed_ids.add(row.clip_id)
    rows_delete(model=ClipLabel, pks=stale)
    rows_upsert(model=ClipLabel, fields=("clip", "category"), rows=missing, unique_fields=("clip", "category"))

    report.created += len(created_ids)
    report.updated += len(changed_ids)
    report.unchanged += len(batch) - len(created_ids) - len(changed_ids)


def _dataset_and_taxonomy(dataset_name: str, taxonomy_name: str) -> tuple[Dataset | None, Taxonomy]:
    dataset = Dataset.objects.select_related("taxonomy").filter(name=dataset_name).first()
    if dataset is not None:
        if taxonomy_name and dataset.taxonomy.name != taxonomy_name:
            raise ImportInputError(
                f"dataset {dataset_name!r} uses taxonomy {dataset.taxonomy.name!r}, not {taxonomy_name!r}"
            )
        return dataset, dataset.taxonomy
    if not taxonomy_name:
        raise ImportInputError(f"dataset {dataset_name!r} does not exist; name its taxonomy to create it")
    taxonomy = Taxonomy.objects.filter(name=taxonomy_name).first()
    if taxonomy is None:
        raise ImportInputError(f"taxonomy {taxonomy_name!r} does not exist; import it first (import_taxonomy)")
    return None, taxonomy


def _default_split(file_format: str, path: Path, split: str) -> str:
    if split:
        return split
    if file_format == "vggsound-test":
        return "test"
    if file_format == "llp":
        words = set(re.split(r"[^a-z]+", path.stem.lower()))
        return next((word for word in LLP_SPLIT_WORDS if word in words), "")
    return ""


def _known_labels_only(rows: list[ClipRow], taxonomy: Taxonomy, report: ImportReport) -> list[ClipRow]:
    """Rows naming a label outside the taxonomy are reported and skipped, never half-stored."""
    known = set(taxonomy.categories.values_list("name", flat=True))
    kept = []
    for row in rows:
        unknown = [label for label in row.labels if label not in known]
        if unknown:
            names = ", ".join(repr(label) for label in unknown)
            report.add_error(row.line, f"unknown label {names} (not in taxonomy {taxonomy.name!r})")
        else:
            kept.append(row)
    return kept


def _merge_duplicates(rows: list[ClipRow], report: ImportReport) -> list[ClipRow]:
    """A clip listed on several rows gets the union of their labels; rows that disagree on
    its YouTube id, start, split or media path are reported and skipped."""
    merged: dict[str, ClipRow] = {}
    for row in rows:
        first = merged.get(row.clip_id)
        if first is None:
            merged[row.clip_id] = row
            continue
        clash = [name for name in CLIP_FIELDS if getattr(first, name) != getattr(row, name)]
        if clash:
            report.add_error(
                row.line,
                f"clip {row.clip_id!r} is already listed on line {first.line} with a different {', '.join(clash)}",
            )
            continue
        labels = tuple(dict.fromkeys(first.labels + row.labels))
        merged[row.clip_id] = ClipRow(
            line=first.line,
            clip_id=first.clip_id,
            labels=labels,
            youtube_id=first.youtube_id,
            start_seconds=first.start_seconds,
            split=first.split,
            media_path=first.media_path,
        )
        report.extra["duplicate_rows_merged"] += 1
    return list(merged.values())
