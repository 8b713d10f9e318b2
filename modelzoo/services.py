"""Writes over model runs: start, claim, report progress, finish, cancel; store predictions and
turn them into proposals. The heavy work (training, inference) lives in ``modelzoo.training``
and ``modelzoo.inference``; Celery tasks in ``modelzoo.tasks`` only call these functions.

Claiming is idempotent: a worker takes a queued run with a conditional UPDATE that must touch
exactly one row; the same task redelivered after its worker died takes the running run back
(and resumes), any other task gets nothing.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from annotator.models import Dataset, ProposalSet
from config.errors import ApplicationError, ConflictError
from modelzoo import selectors
from modelzoo.models import ModelRun, Prediction
from modelzoo.nn.config import CONFIGS

if TYPE_CHECKING:
    from annotator.importers.report import ImportReport
    from modelzoo.nn.infer import ClipPrediction

logger = logging.getLogger(__name__)

DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")
MESSAGE_MAX = ModelRun._meta.get_field("progress_message").max_length


@dataclass(frozen=True)
class RunClaim:
    run: ModelRun
    resumed: bool  # the same task came back after its worker died


def json_safe(value):
    """``value`` with NaN and infinities as None (PostgreSQL's jsonb refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


# --- devices and folders -------------------------------------------------------------------


def device_choose() -> str:
    """AVLABEL_DEVICE (setting or environment) when set, else cuda when available, else cpu."""
    forced = str(getattr(settings, "AVLABEL_DEVICE", "") or os.environ.get("AVLABEL_DEVICE", "")).strip()
    if forced:
        if not DEVICE_PATTERN.match(forced):
            raise ApplicationError(f"AVLABEL_DEVICE={forced!r} is not a device: use cpu, cuda or cuda:<n>.")
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_directory(*, run: ModelRun) -> Path:
    """Checkpoints and caches of a run, under ARTIFACTS_DIR/runs/<id>."""
    return Path(settings.ARTIFACTS_DIR) / "runs" / str(run.pk)


def feature_cache_directory() -> Path:
    return Path(settings.ARTIFACTS_DIR) / "feature-cache"


# --- starting runs -------------------------------------------------------------------------


def _check_config(config_name: str) -> None:
    if config_name not in CONFIGS:
        raise ApplicationError(f"unknown model config {config_name!r}; use one of {', '.join(CONFIGS.names())}")


def model_run_start_training(
    *,
    dataset: Dataset,
    model_kind: str,
    config_name: str = "tiny",
    split: str = "train",
    val_split: str = "val",
    epochs: int = 10,
    batch_size: int = 8,
    learning_rate: float = 1e-3,
    recipe: bool = False,
    vision_weights: str = "",
    created_by=None,
    enqueue: bool = True,
) -> ModelRun:
    """Create a queued training run and enqueue ``modelzoo.train`` once the transaction commits
    (``enqueue=False``: the caller runs it in-process, ``manage.py train --inline``)."""
    if model_kind not in ModelRun.ModelKind.values:
        raise ApplicationError(f"unknown model kind {model_kind!r}; use one of {', '.join(ModelRun.ModelKind.values)}")
    if recipe and model_kind != ModelRun.ModelKind.EVENT_HEADS:
        raise ApplicationError("the training recipe trains the event-head model: use model kind event_heads")
    _check_config(config_name)
    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ApplicationError("epochs and batch size must be at least 1 and the learning rate positive")
    if vision_weights and not Path(vision_weights).is_file():
        raise ApplicationError(f"vision weights file {vision_weights} does not exist")
    items_total = selectors.dataset_clip_count(dataset=dataset, split=split, labelled_only=True)
    if not items_total:
        raise ApplicationError(f"dataset {dataset.name} has no usable labelled clips in split {split or '(all)'!r}")
    if val_split and val_split == split:
        raise ApplicationError("the validation split must differ from the training split")
    num_classes = selectors.taxonomy_num_classes(taxonomy=dataset.taxonomy)
    with transaction.atomic():
        run = ModelRun.objects.create(
            kind=ModelRun.Kind.TRAIN,
            model_kind=model_kind,
            recipe=recipe,
            config_name=config_name,
            dataset=dataset,
            split=split,
            val_split=val_split,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            vision_weights=vision_weights,
            num_classes=num_classes,
            items_total=items_total,
            progress_message="queued",
            created_by=created_by,
        )
        if enqueue:
            from modelzoo import tasks

            tasks.model_run_train.delay_on_commit(run.pk)
    logger.info("queued training run %s (%s, %s) on %s", run.pk, model_kind, config_name, dataset.name)
    return run


def model_run_start_prediction(
    *,
    source_run: ModelRun,
    dataset: Dataset | None = None,
    split: str = "",
    clip_ids: Sequence[str] = (),
    chunk_size: int = 64,
    make_proposals: bool = True,
    proposal_set_name: str = "",
    with_heatmaps: bool = True,
    created_by=None,
    enqueue: bool = True,
) -> ModelRun:
    """Create a queued inference run with the checkpoint of ``source_run`` and enqueue
    ``modelzoo.predict``, which fans the clips out as chunks over the GPU workers."""
    dataset = dataset or source_run.dataset
    if source_run.kind != ModelRun.Kind.TRAIN or source_run.status != ModelRun.Status.SUCCEEDED:
        raise ApplicationError(f"run {source_run.pk} is not a finished training run")
    if not source_run.checkpoint_path or not Path(source_run.checkpoint_path).is_file():
        raise ApplicationError(f"the checkpoint of run {source_run.pk} is missing")
    if dataset.taxonomy_id != source_run.dataset.taxonomy_id:
        raise ApplicationError(
            f"run {source_run.pk} was trained on taxonomy {source_run.dataset.taxonomy}, "
            f"dataset {dataset.name} uses {dataset.taxonomy}"
        )
    if chunk_size < 1:
        raise ApplicationError("chunk size must be at least 1")
    clip_ids = list(dict.fromkeys(clip_ids))
    if clip_ids and (missing := selectors.dataset_missing_clip_ids(dataset=dataset, clip_ids=clip_ids)):
        raise ApplicationError(f"{len(missing)} clip ids are not in {dataset.name}: {', '.join(missing[:5])}")
    items_total = selectors.dataset_clip_count(dataset=dataset, split=split, clip_ids=clip_ids)
    if not items_total:
        raise ApplicationError(f"dataset {dataset.name} has no usable clips to predict in split {split or '(all)'!r}")
    proposal_set_name = proposal_set_name.strip()
    if proposal_set_name and not make_proposals:
        raise ApplicationError("a proposal set name was given but proposals are not requested")
    with transaction.atomic():
        run = ModelRun.objects.create(
            kind=ModelRun.Kind.PREDICT,
            model_kind=source_run.model_kind,
            recipe=source_run.recipe,
            config_name=source_run.config_name,
            dataset=dataset,
            split=split,
            clip_ids=clip_ids,
            source_run=source_run,
            chunk_size=chunk_size,
            with_heatmaps=with_heatmaps,
            make_proposals=make_proposals,
            num_classes=source_run.num_classes,
            items_total=items_total,
            progress_message="queued",
            created_by=created_by,
        )
        if make_proposals:
            run.proposal_set_name = proposal_set_name or f"model run {run.pk} ({run.model_kind})"
            run.save(update_fields=["proposal_set_name"])
        if enqueue:
            from modelzoo import tasks

            tasks.model_run_predict.delay_on_commit(run.pk)
    logger.info("queued prediction run %s from run %s on %s", run.pk, source_run.pk, dataset.name)
    return run


def synthetic_dataset_import(
    *, root: Path, dataset_name: str, taxonomy_name: str = "", on_progress: Callable[[int, int], None] | None = None
) -> tuple[Dataset, dict[str, ImportReport]]:
    """Import a folder written by ``modelzoo.nn.synthetic.generate_dataset`` through the
    annotator's importers: its class list as a taxonomy, its clips CSV (generic format) and
    its media files (probed). Reruns update, never duplicate."""
    from annotator.importers.clips import clips_import
    from annotator.importers.media import media_import
    from annotator.importers.taxonomy import taxonomy_import
    from modelzoo.nn import synthetic

    root = Path(root).resolve()
    if not (root / synthetic.CLASSES_FILE).is_file() or not (root / synthetic.CLIPS_CSV).is_file():
        raise ApplicationError(
            f"{root} holds no synthetic dataset (no {synthetic.CLASSES_FILE} / {synthetic.CLIPS_CSV})"
        )
    taxonomy_name = taxonomy_name or dataset_name
    reports = {
        "taxonomy": taxonomy_import(name=taxonomy_name, path=root / synthetic.CLASSES_FILE, file_format="lines"),
        "clips": clips_import(
            dataset_name=dataset_name,
            path=root / synthetic.CLIPS_CSV,
            file_format="generic",
            taxonomy_name=taxonomy_name,
        ),
    }
    dataset = Dataset.objects.get(name=dataset_name)
    reports["media"] = media_import(dataset=dataset, folder=root / synthetic.CLIPS_DIR, on_progress=on_progress)
    return dataset, reports


# --- lifecycle -----------------------------------------------------------------------------


def model_run_claim(*, run_id: int, task_id: str) -> RunClaim | None:
    """Take a queued run for ``task_id``; None when there is nothing for this task to do.

    Exactly one UPDATE ... WHERE status = 'queued' wins. A running run is taken back only by
    the very task that holds it (a message redelivered after its worker died): it resumes.
    """
    now = timezone.now()
    taken = ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.QUEUED, cancel_requested=False).update(
        status=ModelRun.Status.RUNNING,
        task_id=task_id,
        started_at=now,
        attempts=F("attempts") + 1,
        progress_message="started",
    )
    resumed = False
    if not taken:
        taken = ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING, task_id=task_id).update(
            attempts=F("attempts") + 1, progress_message="resumed after a worker restart"
        )
        resumed = bool(taken)
    if not taken:
        logger.info("run %s: nothing to do for task %s", run_id, task_id)
        return None
    run = selectors.run_get(run_id=run_id)
    if resumed:
        logger.warning("run %s: task %s redelivered, resuming (attempt %d)", run_id, task_id, run.attempts)
    return RunClaim(run=run, resumed=resumed)


