"""evaluation.compute through a real Celery worker and a real Redis broker."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from celery import Celery
from django.db import connection

from evaluation import services
from evaluation.models import EvaluationReport
from tests.conftest import require_or_skip
from tests.evaluation.builders import build_study

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/11"
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_evaluation_compute_runs_on_a_real_worker(tmp_path, monkeypatch):
    require_or_skip(_redis_up(), f"Redis on {REDIS_HOST}:{REDIS_PORT}")
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")
    # Given a committed study and a queued report
    built = build_study()
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        report = services.report_create(created_by=built.owner, study=built.study, n_boot=50)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "AVLABEL_DATA_DIR": str(tmp_path / "data"),
        "OMP_NUM_THREADS": "1",
    }
    # Celery lets CELERY_BROKER_URL override an app's broker: point it at Redis for the sender.
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    # Not the current app: shared tasks sent later in the session must keep using config's.
    sender = Celery("evaluation-test", broker=BROKER, set_as_current=False)
    sender.connection_for_write().default_channel.queue_purge("default")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # When the task is sent by name to the default queue
        sender.send_task("evaluation.compute", args=[report.pk], queue="default")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.poll() is None:
            report.refresh_from_db()
            if report.is_finished:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
    # Then the worker computed it and left its files
    report.refresh_from_db()
    assert report.status == EvaluationReport.Status.SUCCEEDED, output[-3000:]
    assert report.task_id and "human_study" in report.result["tables"]
    assert (tmp_path / "data" / "artifacts" / "evaluation" / f"report-{report.pk}" / "dataset.csv").is_file()
