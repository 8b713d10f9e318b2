"""Celery tasks of annotator: thin, each calls a service.

`annotator.import_run` (routed to the `default` queue in settings) runs an import job started
from a page or the API. It is acked late and its body idempotent: the claim is a conditional
UPDATE, and the importers store nothing twice. Only errors worth retrying (the database or the
broker dropping) are retried, a bounded number of times; any other failure marks the job
failed through `services.import_job_fail`.

`annotator.spectrograms_prepare` (the `default` queue) precomputes a new study's spectrogram
strips, in the same way: acked late, an idempotent body (the cache holds what a run did),
a failure written to its SpectrogramJob row.
"""

from celery import shared_task

from annotator import services
from config.job_tasks import RecordedJobTask


@shared_task(name="annotator.reservations_purge")
def reservations_purge() -> int:
    """Delete the reservations that have lapsed (sent by the beat scheduler); returns how many."""
    return services.reservations_purge()


class ImportJobTask(RecordedJobTask):
    """Tasks whose first argument is an ImportJob id."""

    retry_backoff_max = 60

    def record_failure(self, row_id: int, exc: BaseException, einfo) -> None:
        services.import_job_fail(job_id=row_id, error=f"unexpected error: {type(exc).__name__}: {exc}")


@shared_task(name="annotator.import_run", base=ImportJobTask, bind=True)
def import_job_run(self, job_id: int) -> None:
    services.import_job_run(job_id=job_id, task_id=self.request.id)


class SpectrogramJobTask(RecordedJobTask):
    """Tasks whose first argument is a SpectrogramJob id."""

    def record_failure(self, row_id: int, exc: BaseException, einfo) -> None:
        services.spectrogram_job_fail(job_id=row_id, error=f"unexpected error: {type(exc).__name__}: {exc}")


@shared_task(name="annotator.spectrograms_prepare", base=SpectrogramJobTask, bind=True)
def spectrograms_prepare(self, job_id: int) -> None:
    """Precompute the spectrogram strips of a new study's clips (services.spectrogram_jobs)."""
    services.spectrogram_job_run(job_id=job_id, task_id=self.request.id)
