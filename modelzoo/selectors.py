"""Reads over model runs and predictions, and the clip lists a run trains or predicts on."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from annotator import catalog
from annotator.models import Category, Clip, ClipLabel, Dataset, Taxonomy
from config.errors import NotFoundError
from modelzoo.models import ModelRun, Prediction


@dataclass(frozen=True)
class ClipItem:
    """One clip as the model code sees it: a media file and (for training) one label index."""

    clip_pk: int
    clip_id: str
    path: str
    label_index: int | None


def run_get(*, run_id: int) -> ModelRun:
    try:
        return ModelRun.objects.select_related("dataset", "source_run", "proposal_set", "created_by").get(pk=run_id)
    except (ModelRun.DoesNotExist, ValueError, TypeError):
        raise NotFoundError(f"model run {run_id} does not exist") from None


def runs_list(*, kind: str = "", status: str = "", dataset: Dataset | None = None) -> QuerySet[ModelRun]:
    runs = ModelRun.objects.select_related("dataset", "created_by", "source_run")
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    if dataset is not None:
        runs = runs.filter(dataset=dataset)
    return runs


def runs_for_dataset(*, dataset: Dataset) -> QuerySet[ModelRun]:
    return runs_list(dataset=dataset)


def trained_runs(*, dataset: Dataset | None = None) -> QuerySet[ModelRun]:
    """Training runs that finished with a checkpoint: what a prediction run can use."""
    runs = runs_list(kind=ModelRun.Kind.TRAIN, status=ModelRun.Status.SUCCEEDED).exclude(checkpoint_path="")
    if dataset is not None:
        runs = runs.filter(dataset__taxonomy=dataset.taxonomy)
    return runs


def run_predictions(*, run: ModelRun) -> QuerySet[Prediction]:
    return Prediction.objects.filter(run=run).select_related("clip").order_by("id")


def run_cancel_requested(*, run_id: int) -> bool:
    return ModelRun.objects.filter(pk=run_id, cancel_requested=True).exists()


def run_predicted_clip_pks(*, run_id: int, clip_pks: Iterable[int]) -> set[int]:
    return set(Prediction.objects.filter(run_id=run_id, clip_id__in=list(clip_pks)).values_list("clip_id", flat=True))


def run_prediction_count(*, run_id: int) -> int:
    return Prediction.objects.filter(run_id=run_id).count()


def taxonomy_num_classes(*, taxonomy: Taxonomy) -> int:
    """Output size of a model over ``taxonomy``: the highest category index plus one."""
    last = Category.objects.filter(taxonomy=taxonomy).order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


def category_names_by_index(*, taxonomy: Taxonomy) -> dict[int, str]:
    return dict(Category.objects.filter(taxonomy=taxonomy).values_list("index", "name"))


def clip_label_indices(*, clip_pks: Sequence[int]) -> dict[int, list[int]]:
    """Original label indices per clip, sorted."""
    labels: dict[int, list[int]] = defaultdict(list)
    rows = ClipLabel.objects.filter(clip_id__in=list(clip_pks)).values_list("clip_id", "category__index")
    for clip_pk, index in rows.order_by("clip_id", "category__index"):
        labels[clip_pk].append(index)
    return dict(labels)


def single_label(*, clip_id: str, label_indices: Sequence[int]) -> int:
    """The one label a multi-labelled clip trains with (the LLP single-label restriction).

    Picked by a stable hash of the clip id, so every run and every machine picks the same
    label and no class is favoured over another.
    """
    ordered = sorted(label_indices)
    return ordered[zlib.crc32(clip_id.encode()) % len(ordered)]


def clip_media_path(*, dataset: Dataset, media_path: str) -> Path:
    """A clip's media file: relative paths resolve against the dataset's media root, and a
    relative media root against MEDIA_ROOT."""
    root = Path(dataset.media_root) if dataset.media_root else Path(settings.MEDIA_ROOT)
    if not root.is_absolute():
        root = Path(settings.MEDIA_ROOT) / root
    return root / media_path


def dataset_clip_items(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> list[ClipItem]:
    """Usable clips (media probed ok) of ``dataset``, of one split ('' = all) or the given ids,
    ordered by primary key, each with its single training label (None when unlabelled)."""
    clips = catalog.dataset_clips(dataset=dataset, split=split or None, usable_only=True)
    if clip_ids:
        clips = clips.filter(clip_id__in=list(clip_ids))
    rows = list(clips.order_by("pk").values_list("pk", "clip_id", "media_path"))
    labels = clip_label_indices(clip_pks=[pk for pk, _, _ in rows])
    items = []
    for pk, clip_id, media_path in rows:
        indices = labels.get(pk)
        if labelled_only and not indices:
            continue
        label = single_label(clip_id=clip_id, label_indices=indices) if indices else None
        items.append(ClipItem(pk, clip_id, str(clip_media_path(dataset=dataset, media_path=media_path)), label))
    return items


def dataset_clip_count(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> int:
    """How many clips ``dataset_clip_items`` would give, counted in the database."""
    clips = catalog.dataset_clips(dataset=dataset, split=split or None, usable_only=True)
    if clip_ids:
        clips = clips.filter(clip_id__in=list(clip_ids))
    if labelled_only:
        clips = clips.filter(Exists(ClipLabel.objects.filter(clip=OuterRef("pk"))))
    return clips.count()


def clip_items_by_pk(*, dataset: Dataset, clip_pks: Sequence[int]) -> list[ClipItem]:
    """The clips of ``dataset`` among ``clip_pks`` that still exist, whatever their media status."""
    rows = list(
        Clip.objects.filter(dataset=dataset, pk__in=list(clip_pks))
        .order_by("pk")
        .values_list("pk", "clip_id", "media_path")
    )
    labels = clip_label_indices(clip_pks=[pk for pk, _, _ in rows])
    return [
        ClipItem(
            pk,
            clip_id,
            str(clip_media_path(dataset=dataset, media_path=media_path)),
            single_label(clip_id=clip_id, label_indices=labels[pk]) if labels.get(pk) else None,
        )
        for pk, clip_id, media_path in rows
    ]


def usable_clip_pks(*, clip_pks: Sequence[int]) -> set[int]:
    """Those of ``clip_pks`` whose media probed ok."""
    return set(
        Clip.objects.filter(pk__in=list(clip_pks), media_status=Clip.MediaStatus.OK).values_list("pk", flat=True)
    )


def dataset_missing_clip_ids(*, dataset: Dataset, clip_ids: Sequence[str]) -> list[str]:
    known = set(Clip.objects.filter(dataset=dataset, clip_id__in=list(clip_ids)).values_list("clip_id", flat=True))
    return [clip_id for clip_id in clip_ids if clip_id not in known]


def dataset_splits(*, dataset: Dataset) -> list[str]:
    return sorted(set(Clip.objects.filter(dataset=dataset).values_list("split", flat=True)) - {""})


def run_progress_payload(*, run: ModelRun) -> dict:
    """The small JSON the run pages poll every second."""
    return {
        "id": run.pk,
        "status": run.status,
        "progress": run.progress,
        "progress_message": run.progress_message,
        "metrics": run.metrics,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
        "is_finished": run.is_finished,
    }
