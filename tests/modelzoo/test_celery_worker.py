"""Real Celery workers (subprocesses) against Redis and this test's PostgreSQL database:
training and fanned-out inference end to end, and a training run that survives its worker
being killed with SIGKILL (the redelivered task resumes from the last checkpoint)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from annotator.models import ClipEvidence, Proposal
from config.celery import app as celery_app
from modelzoo import services
from modelzoo.models import ModelRun
from tests.conftest import require_or_skip

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("AVLABEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 420
QUEUED_TIMEOUT_SECONDS = 90


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _reset_producer_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def redis_broker():
    """This process sends its tasks to Redis for the duration of the test."""
    import redis

    require_or_skip(_redis_reachable(), f"Redis at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    # The write URL, because CELERY_BROKER_URL in the environment outranks conf.broker_url.
    previous = celery_app.conf.get("broker_write_url")
    celery_app.conf.broker_write_url = REDIS_URL
    _reset_producer_pools()
    yield REDIS_URL
    celery_app.conf.broker_write_url = previous
    _reset_producer_pools()


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One `celery worker` subprocess (solo pool) in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        command = [
            sys.executable, "-m", "celery", "-A", "tests.modelzoo.celery_worker_app", "worker",
            "-Q", "default,gpu", "--pool", "solo", "-c", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"mz-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL, as when a machine dies: nothing gets to clean up or ack."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def start_worker(redis_broker, postgres_db, synthetic_dataset, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": redis_broker,
        "AVLABEL_DATA_DIR": str(tmp_path / "worker-data"),
        "AVLABEL_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "AVLABEL_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(tmp_path / "numba")),
        "PYTHONPATH": str(ROOT),
    }
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _wait(run: ModelRun, worker: Worker, until=lambda run: run.is_finished) -> ModelRun:
    started = time.monotonic()
    while time.monotonic() < started + RUN_TIMEOUT_SECONDS:
        run.refresh_from_db()
        if until(run):
            return run
        if run.status == "queued" and time.monotonic() > started + QUEUED_TIMEOUT_SECONDS:
            pytest.fail(f"no worker took run {run.pk} in {QUEUED_TIMEOUT_SECONDS}s:\n{worker.tail()}")
        if worker.process.poll() is not None:
            pytest.fail(f"worker exited ({worker.process.returncode}):\n{worker.tail()}")
        time.sleep(0.2)
    pytest.fail(
        f"run {run.pk} still {run.status} ({run.progress_message}) after {RUN_TIMEOUT_SECONDS}s:\n{worker.tail()}"
    )


def test_a_worker_trains_then_predicts_in_chunks_and_stores_proposals(start_worker, synthetic_dataset):
    worker = start_worker()
    trained = services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="event_heads", epochs=2, batch_size=4
    )
    trained = _wait(trained, worker)
    assert trained.status == "succeeded", f"{trained.error}\n{worker.tail()}"
    assert [row["epoch"] for row in trained.metrics] == [1, 2]
    assert trained.device == "cpu" and Path(trained.checkpoint_path).is_file()

    predicted = services.model_run_start_prediction(
        source_run=trained, chunk_size=5, proposal_set_name="from the worker"
    )
    predicted = _wait(predicted, worker)
    assert predicted.status == "succeeded", f"{predicted.error}\n{worker.tail()}"
    assert predicted.timings["chunks"] == 3
    assert predicted.predictions.count() == predicted.items_total == 12
    proposals = Proposal.objects.filter(proposal_set=predicted.proposal_set)
    assert proposals.count() == sum(len(p.union_indices) for p in predicted.predictions.all())
    evidence = ClipEvidence.objects.filter(proposal_set=predicted.proposal_set)
    assert evidence.count() == 12
    assert all((Path(settings.MEDIA_ROOT) / e.heatmap_path).is_file() for e in evidence)


def test_training_survives_its_worker_being_killed(start_worker, synthetic_dataset):
    epochs = 8
    first = start_worker()
    run = services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="naive_av", epochs=epochs, batch_size=2, val_split=""
    )
    run = _wait(run, first, until=lambda run: len(run.metrics) >= 1)
    first.kill()
    run.refresh_from_db()
    assert run.status == "running" and run.attempts == 1
    killed_after = max(row["epoch"] for row in run.metrics)
    assert killed_after < epochs, "training finished before the kill: raise epochs"

    second = start_worker()
    run = _wait(run, second)
    assert run.status == "succeeded", f"{run.error}\n{second.tail()}"
    assert run.attempts == 2
    resumed_from = run.timings["resumed_from_epoch"]
    assert killed_after <= resumed_from < epochs
    assert [row["epoch"] for row in run.metrics] == list(range(1, epochs + 1))
    second_attempt = [row["epoch"] for row in run.metrics if row.get("attempt") == 2]
    # The second worker trained only the epochs after the checkpoint: it did not restart from 0.
    assert second_attempt == list(range(resumed_from + 1, epochs + 1))
