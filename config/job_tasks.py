"""The base of the Celery tasks whose first argument is the id of a row that records the work
(a model run, an import job): acked late, retried only on errors worth retrying, and any other
failure written to that row so the page shows it instead of a job that never ends."""

from __future__ import annotations

import logging

from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

#: A database or broker connection dropping: the work is retried, a bounded number of times.
RETRYABLE_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class RecordedJobTask(DjangoTask):
    """Subclasses name the id's keyword argument and record a failure on the row."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = RETRYABLE_ERRORS
    max_retries = 3
    retry_backoff = 5
    retry_backoff_max = 120
    retry_jitter = True
    id_argument = "job_id"

    def record_failure(self, row_id: int, exc: BaseException, einfo) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say where its failures are recorded")

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        row_id = args[0] if args else kwargs.get(self.id_argument)
        if row_id is None:
            return
        try:
            self.record_failure(row_id, exc, einfo)
        except Exception:  # the database itself may be what failed; the worker log keeps the error
            logger.exception("%s %s: could not record the failure of task %s", self.id_argument, row_id, task_id)
