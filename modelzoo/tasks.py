"""Celery tasks of the model zoo: thin, id-based, idempotent on redelivery.

Routes (settings.CELERY_TASK_ROUTES) send train, predict and predict_chunk to the ``gpu``
queue; predict_finalize (proposals, bookkeeping) and runs_reap run on ``default``.

A worker killed mid-task stops beating its run (or chunk); ``runs_reap``, sent by the beat
scheduler every few seconds (settings.CELERY_BEAT_SCHEDULE), queues that work again with a new
message: training resumes from its last checkpoint, a chunk skips the clips already stored.
Messages are acked late, so the broker redelivers the original one too (at once on RabbitMQ,
after the visibility timeout on Redis); its claim then finds the work held or done and does
nothing. Only errors worth retrying (a database or broker connection dropping) are retried, a
bounded number of times; any other failure marks the run failed through
``services.model_run_fail``.
"""

from __future__ import annotations

import logging

from celery import group, shared_task
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError

from modelzoo import services

logger = logging.getLogger(__name__)

RETRYABLE_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class ModelRunTask(DjangoTask):
    """Tasks whose first argument is a ModelRun id."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = RETRYABLE_ERRORS
    max_retries = 3
    retry_backoff = 5
    retry_backoff_max = 120
    retry_jitter = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        run_id = args[0] if args else kwargs.get("run_id")
        if run_id is None:
            return
        try:
            services.model_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n\n{einfo}")
        except Exception:  # the database itself may be what failed; the worker log keeps the error
            logger.exception("run %s: could not record the failure of task %s", run_id, task_id)


@shared_task(name="modelzoo.train", base=ModelRunTask, bind=True)
def model_run_train(self, run_id: int) -> None:
    from modelzoo import training  # torch loads in workers only, never in the web process

    training.model_run_train(run_id=run_id, task_id=self.request.id)


@shared_task(name="modelzoo.predict", base=ModelRunTask, bind=True)
def model_run_predict(self, run_id: int) -> None:
    from modelzoo import inference

    chunks = inference.model_run_predict_plan(run_id=run_id, task_id=self.request.id)
    if chunks is None:
        return
    if chunks:
        group(model_run_predict_chunk.s(run_id, chunk) for chunk in chunks).apply_async()
    else:
        model_run_predict_finalize.delay(run_id)
    services.model_run_release(run_id=run_id, task_id=self.request.id)


@shared_task(name="modelzoo.predict_chunk", base=ModelRunTask, bind=True)
def model_run_predict_chunk(self, run_id: int, clip_pks: list[int]) -> None:
    from modelzoo import inference

    if inference.model_run_predict_chunk(run_id=run_id, clip_pks=clip_pks, task_id=self.request.id):
        model_run_predict_finalize.delay(run_id)


@shared_task(name="modelzoo.predict_finalize", base=ModelRunTask, bind=True)
def model_run_predict_finalize(self, run_id: int) -> None:
    from modelzoo import inference

    inference.model_run_predict_finalize(run_id=run_id, task_id=self.request.id)


@shared_task(name="modelzoo.runs_reap")
def model_runs_reap() -> None:
    services.model_runs_reap()
