"""Reads over model runs and predictions, whose runs a researcher may use, and the clip lists a
run trains or predicts on (read through annotator's selectors, never its tables)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Exists, OuterRef, Q, QuerySet

from annotator import media_serving, roles
from annotator import selectors as annotator_selectors
from annotator.models import Dataset
from annotator.selectors import ClipRow
from annotator.selectors import category_names_by_index as category_names_by_index
from annotator.selectors import clip_label_indices as clip_label_indices
from annotator.selectors import dataset_missing_clip_ids as dataset_missing_clip_ids
from annotator.selectors import dataset_splits as dataset_splits
from annotator.selectors import taxonomy_num_classes as taxonomy_num_classes
from config.errors import NotFoundError
from modelzoo.models import ModelRun, Prediction
from modelzoo.nn.labels import single_label as single_label  # the LLP rule, shared with the nn code

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipItem:
    """One clip as the model code sees it: a media file and (for training) one label index."""

    clip_pk: int
    clip_id: str
    path: str
    label_index: int | None


def run_get(*, run_id: int) -> ModelRun:
    """A run by id, for the workers and commands that hold its id (who may see it is the
    caller's to decide: pages and APIs use ``run_for_researcher``)."""
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


# --------------------------------------------------------------------------------------
# Whose runs: "a researcher's own runs and those shared with them, or every run for an
# admin" is written here once; the pages, the API and evaluation read runs through it.
# --------------------------------------------------------------------------------------


def runs_for_researcher(
    *, user, kind: str = "", status: str = "", dataset: Dataset | None = None
) -> QuerySet[ModelRun]:
    """The runs a user may use (see, predict from, evaluate): the ones they started and those
    shared with them; every run for an admin (the only ones who see a run nobody started,
    e.g. one a command queued); none for anyone who is not a researcher."""
    runs = runs_list(kind=kind, status=status, dataset=dataset)
    if roles.user_is_admin(user):
        return runs
    if not roles.user_is_researcher(user):
        return runs.none()
    # EXISTS rather than a join on shared_with: one row per run, whoever it is shared with.
    shared = Exists(ModelRun.shared_with.through.objects.filter(modelrun=OuterRef("pk"), user=user))
    return runs.filter(Q(created_by=user) | shared)


def run_for_researcher(*, user, run_id: int) -> ModelRun:
    """A run the user may use; any other reads as not found, so ids don't leak."""
    run = runs_for_researcher(user=user).select_related("proposal_set").filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(f"model run {run_id} does not exist or is not yours")
    return run


def run_for_owner(*, user, run_id: int) -> ModelRun:
    """A run the user started (any for an admin): who may cancel or share it. A run only
    shared with the user reads as not found here."""
    runs = runs_for_researcher(user=user)
    if not roles.user_is_admin(user):
        runs = runs.filter(created_by=user)
    run = runs.select_related("proposal_set").filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(f"model run {run_id} does not exist or is not yours")
    return run


def trained_runs(*, user, dataset: Dataset | None = None) -> QuerySet[ModelRun]:
    """The user's training runs that finished with a checkpoint: what a prediction run of
    theirs can use."""
    runs = runs_for_researcher(user=user, kind=ModelRun.Kind.TRAIN, status=ModelRun.Status.SUCCEEDED)
    runs = runs.exclude(checkpoint_path="")
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


# --------------------------------------------------------------------------------------
# The clips a run trains or predicts on
# --------------------------------------------------------------------------------------


def clip_media_path(*, dataset: Dataset, media_path: str) -> Path | None:
    """A clip's media file under the dataset's media root; None when none is recorded or
    the path leads outside the root (logged), by annotator's one rule for import, serving
    and the model code: such a file is never read."""
    if not media_path:
        return None
    try:
        return media_serving.dataset_media_path(dataset=dataset, media_path=media_path)
    except media_serving.MediaPathError as exc:
        logger.warning("dataset %s: clip media refused: %s", dataset.name, exc)
        return None


def _clip_items(
    *, dataset: Dataset, rows: Sequence[ClipRow], labelled_only: bool, readable_only: bool
) -> list[ClipItem]:
    labels = clip_label_indices(clip_pks=[row.pk for row in rows])
    items = []
    for row in rows:
        indices = labels.get(row.pk)
        path = clip_media_path(dataset=dataset, media_path=row.media_path)
        if (labelled_only and not indices) or (readable_only and path is None):
            continue
        label = single_label(clip_id=row.clip_id, label_indices=indices) if indices else None
        items.append(ClipItem(row.pk, row.clip_id, str(path or ""), label))
    return items


def dataset_clip_items(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> list[ClipItem]:
    """Usable clips (media probed ok) of ``dataset``, of one split ('' = all) or the given ids,
    ordered by primary key, each with its single training label (None when unlabelled)."""
    rows = annotator_selectors.dataset_clip_rows(dataset=dataset, split=split, clip_ids=clip_ids)
    return _clip_items(dataset=dataset, rows=rows, labelled_only=labelled_only, readable_only=True)


def dataset_clip_count(
    *, dataset: Dataset, split: str = "", clip_ids: Sequence[str] = (), labelled_only: bool = False
) -> int:
    """How many clips ``dataset_clip_items`` would give, counted in the database."""
    return annotator_selectors.dataset_clip_row_count(
        dataset=dataset, split=split, clip_ids=clip_ids, labelled_only=labelled_only
    )


def clip_items_by_pk(*, dataset: Dataset, clip_pks: Sequence[int]) -> list[ClipItem]:
    """The clips of ``dataset`` among ``clip_pks`` that still exist, whatever their media
    status; a clip with no path or a refused one has path "" (``usable_clip_pks`` leaves
    it out, so nothing is read)."""
    rows = annotator_selectors.clip_rows_by_pk(dataset=dataset, clip_pks=clip_pks)
    return _clip_items(dataset=dataset, rows=rows, labelled_only=False, readable_only=False)


def usable_clip_pks(*, clip_pks: Sequence[int]) -> set[int]:
    """Those of ``clip_pks`` whose media probed ok and whose path stays inside their
    dataset's media root."""
    return {
        clip.pk
        for clip in annotator_selectors.clips_media_ok(clip_pks=clip_pks)
        if clip_media_path(dataset=clip.dataset, media_path=clip.media_path) is not None
    }


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


# --------------------------------------------------------------------------------------
# Reads for evaluation: succeeded predict runs, predictions as plain rows
# --------------------------------------------------------------------------------------


def predict_runs_succeeded(*, dataset: Dataset, split: str, user=None) -> QuerySet[ModelRun]:
    """Succeeded predict runs on one split of a dataset, newest first; with a user, only those
    ``runs_for_researcher`` gives them."""
    kind = ModelRun.Kind.PREDICT
    runs = runs_list(kind=kind) if user is None else runs_for_researcher(user=user, kind=kind)
    return runs.filter(dataset=dataset, split=split, status=ModelRun.Status.SUCCEEDED).order_by("-created_at", "-pk")


def runs_prediction_count(*, runs: Sequence[ModelRun]) -> int:
    return Prediction.objects.filter(run__in=runs).count()


def run_prediction_rows(*, run: ModelRun) -> Iterable[tuple]:
    """(clip pk, heads, vote_index, union_indices, event_type, error) of each prediction, by id,
    streamed in chunks: a predict run holds one row per clip of its dataset."""
    rows = run_predictions(run=run).values_list(
        "clip_id", "heads", "vote_index", "union_indices", "event_type", "error"
    )
    return rows.iterator(chunk_size=2000)
