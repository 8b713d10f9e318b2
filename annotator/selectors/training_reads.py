"""What the model code reads of the catalogue: a dataset's clips as rows (primary key, clip id,
media path) with their original label indices, and a taxonomy's classes as output indices.

modelzoo trains and predicts through these and never queries annotator's tables itself. Who
may use a dataset is decided before: a run's dataset passed `datasets_for_researcher` when
the run was started.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from django.db.models import Exists, OuterRef, QuerySet

from annotator import catalog
from annotator.models import Category, Clip, ClipLabel, Dataset, Taxonomy


class ClipRow(NamedTuple):
    pk: int
    clip_id: str
    media_path: str


ROW_FIELDS = ("pk", "clip_id", "media_path")


def _usable_clips(*, dataset: Dataset, split: str, clip_ids: Sequence[str], labelled_only: bool) -> QuerySet[Clip]:
    clips = catalog.dataset_clips(dataset=dataset, split=split or None, usable_only=True)
    if clip_ids:
        clips = clips.filter(clip_id__in=list(clip_ids))
    if labelled_only:
        clips = clips.filter(Exists(ClipLabel.objects.filter(clip=OuterRef("pk"))))
    return clips


def dataset_clip_rows(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> list[ClipRow]:
    """The clips of `dataset` whose media probed ok, of one split ('' = all) or the given ids,
    by primary key; `labelled_only` keeps those with an original label."""
    clips = _usable_clips(dataset=dataset, split=split, clip_ids=clip_ids, labelled_only=labelled_only)
    return [ClipRow(*row) for row in clips.order_by("pk").values_list(*ROW_FIELDS)]


def dataset_clip_row_count(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> int:
    """How many rows `dataset_clip_rows` would give, counted in the database."""
    return _usable_clips(dataset=dataset, split=split, clip_ids=clip_ids, labelled_only=labelled_only).count()


def clip_rows_by_pk(*, dataset: Dataset, clip_pks: Sequence[int]) -> list[ClipRow]:
    """The clips of `dataset` among `clip_pks` that still exist, whatever their media status."""
    rows = Clip.objects.filter(dataset=dataset, pk__in=list(clip_pks)).order_by("pk").values_list(*ROW_FIELDS)
    return [ClipRow(*row) for row in rows]


def clips_media_ok(*, clip_pks: Sequence[int]) -> list[Clip]:
    """Those of `clip_pks` whose media probed ok, each with its path and its dataset's name
    and media root (what the path rule needs)."""
    clips = Clip.objects.filter(pk__in=list(clip_pks), media_status=Clip.MediaStatus.OK).select_related("dataset")
    return list(clips.only("pk", "media_path", "dataset__name", "dataset__media_root"))


def clip_label_indices(*, clip_pks: Sequence[int]) -> dict[int, list[int]]:
    """Original label indices per clip, sorted."""
    labels: dict[int, list[int]] = defaultdict(list)
    rows = ClipLabel.objects.filter(clip_id__in=list(clip_pks)).values_list("clip_id", "category__index")
    for clip_pk, index in rows.order_by("clip_id", "category__index"):
        labels[clip_pk].append(index)
    return dict(labels)


def dataset_missing_clip_ids(*, dataset: Dataset, clip_ids: Sequence[str]) -> list[str]:
    """Those of `clip_ids` that `dataset` does not hold, in the given order."""
    known = set(Clip.objects.filter(dataset=dataset, clip_id__in=list(clip_ids)).values_list("clip_id", flat=True))
    return [clip_id for clip_id in clip_ids if clip_id not in known]


def dataset_splits(*, dataset: Dataset) -> list[str]:
    return sorted(set(Clip.objects.filter(dataset=dataset).values_list("split", flat=True)) - {""})


def taxonomy_num_classes(*, taxonomy: Taxonomy) -> int:
    """Output size of a model over `taxonomy`: the highest category index plus one."""
    last = Category.objects.filter(taxonomy=taxonomy).order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


def category_names_by_index(*, taxonomy: Taxonomy) -> dict[int, str]:
    return dict(Category.objects.filter(taxonomy=taxonomy).values_list("index", "name"))