def model_run_prepare(*, run_id: int, device: str, items_total: int, message: str) -> None:
    """What a worker found when it took the run: the device and the number of clips."""
    ModelRun.objects.filter(pk=run_id).update(device=device, items_total=items_total, progress_message=message)


def model_run_finalize_claim(*, run_id: int, task_id: str) -> bool:
    """Exactly one finalising task wins a running predict run (or the same task, redelivered)."""
    taken = ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING, finalizer_task_id="").update(
        finalizer_task_id=task_id
    )
    return (
        bool(taken)
        or ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING, finalizer_task_id=task_id).exists()
    )


def model_run_items_lost(*, run_id: int, count: int) -> None:
    """Clips deleted since the run was planned: they will never be predicted."""
    if count:
        ModelRun.objects.filter(pk=run_id).update(items_total=Greatest(F("items_total") - count, 0))


def model_run_progress(*, run_id: int, progress: float, message: str = "") -> None:
    """Move the progress bar forward (never back) while the run is running."""
    progress = min(1.0, max(0.0, float(progress)))
    ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING).update(
        progress=Greatest(F("progress"), progress), progress_message=message[:MESSAGE_MAX]
    )


def model_run_epoch_record(*, run_id: int, metrics: Mapping) -> None:
    """Append one epoch's metrics; the same (stage, epoch) recorded before (by an attempt that
    died before its checkpoint) is replaced."""
    with transaction.atomic():
        run = ModelRun.objects.select_for_update().get(pk=run_id)
        key = (metrics.get("stage", ""), metrics.get("epoch"))
        rows = [row for row in run.metrics if (row.get("stage", ""), row.get("epoch")) != key]
        rows.append(json_safe(dict(metrics)))
        stages = list(dict.fromkeys(row.get("stage", "") for row in rows))  # recipe stages in run order
        rows.sort(key=lambda row: (stages.index(row.get("stage", "")), row.get("epoch") or 0))
        run.metrics = rows
        run.save(update_fields=["metrics"])


