"""A run's life after it was queued: claim, beat, report progress, finish, cancel; and the
reaper that queues again the runs and chunks whose worker was lost.

Claiming is idempotent: a worker takes a queued run with a conditional UPDATE that must touch
exactly one row. The task holding a run beats it (``services.heartbeat``); once the beats stop
for AVLABEL_RUN_STALE_SECONDS, ``model_runs_reap`` queues the run again with a new message and
the next worker resumes it from its checkpoint. The original message, redelivered by the broker
later (after an hour on Redis, at once on RabbitMQ), finds the run held by another task or
still beating, and does nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from config.errors import ConflictError
from modelzoo import selectors
from modelzoo.models import ModelRun, PredictionChunk
from modelzoo.services.heartbeat import Heartbeat, row_beat, stale_before

logger = logging.getLogger(__name__)

MESSAGE_MAX = ModelRun._meta.get_field("progress_message").max_length


@dataclass(frozen=True)
class RunClaim:
    run: ModelRun
    resumed: bool  # a worker took the run before: go on from its checkpoint


@dataclass(frozen=True)
class ReapReport:
    """What one pass of the reaper did, by run (or chunk) id."""

    requeued_runs: list[int]
    requeued_chunks: list[int]
    failed_runs: list[int]
    cancelled_runs: list[int]


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None (PostgreSQL's jsonb refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def model_run_claim(*, run_id: int, task_id: str) -> RunClaim | None:
    """Take a queued run for ``task_id``; None when there is nothing for this task to do.

    One conditional UPDATE wins: a queued run, or the running run this very task holds once
    its heartbeat went stale (the message redelivered after its worker died). A redelivery
    while the holder still beats, or after another task took the run, touches no row. A run
    that a worker took before resumes.
    """
    now = timezone.now()
    claimable = Q(status=ModelRun.Status.QUEUED, cancel_requested=False) | Q(
        status=ModelRun.Status.RUNNING, task_id=task_id, heartbeat_at__lt=stale_before()
    )
    taken = ModelRun.objects.filter(claimable, pk=run_id).update(
        status=ModelRun.Status.RUNNING,
        task_id=task_id,
        finalizer_task_id="",
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress_message=Case(When(attempts=0, then=Value("started")), default=Value("resumed: its worker was lost")),
    )
    if not taken:
        logger.info("run %s: nothing to do for task %s", run_id, task_id)
        return None
    run = selectors.run_get(run_id=run_id)
    resumed = run.attempts > 1
    if resumed:
        logger.warning("run %s: task %s resumes it (attempt %d)", run_id, task_id, run.attempts)
    return RunClaim(run=run, resumed=resumed)


def model_run_heartbeat(*, run_id: int, task_id: str, finalizing: bool = False) -> Heartbeat:
    """Beats the run while ``task_id`` holds it (``finalizing``: as its finaliser)."""
    holder = Q(status=ModelRun.Status.RUNNING) & (Q(finalizer_task_id=task_id) if finalizing else Q(task_id=task_id))
    return Heartbeat(beat=lambda: row_beat(model=ModelRun, pk=run_id, holder=holder), name=f"run-{run_id}-heartbeat")


def model_run_release(*, run_id: int, task_id: str) -> None:
    """The planning task sent every chunk: from now on the chunks hold the work, each beating
    its own row, so the run's heartbeat stops counting (null) until a finaliser takes it."""
    ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.RUNNING, task_id=task_id, finalizer_task_id="").update(
        heartbeat_at=None
    )


def model_run_prepare(*, run_id: int, device: str, items_total: int, message: str) -> None:
    """What a worker found when it took the run: the device and the number of clips."""
    ModelRun.objects.filter(pk=run_id).update(device=device, items_total=items_total, progress_message=message)


def model_run_finalize_claim(*, run_id: int, task_id: str) -> bool:
    """Exactly one finalising task wins a running predict run; the same task redelivered takes
    it back once its heartbeat went stale. The finaliser holds the run: it beats it."""
    claimable = Q(finalizer_task_id="") | Q(finalizer_task_id=task_id, heartbeat_at__lt=stale_before())
    taken = ModelRun.objects.filter(claimable, pk=run_id, status=ModelRun.Status.RUNNING).update(
        finalizer_task_id=task_id, heartbeat_at=timezone.now()
    )
    return bool(taken)


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


