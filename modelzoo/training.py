"""Run a training run: the glue between a ModelRun row and ``modelzoo.nn.train``.

Called by the ``modelzoo.train`` task (on a GPU worker) or in-process by ``manage.py train
--inline``. Progress and per-epoch metrics go to the run row as training goes; a cancel
request stops training after the current step; a redelivered task resumes from the last
epoch's checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

from modelzoo import selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn import train as nn_train
from modelzoo.nn.config import get_config

# torchvision (imported by modelzoo.nn) switches PyAV's FFmpeg log callback on; with FFmpeg's
# frame-threaded decoders that callback deadlocks on the GIL when a decoder is freed. Off again.
av.logging.set_level(None)

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
CANCEL_CHECK_INTERVAL_SECONDS = 1.0


class ProgressReporter:
    """Writes training events to the run: the bar at most every 0.5 s, every epoch's metrics."""

    def __init__(self, *, run_id: int, attempt: int, echo: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.echo = echo
        self._last = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        if self.echo is not None:
            self.echo(event)
        stage = event.get("stage", "")
        prefix = f"{stage.replace('_', ' ')}: " if stage else ""
        message = f"{prefix}epoch {event['epoch']}/{event['epochs']}, step {event['step']}/{event['steps']}"
        if event.get("loss") == event.get("loss"):  # not NaN
            message += f", loss {event['loss']:.4f}"
        if event.get("phase") == "epoch":
            row = dict(event["metrics"]) | {"attempt": self.attempt}
            if stage:
                row["stage"] = stage
            services.model_run_epoch_record(run_id=self.run_id, metrics=row)
        elif time.monotonic() - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = time.monotonic()
        services.model_run_progress(run_id=self.run_id, progress=event["fraction"], message=message)


class CancelCheck:
    """``should_stop`` for nn.train: reads the run's cancel flag at most once a second."""

    def __init__(self, *, run_id: int) -> None:
        self.run_id = run_id
        self._last = 0.0
        self._requested = False

    def __call__(self) -> bool:
        if not self._requested and time.monotonic() - self._last >= CANCEL_CHECK_INTERVAL_SECONDS:
            self._last = time.monotonic()
            self._requested = selectors.run_cancel_requested(run_id=self.run_id)
        return self._requested


def _checkpoint_epoch(path: Path) -> int | None:
    if not path.exists():
        return None
    return int(nn_train.load_checkpoint(path)["epoch"])


def _recover_epoch_metrics(*, run_id: int, results: dict[str, nn_train.FitResult]) -> None:
    """Epochs whose checkpoint was saved by an attempt that died before recording them: their
    metrics come back from the checkpoint (marked ``recovered``)."""
    recorded = {(row.get("stage", ""), row.get("epoch")) for row in selectors.run_get(run_id=run_id).metrics}
    for stage, result in results.items():
        for row in result.metrics_per_epoch:
            if (stage, row.get("epoch")) not in recorded:
                extra = {"stage": stage} if stage else {}
                services.model_run_epoch_record(run_id=run_id, metrics=dict(row) | extra | {"recovered": True})


def model_run_train(
    *, run_id: int, task_id: str, echo: Callable[[dict[str, Any]], None] | None = None
) -> ModelRun | None:
    """Claim the run for ``task_id`` and train; returns the finished run (None: not ours).

    Errors propagate (the task marks the run failed); ``echo`` also receives every progress
    event (a command's tqdm bar).
    """
    claim = services.model_run_claim(run_id=run_id, task_id=task_id)
    if claim is None:
        return None
    run = claim.run
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run.pk)
        return selectors.run_get(run_id=run.pk)
    config = get_config(run.config_name)
    train_items = selectors.dataset_clip_items(dataset=run.dataset, split=run.split, labelled_only=True)
    val_items = (
        selectors.dataset_clip_items(dataset=run.dataset, split=run.val_split, labelled_only=True)
        if run.val_split
        else []
    )
    device = services.device_choose()
    work_dir = services.run_directory(run=run)
    services.model_run_prepare(
        run_id=run.pk, device=device, items_total=len(train_items), message=f"training on {device}"
    )
    if claim.resumed:
        checkpoint = work_dir / ("event_heads" if run.recipe else "") / nn_train.CHECKPOINT_NAME
        services.model_run_timing_add(run_id=run.pk, resumed_from_epoch=_checkpoint_epoch(checkpoint))

    common: dict[str, Any] = {
        "config": config,
        "train_items": [(item.path, item.label_index) for item in train_items],
        "val_items": [(item.path, item.label_index) for item in val_items],
        "num_classes": run.num_classes,
        "batch_size": run.batch_size,
        "lr": run.learning_rate,
        "device": device,
        "on_progress": ProgressReporter(run_id=run.pk, attempt=run.attempts, echo=echo),
        "should_stop": CancelCheck(run_id=run.pk),
        "cache_dir": services.feature_cache_directory(),
    }
    started = time.monotonic()
    if run.recipe:
        recipe = nn_train.train_recipe(
            epochs=run.epochs,
            work_dir=work_dir,
            resume=True,  # a finished stage is never trained again
            video_weights_path=run.vision_weights or None,
            **common,
        )
        checkpoint_path, stopped = recipe.checkpoint_path, recipe.stopped
        results = dict(recipe.stages)
    else:
        result = nn_train.fit(
            model_kind=run.model_kind, epochs=run.epochs, checkpoint_dir=work_dir, resume=claim.resumed, **common
        )
        checkpoint_path, stopped = result.checkpoint_path, result.stopped
        results = {"": result}
    services.model_run_timing_add(
        run_id=run.pk, **{f"train_seconds_attempt_{run.attempts}": round(time.monotonic() - started, 3)}
    )
    _recover_epoch_metrics(run_id=run.pk, results=results)
    if stopped and selectors.run_cancel_requested(run_id=run.pk):
        services.model_run_mark_cancelled(run_id=run.pk)
    elif stopped or checkpoint_path is None:
        services.model_run_fail(run_id=run.pk, error="training stopped before completing an epoch")
    else:
        services.model_run_succeed(run_id=run.pk, checkpoint_path=str(checkpoint_path), message="trained")
    return selectors.run_get(run_id=run.pk)