def model_run_timing_add(*, run_id: int, **values) -> None:
    with transaction.atomic():
        run = ModelRun.objects.select_for_update().get(pk=run_id)
        run.timings = {**run.timings, **json_safe(values)}
        run.save(update_fields=["timings"])


def model_run_succeed(*, run_id: int, checkpoint_path: str = "", message: str = "done") -> bool:
    """Mark a running run succeeded; False when it was no longer running."""
    now = timezone.now()
    fields = {"status": ModelRun.Status.SUCCEEDED, "progress": 1.0, "progress_message": message, "finished_at": now}
    if checkpoint_path:
        fields["checkpoint_path"] = checkpoint_path
    done = ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING).update(**fields)
    if done:
        _record_duration(run_id=run_id)
        logger.info("run %s succeeded", run_id)
    return bool(done)


def model_run_fail(*, run_id: int, error: str) -> bool:
    """Mark a queued or running run failed with ``error``; a finished run is left alone."""
    done = ModelRun.objects.filter(pk=run_id, status__in=[ModelRun.Status.QUEUED, ModelRun.Status.RUNNING]).update(
        status=ModelRun.Status.FAILED,
        error=error,
        progress_message="failed",
        finished_at=timezone.now(),
    )
    if done:
        _record_duration(run_id=run_id)
        logger.error("run %s failed: %s", run_id, error.splitlines()[0] if error else "")
    return bool(done)


