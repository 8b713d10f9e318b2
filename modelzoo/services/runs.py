"""Starting runs: validate what was asked, store a queued run and enqueue its task once the
transaction commits; and where a run works (its device and folders)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction

from annotator import selectors as annotator_selectors
from annotator.models import Dataset
from config.errors import ApplicationError, NotFoundError
from modelzoo import selectors
from modelzoo.models import ModelRun
from modelzoo.nn.config import CONFIGS, DEVICE_PATTERN

logger = logging.getLogger(__name__)


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


def _check_access(*, user, dataset: Dataset, source_run: ModelRun | None = None) -> None:
    """A researcher's run uses only a dataset and a source run they may use; any other reads
    as not found, as on their pages and APIs. A run nobody started (``created_by`` None: a
    command's) is the operator's, who may use everything."""
    if user is None:
        return
    if not annotator_selectors.datasets_for_researcher(user=user).filter(pk=dataset.pk).exists():
        raise NotFoundError(f"Dataset {dataset.pk} does not exist or is not yours.")
    if source_run is not None and not selectors.runs_for_researcher(user=user).filter(pk=source_run.pk).exists():
        raise NotFoundError(f"model run {source_run.pk} does not exist or is not yours")


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
    _check_access(user=created_by, dataset=dataset)
    if model_kind not in ModelRun.ModelKind.values:
        raise ApplicationError(f"unknown model kind {model_kind!r}; use one of {', '.join(ModelRun.ModelKind.values)}")
    if recipe and model_kind != ModelRun.ModelKind.EVENT_HEADS:
        raise ApplicationError("the training recipe trains the event-head model: use model kind event_heads")
    _check_config(config_name)
    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ApplicationError("epochs and batch size must be at least 1 and the learning rate positive")
    if vision_weights and not _is_file(vision_weights):
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
    _check_access(user=created_by, dataset=dataset, source_run=source_run)
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


def _is_file(path: str) -> bool:
    """False, not an OSError, for a name the filesystem refuses (too long, a NUL byte)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False
