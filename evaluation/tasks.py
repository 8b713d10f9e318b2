"""Celery tasks of evaluation: thin, id-based, on the default queue."""

from celery import shared_task

from evaluation import services


@shared_task(name="evaluation.compute", bind=True, acks_late=True)
def evaluation_compute(self, report_id: int) -> None:
    """Compute an EvaluationReport; idempotent on redelivery (a finished report is kept)."""
    services.report_compute(report_id=report_id, task_id=self.request.id or "")