def model_run_mark_cancelled(*, run_id: int) -> bool:
    """The worker noticed the cancel request and stopped: the run ends cancelled."""
    done = ModelRun.objects.filter(
        pk=run_id, status__in=[ModelRun.Status.QUEUED, ModelRun.Status.RUNNING], cancel_requested=True
    ).update(status=ModelRun.Status.CANCELLED, progress_message="cancelled", finished_at=timezone.now())
    if done:
        _record_duration(run_id=run_id)
        logger.info("run %s cancelled", run_id)
    return bool(done)


def model_run_cancel(*, run: ModelRun) -> ModelRun:
    """Cancel a run: a queued run ends at once; a running one stops at the worker's next check."""
    if run.is_finished:
        raise ConflictError(f"run {run.pk} has already {run.status}")
    ModelRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    ModelRun.objects.filter(pk=run.pk, status=ModelRun.Status.QUEUED).update(
        status=ModelRun.Status.CANCELLED, progress_message="cancelled", finished_at=timezone.now()
    )
    run.refresh_from_db()
    if run.status == ModelRun.Status.RUNNING:
        ModelRun.objects.filter(pk=run.pk).update(progress_message="cancelling")
        run.refresh_from_db()
    logger.info("run %s: cancel requested (%s)", run.pk, run.status)
    return run


def _record_duration(*, run_id: int) -> None:
    run = ModelRun.objects.get(pk=run_id)
    if run.started_at and run.finished_at:
        model_run_timing_add(run_id=run_id, total_seconds=round((run.finished_at - run.started_at).total_seconds(), 3))


# --- predictions and proposals -----------------------------------------------------------------


def _prediction_fields(prediction: ClipPrediction, heatmap_path: str) -> dict:
    label_probs = prediction.label_probs or {}
    return {
        "heads": {
            head: {"top5": [[int(index), float(prob)] for index, prob in top], "label_prob": label_probs.get(head)}
            for head, top in prediction.heads.items()
        },
        "vote_index": None if prediction.error else prediction.vote,
        "union_indices": [int(index) for index in prediction.union],
        "event_type": prediction.event_type or "",
        "instant_steps": [int(step) for step in prediction.instant_steps],
        "onset_steps": [int(step) for step in prediction.onset_steps],
        "modality_confidence": {key: float(value) for key, value in prediction.modality_confidence.items()},
        "heatmap_path": heatmap_path,
        "flags": list(prediction.flags),
        "error": prediction.error or "",
    }