def model_runs_reap() -> ReapReport:
    """Queue again, each with a new message, the running runs and prediction chunks whose
    heartbeat went stale: their worker was lost. Work only waiting in the broker is never
    touched. A lost run whose cancel was asked ends cancelled; one lost AVLABEL_RUN_MAX_ATTEMPTS
    times (a run that kills its worker every time) fails.

    Each change is a conditional UPDATE on a row still stale, so a worker that beats again
    meanwhile keeps its work, and two reapers never queue the same work twice.
    """
    report = ReapReport(requeued_runs=[], requeued_chunks=[], failed_runs=[], cancelled_runs=[])
    cutoff = stale_before()
    for run in ModelRun.objects.filter(status=ModelRun.Status.RUNNING, heartbeat_at__lt=cutoff):
        _reap_run(run=run, cutoff=cutoff, report=report)
    chunks = PredictionChunk.objects.filter(
        status=PredictionChunk.Status.RUNNING, heartbeat_at__lt=cutoff, run__status=ModelRun.Status.RUNNING
    ).select_related("run")
    for chunk in chunks:
        _reap_chunk(chunk=chunk, cutoff=cutoff, report=report)
    if any(vars(report).values()):
        logger.warning("reaper: %s", report)
    return report


def _reap_run(*, run: ModelRun, cutoff, report: ReapReport) -> None:
    from modelzoo import tasks

    stale = ModelRun.objects.filter(pk=run.pk, status=ModelRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    lost = f"run {run.pk} lost its worker (no heartbeat for {settings.AVLABEL_RUN_STALE_SECONDS} s)"
    if _reap_ends_run(run=run, stale=stale, attempts=run.attempts, lost=lost, report=report):
        return
    with transaction.atomic():
        requeued = stale.update(
            status=ModelRun.Status.QUEUED,
            task_id="",
            finalizer_task_id="",
            heartbeat_at=None,
            progress_message=f"queued again: {lost}"[:MESSAGE_MAX],
        )
        if requeued:
            task = tasks.model_run_train if run.kind == ModelRun.Kind.TRAIN else tasks.model_run_predict
            task.delay_on_commit(run.pk)
            report.requeued_runs.append(run.pk)


def _reap_chunk(*, chunk: PredictionChunk, cutoff, report: ReapReport) -> None:
    from modelzoo import tasks

    stale = PredictionChunk.objects.filter(pk=chunk.pk, status=PredictionChunk.Status.RUNNING, heartbeat_at__lt=cutoff)
    lost = f"chunk {chunk.index} of run {chunk.run_id} lost its worker"
    if _reap_ends_run(run=chunk.run, stale=stale, attempts=chunk.attempts, lost=lost, report=report):
        return
    with transaction.atomic():
        if stale.update(status=PredictionChunk.Status.QUEUED, task_id="", heartbeat_at=None):
            tasks.model_run_predict_chunk.delay_on_commit(chunk.run_id, chunk.clip_pks)
            report.requeued_chunks.append(chunk.pk)


def _reap_ends_run(*, run: ModelRun, stale, attempts: int, lost: str, report: ReapReport) -> bool:
    """A lost run whose cancel was asked ends cancelled, one lost too often fails: True when
    the reaper should not queue the work again."""
    if run.cancel_requested:
        if stale.exists() and model_run_mark_cancelled(run_id=run.pk):
            report.cancelled_runs.append(run.pk)
        return True
    if attempts >= settings.AVLABEL_RUN_MAX_ATTEMPTS:
        if stale.exists() and model_run_fail(run_id=run.pk, error=f"{lost} on each of {attempts} attempts"):
            report.failed_runs.append(run.pk)
        return True
    return False


def _record_duration(*, run_id: int) -> None:
    run = ModelRun.objects.get(pk=run_id)
    if run.started_at and run.finished_at:
        model_run_timing_add(run_id=run_id, total_seconds=round((run.finished_at - run.started_at).total_seconds(), 3))
