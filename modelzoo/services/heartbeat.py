"""Heartbeats: how a worker shows it still holds a run or a prediction chunk.

The task holding a row beats it (``heartbeat_at``) from a background thread every
AVLABEL_RUN_HEARTBEAT_SECONDS; a row that has not beaten for AVLABEL_RUN_STALE_SECONDS lost
its worker, and the reaper (``lifecycle.model_runs_reap``) queues its work again. A thread,
not the progress callbacks: validation, feature caching or heatmaps go minutes without one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Model, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def stale_before() -> datetime:
    """Rows whose last heartbeat is older than this lost their worker."""
    return timezone.now() - timedelta(seconds=settings.AVLABEL_RUN_STALE_SECONDS)


def row_beat(*, model: type[Model], pk: int, holder: Q) -> bool | None:
    """Beat row ``pk`` if ``holder`` still describes it: True when beaten, False when another
    task holds it now (or it finished), None when this connection cannot see it at all."""
    rows = model._default_manager.filter(pk=pk)
    if rows.filter(holder).update(heartbeat_at=timezone.now()):
        return True
    return False if rows.exists() else None


class Heartbeat:
    """A context manager that calls ``beat`` every ``interval`` seconds in a daemon thread.

    ``lost`` turns true once ``beat`` answers False: the reaper gave the work to another
    worker, so the caller stops and writes no outcome. A database error only skips a beat
    (the database may be restarting); a row the thread cannot see (a test's open
    transaction, a deleted run) says nothing either way.
    """

    def __init__(self, *, beat: Callable[[], bool | None], name: str, interval: float | None = None) -> None:
        self._beat = beat
        self._interval = float(interval or settings.AVLABEL_RUN_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        # A beat blocked on the database must not hold the task: the daemon thread ends with it.
        self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    beaten = self._beat()
                except DatabaseError:
                    logger.warning("%s: heartbeat failed, trying again", self._thread.name, exc_info=True)
                    connection.close()  # reconnect next time
                    continue
                if beaten is False:
                    self.lost = True
                    logger.warning("%s: the row no longer names this task: another worker holds it", self._thread.name)
                    return
        finally:
            connection.close()  # this thread's own connection
