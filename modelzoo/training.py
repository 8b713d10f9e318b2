"""Run a training run: the glue between a ModelRun row and ``modelzoo.nn.train``.

Called by the ``modelzoo.train`` task (on a GPU worker) or in-process by ``manage.py train
--inline``. Progress and per-epoch metrics go to the run row as training goes; a cancel
request stops training after the current step. The run is beaten while it trains: a run
queued again after its worker was lost resumes from the last epoch's checkpoint, and a worker
that finds its run taken by another one (it was wrongly thought lost) stops and writes no
outcome.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import av

from modelzoo import selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn import train as nn_train
from modelzoo.nn.checkpoint import CHECKPOINT_NAME, load_checkpoint
from modelzoo.nn.config import TrainConfig, get_config
from modelzoo.nn.events import EpochEnd, TrainEvent

# torchvision (imported by modelzoo.nn) switches PyAV's FFmpeg log callback on; with FFmpeg's
# frame-threaded decoders that callback deadlocks on the GIL when a decoder is freed. Off again.
av.logging.set_level(None)

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
CANCEL_CHECK_INTERVAL_SECONDS = 1.0


class ProgressReporter:
    """Writes training events to the run: the bar at most every 0.5 s, every epoch's metrics."""

    def __init__(self, *, run_id: int, attempt: int, echo: Callable[[TrainEvent], None] | None = None) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.echo = echo
        self._last = 0.0

    def __call__(self, event: TrainEvent) -> None:
        if self.echo is not None:
            self.echo(event)
        prefix = f"{event.stage.replace('_', ' ')}: " if event.stage else ""
        message = f"{prefix}epoch {event.epoch}/{event.epochs}, step {event.step}/{event.steps}"
        if not math.isnan(event.loss):
            message += f", loss {event.loss:.4f}"
        if isinstance(event, EpochEnd):
            row = dict(event.metrics) | {"attempt": self.attempt}
            if event.stage:
                row["stage"] = event.stage
            services.model_run_epoch_record(run_id=self.run_id, metrics=row)
        elif time.monotonic() - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = time.monotonic()
        services.model_run_progress(run_id=self.run_id, progress=event.fraction, message=message)


class CancelCheck:
    """``should_stop`` for nn.train: reads the run's cancel flag at most once a second; stops
    at once when ``heartbeat`` lost the run to another worker."""

    def __init__(self, *, run_id: int, heartbeat: services.Heartbeat | None = None) -> None:
        self.run_id = run_id
        self.heartbeat = heartbeat
        self._last = 0.0
        self._requested = False

    def __call__(self) -> bool:
        if self.heartbeat is not None and self.heartbeat.lost:
            return True
        if not self._requested and time.monotonic() - self._last >= CANCEL_CHECK_INTERVAL_SECONDS:
            self._last = time.monotonic()
            self._requested = selectors.run_cancel_requested(run_id=self.run_id)
        return self._requested


def _checkpoint_epoch(path: Path) -> int | None:
    if not path.exists():
        return None
    return int(load_checkpoint(path)["epoch"])


def _recover_epoch_metrics(*, run_id: int, results: dict[str, nn_train.FitResult]) -> None:
    """Epochs whose checkpoint was saved by an attempt that died before recording them: their
    metrics come back from the checkpoint (marked ``recovered``)."""
    recorded = {(row.get("stage", ""), row.get("epoch")) for row in selectors.run_get(run_id=run_id).metrics}
    for stage, result in results.items():
        for row in result.metrics_per_epoch:
            if (stage, row.get("epoch")) not in recorded:
                extra = {"stage": stage} if stage else {}
                services.model_run_epoch_record(run_id=run_id, metrics=dict(row) | extra | {"recovered": True})


def model_run_train(*, run_id: int, task_id: str, echo: Callable[[TrainEvent], None] | None = None) -> ModelRun | None:
    """Claim the run for ``task_id`` and train; returns the finished run (None: not ours, or
    no longer ours).

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
    with services.model_run_heartbeat(run_id=run.pk, task_id=task_id) as heartbeat:
        checkpoint_path, stopped = _train(
            claim=claim, should_stop=CancelCheck(run_id=run.pk, heartbeat=heartbeat), echo=echo
        )
    if heartbeat.lost:
        logger.warning("run %s: another worker holds it now; attempt %d stops here", run.pk, run.attempts)
        return None
    if stopped and selectors.run_cancel_requested(run_id=run.pk):
        services.model_run_mark_cancelled(run_id=run.pk)
    elif stopped or checkpoint_path is None:
        services.model_run_fail(run_id=run.pk, error="training stopped before completing an epoch")
    else:
        services.model_run_succeed(run_id=run.pk, checkpoint_path=str(checkpoint_path), message="trained")
    return selectors.run_get(run_id=run.pk)


def _train(
    *, claim: services.RunClaim, should_stop: CancelCheck, echo: Callable[[TrainEvent], None] | None
) -> tuple[Path | None, bool]:
    """Train the claimed run (resuming when a worker took it before): its checkpoint and
    whether training stopped early."""
    run = claim.run
    model_config = get_config(run.config_name)
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
        checkpoint = work_dir / (nn_train.RECIPE_MODEL_KIND if run.recipe else "") / CHECKPOINT_NAME
        services.model_run_timing_add(run_id=run.pk, resumed_from_epoch=_checkpoint_epoch(checkpoint))

    train_config = TrainConfig(
        model_kind=run.model_kind,
        num_classes=run.num_classes,
        epochs=run.epochs,
        batch_size=run.batch_size,
        lr=run.learning_rate,
        device=device,
    )
    train_pairs = [(item.path, item.label_index) for item in train_items]
    val_pairs = [(item.path, item.label_index) for item in val_items]
    on_progress = ProgressReporter(run_id=run.pk, attempt=run.attempts, echo=echo)
    started = time.monotonic()
    if run.recipe:
        recipe = nn_train.train_recipe(
            config=train_config,
            model_config=model_config,
            train_items=train_pairs,
            val_items=val_pairs,
            work_dir=work_dir,
            cache_dir=services.feature_cache_directory(),
            resume=True,  # a finished stage is never trained again
            video_weights_path=run.vision_weights or None,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        checkpoint_path, stopped = recipe.checkpoint_path, recipe.stopped
        results = dict(recipe.stages)
    else:
        result = nn_train.fit(
            config=train_config,
            model_config=model_config,
            train_items=train_pairs,
            val_items=val_pairs,
            checkpoint_dir=work_dir,
            cache_dir=services.feature_cache_directory(),
            resume=claim.resumed,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        checkpoint_path, stopped = result.checkpoint_path, result.stopped
        results = {"": result}
    services.model_run_timing_add(
        run_id=run.pk, **{f"train_seconds_attempt_{run.attempts}": round(time.monotonic() - started, 3)}
    )
    _recover_epoch_metrics(run_id=run.pk, results=results)
    return checkpoint_path, stopped