PREDICTION_FIELDS = (
    "heads",
    "vote_index",
    "union_indices",
    "event_type",
    "instant_steps",
    "onset_steps",
    "modality_confidence",
    "heatmap_path",
    "flags",
    "error",
)


def predictions_store(
    *, run: ModelRun, predictions: Mapping[int, ClipPrediction], heatmap_paths: Mapping[int, str] | None = None
) -> int:
    """Store a prediction per clip primary key; storing a clip again replaces its row."""
    heatmap_paths = heatmap_paths or {}
    rows = [
        Prediction(run=run, clip_id=clip_pk, **_prediction_fields(prediction, heatmap_paths.get(clip_pk, "")))
        for clip_pk, prediction in predictions.items()
    ]
    Prediction.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["run", "clip"], update_fields=list(PREDICTION_FIELDS)
    )
    return len(rows)


def _step_seconds(steps: Sequence[int], step_seconds: float) -> tuple[float, ...]:
    """Centre of each time step, in seconds from the clip start."""
    return tuple(round((step + 0.5) * step_seconds, 3) for step in steps)


def proposals_from_predictions(*, run: ModelRun) -> ProposalSet:
    """Store the union labels of a predict run as the proposal set ``run.proposal_set_name``:
    each label with the heads that proposed it and its best score, plus per clip evidence
    (event type, instant and onset moments in seconds, localisation heatmap)."""
    from annotator.importers.proposals import EvidenceRow, ProposalRow, proposal_set_store
    from modelzoo.nn.model import HEAD_NAMES

    def head_order(head: str) -> tuple[int, str]:  # jsonb keeps no key order: the paper's order
        return (HEAD_NAMES.index(head) if head in HEAD_NAMES else len(HEAD_NAMES), head)

    if not run.proposal_set_name:
        raise ApplicationError(f"run {run.pk} has no proposal set name")
    names = selectors.category_names_by_index(taxonomy=run.dataset.taxonomy)
    step_seconds = CONFIGS[run.config_name].step_seconds
    proposals: list[ProposalRow] = []
    evidence: list[EvidenceRow] = []
    for prediction in selectors.run_predictions(run=run).filter(error=""):
        clip_id = prediction.clip.clip_id
        for index in prediction.union_indices:
            heads = [
                (head, data["top5"][0][1])
                for head, data in sorted(prediction.heads.items(), key=lambda item: head_order(item[0]))
                if data["top5"] and data["top5"][0][0] == index
            ]
            proposals.append(
                ProposalRow(
                    clip_id=clip_id,
                    category_name=names[index],
                    score=max((prob for _, prob in heads), default=None),
                    heads=tuple(head for head, _ in heads),
                )
            )
        evidence.append(
            EvidenceRow(
                clip_id=clip_id,
                event_type=prediction.event_type,
                instant_seconds=_step_seconds(prediction.instant_steps, step_seconds),
                onset_seconds=_step_seconds(prediction.onset_steps, step_seconds),
                heatmap_path=prediction.heatmap_path,
            )
        )
    report = proposal_set_store(
        dataset=run.dataset,
        name=run.proposal_set_name,
        source=ProposalSet.Source.MODEL,
        source_ref=f"model-run:{run.pk}",
        proposals=proposals,
        evidence=evidence,
    )
    if report.errors:
        logger.warning("run %s: %d proposal rows refused, first: %s", run.pk, len(report.errors), report.errors[0])
    proposal_set = ProposalSet.objects.get(dataset=run.dataset, name=run.proposal_set_name)
    ModelRun.objects.filter(pk=run.pk).update(proposal_set=proposal_set)
    run.proposal_set = proposal_set
    return proposal_set
