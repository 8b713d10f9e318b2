"""Real Celery workers and a beat scheduler (subprocesses) of the production app (``-A config``
with config.settings, nothing overridden) against a real broker and this test's PostgreSQL
database: training and fanned-out inference end to end, and runs that survive their worker
being killed with SIGKILL. The broker keeps the killed worker's message unacked (an hour on
Redis); the reaper, sent by the beat, queues the lost work again within seconds: training
resumes from its checkpoint, a prediction run completes without duplicate predictions, and
the original message, redelivered late, does nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
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
AMQP_URL = os.environ.get("AVLABEL_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 420
QUEUED_TIMEOUT_SECONDS = 90
# The bound for a run to be taken again after its worker died, with the default
# heartbeat, staleness and reaper period of config/settings.py.
RECOVERY_SECONDS = 120


@dataclass(frozen=True)
class Broker:
    url: str

    @property
    def is_redis(self) -> bool:
        return self.url.startswith("redis")


def _reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # kombu raises the transport's own errors
        return False


def _empty(url: str) -> None:
    """Nothing left from an earlier test: no message, no unacked delivery."""
    from kombu import Connection

    if url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()
        return
    with Connection(url) as conn:
        for queue in ("default", "gpu"):
            channel = conn.channel()
            try:
                channel.queue_purge(queue)
            except conn.channel_errors:  # not declared yet
                pass
            finally:
                channel.close()


def _reset_producer_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(params=["redis"])
def broker(request):
    """This process sends its tasks to the broker (Redis unless parametrised) during the test."""
    url = {"redis": REDIS_URL, "amqp": AMQP_URL}[request.param]
    require_or_skip(_reachable(url), f"{request.param} broker at {url}")
    _empty(url)
    # The write URL, because CELERY_BROKER_URL in the environment outranks conf.broker_url.
    previous = celery_app.conf.get("broker_write_url")
    celery_app.conf.broker_write_url = url
    _reset_producer_pools()
    yield Broker(url=url)
    celery_app.conf.broker_write_url = previous
    _reset_producer_pools()
    _empty(url)


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Process:
    """One `celery -A config ...` subprocess in its own process group."""

    def __init__(self, arguments: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
def celery_env(broker, postgres_db, synthetic_dataset, tmp_path):
    """The environment of a production host: config.settings, the README's variables, and
    no heartbeat, staleness or reaper period given (the defaults are what is tested)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AVLABEL_RUN", "CELERY_", "DJANGO_SETTINGS_MODULE"))
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker.url,
        "AVLABEL_DATA_DIR": str(tmp_path / "worker-data"),
        "AVLABEL_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "AVLABEL_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(tmp_path / "numba")),
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def start_worker(celery_env, tmp_path):
    workers: list[Process] = []

    def start() -> Process:
        arguments = [
            "worker", "-Q", "default,gpu", "--pool", "solo", "-c", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"mz-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        worker = Process(arguments, celery_env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def beat(celery_env, tmp_path):
    """The deployment's one beat scheduler, sending the reaper on the schedule of config.settings."""
    process = Process(["beat", "--loglevel", "INFO"], celery_env, tmp_path / "beat.log")
    yield process
    process.stop()


def _wait(run: ModelRun, *processes: Process, until=lambda run: run.is_finished, timeout=RUN_TIMEOUT_SECONDS):
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        run.refresh_from_db()
        if until(run):
            return run
        if run.status == "queued" and run.attempts == 0 and time.monotonic() > started + QUEUED_TIMEOUT_SECONDS:
            pytest.fail(f"no worker took run {run.pk} in {QUEUED_TIMEOUT_SECONDS}s:\n{processes[0].tail()}")
        for process in processes:
            if process.process.poll() is not None:
                pytest.fail(f"{process.log_path.name} exited ({process.process.returncode}):\n{process.tail()}")
        time.sleep(0.1)
    logs = "\n".join(f"--- {process.log_path.name}\n{process.tail()}" for process in processes)
    pytest.fail(f"run {run.pk} still {run.status} ({run.progress_message}) after {timeout:.0f}s:\n{logs}")


def _unacked_task_ids(url: str) -> dict[str, str]:
    """Redis: the messages delivered to a worker and not acked yet, task id -> delivery tag."""
    import redis

    deliveries = redis.Redis.from_url(url).hgetall("unacked")
    return {json.loads(raw)[0]["headers"]["id"]: tag.decode() for tag, raw in deliveries.items()}


def _redeliver(tag: str) -> None:
    """What Redis does with an unacked message once the visibility timeout (an hour) passed."""
    with celery_app.connection_for_write() as conn:
        conn.default_channel.qos.restore_by_tag(tag)


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
    assert list(predicted.chunks.values_list("status", "attempts")) == [("done", 1)] * 3
    proposals = Proposal.objects.filter(proposal_set=predicted.proposal_set)
    assert proposals.count() == sum(len(p.union_indices) for p in predicted.predictions.all())
    evidence = ClipEvidence.objects.filter(proposal_set=predicted.proposal_set)
    assert evidence.count() == 12
    assert all((Path(settings.MEDIA_ROOT) / e.heatmap_path).is_file() for e in evidence)


@pytest.mark.parametrize("broker", ["redis", "amqp"], indirect=True)
def test_training_survives_its_worker_being_killed(broker, start_worker, beat, synthetic_dataset):
    epochs = 6
    first = start_worker()
    run = services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="naive_av", epochs=epochs, batch_size=2, val_split=""
    )
    run = _wait(run, first, beat, until=lambda run: len(run.metrics) >= 1)
    original_task = run.task_id
    first.kill()
    killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.status == "running" and run.attempts == 1
    killed_after = max(row["epoch"] for row in run.metrics)
    assert killed_after < epochs, "training finished before the kill: raise epochs"

    second = start_worker()
    run = _wait(run, second, beat, until=lambda run: run.attempts == 2, timeout=RECOVERY_SECONDS)
    taken_again = time.monotonic() - killed_at
    run = _wait(run, second, beat)
    assert run.status == "succeeded", f"{run.error}\n{second.tail()}"
    assert run.attempts == 2, "the run was taken more than once after the kill"
    resumed_from = run.timings["resumed_from_epoch"]
    assert killed_after <= resumed_from < epochs
    assert [row["epoch"] for row in run.metrics] == list(range(1, epochs + 1))
    second_attempt = [row["epoch"] for row in run.metrics if row.get("attempt") == 2]
    # The second worker trained only the epochs after the checkpoint: it did not restart from 0.
    assert second_attempt == list(range(resumed_from + 1, epochs + 1))
    assert taken_again < RECOVERY_SECONDS

    if broker.is_redis:
        # The reaper's message took the run; the original still waits out its hour, unacked.
        assert run.task_id != original_task
        unacked = _unacked_task_ids(broker.url)
        assert original_task in unacked
        # Redelivered as the visibility timeout would, it finds the run finished: a no-op.
        _redeliver(unacked[original_task])
        deadline = time.monotonic() + 60
        while original_task in _unacked_task_ids(broker.url) or f"nothing to do for task {original_task}" not in (
            second.tail()
        ):
            assert time.monotonic() < deadline, f"the redelivered message was not consumed:\n{second.tail()}"
            time.sleep(0.2)
        finished = ModelRun.objects.get(pk=run.pk)
        assert (finished.status, finished.attempts, finished.metrics) == ("succeeded", 2, run.metrics)


