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

from celery import group, shared_task

from config.job_tasks import RecordedJobTask
from modelzoo import services


class ModelRunTask(RecordedJobTask):
    """Tasks whose first argument is a ModelRun id."""

    id_argument = "run_id"

    def record_failure(self, row_id: int, exc: BaseException, einfo) -> None:
        services.model_run_fail(run_id=row_id, error=f"{type(exc).__name__}: {exc}\n\n{einfo}")


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