def test_a_prediction_run_completes_without_duplicates_after_a_chunk_worker_is_killed(
    broker, start_worker, beat, trained_run
):
    first = start_worker()
    run = services.model_run_start_prediction(source_run=trained_run, chunk_size=4, proposal_set_name="after a kill")

    def chunk_in_flight(run: ModelRun) -> bool:
        statuses = list(run.chunks.values_list("status", flat=True))
        return "done" in statuses and "running" in statuses

    run = _wait(run, first, beat, until=chunk_in_flight)
    first.kill()
    killed_at = time.monotonic()
    lost = run.chunks.filter(status="running").first()
    assert lost is not None and lost.attempts == 1, "the kill fell between two chunks"
    stored_before = run.predictions.count()
    assert stored_before < 12

    second = start_worker()
    run = _wait(run, second, beat)
    assert run.status == "succeeded", f"{run.error}\n{second.tail()}"
    assert time.monotonic() - killed_at < RECOVERY_SECONDS
    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("done", 2)  # re-run by the second worker
    assert set(run.chunks.values_list("status", flat=True)) == {"done"}
    predictions = list(run.predictions.all())
    assert len(predictions) == len({p.clip_id for p in predictions}) == run.items_total == 12
    proposals = Proposal.objects.filter(proposal_set=run.proposal_set)
    assert proposals.count() == sum(len(p.union_indices) for p in predictions)
    assert ClipEvidence.objects.filter(proposal_set=run.proposal_set).count() == 12
