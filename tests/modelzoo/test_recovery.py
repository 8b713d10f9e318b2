"""Surviving a lost worker, without a broker: heartbeats, the reaper, and claims that make a
redelivered message a no-op. Real workers killed with SIGKILL: test_celery_worker.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from modelzoo import inference, services, tasks, training
from modelzoo.models import ModelRun, PredictionChunk

ROOT = Path(__file__).resolve().parents[2]


def _start_training(dataset) -> ModelRun:
    return services.model_run_start_training(
        dataset=dataset, model_kind="event_heads", config_name="tiny", epochs=1, batch_size=4, enqueue=False
    )


def _start_prediction(trained_run) -> ModelRun:
    return services.model_run_start_prediction(source_run=trained_run, chunk_size=5, enqueue=False)


def _silent(rows) -> None:
    """The worker holding these rows died: no heartbeat for longer than the staleness limit."""
    seconds = django_settings.AVLABEL_RUN_STALE_SECONDS + 1
    rows.update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def _reap(django_capture_on_commit_callbacks) -> services.ReapReport:
    with django_capture_on_commit_callbacks(execute=True):
        return services.model_runs_reap()


def test_a_redelivered_task_does_nothing_while_its_run_still_beats(synthetic_dataset):
    run = _start_training(synthetic_dataset)
    assert services.model_run_claim(run_id=run.pk, task_id="task-a") is not None
    # Redis after its visibility timeout, RabbitMQ after a dropped connection: the same message again.
    assert services.model_run_claim(run_id=run.pk, task_id="task-a") is None
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 1) and run.heartbeat_at is not None

    _silent(ModelRun.objects.filter(pk=run.pk))
    resumed = services.model_run_claim(run_id=run.pk, task_id="task-a")
    assert resumed is not None and resumed.resumed and resumed.run.attempts == 2


def test_the_reaper_leaves_a_beating_run_alone_and_queues_a_silent_one_again(
    synthetic_dataset, django_capture_on_commit_callbacks
):
    run = _start_training(synthetic_dataset)
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    with mock.patch.object(tasks.model_run_train, "delay") as delay:
        assert _reap(django_capture_on_commit_callbacks).requeued_runs == []
        delay.assert_not_called()

        _silent(ModelRun.objects.filter(pk=run.pk))
        assert _reap(django_capture_on_commit_callbacks).requeued_runs == [run.pk]
        delay.assert_called_once_with(run.pk)
        assert _reap(django_capture_on_commit_callbacks).requeued_runs == []  # queued now: nothing to reap
    run.refresh_from_db()
    assert (run.status, run.task_id, run.heartbeat_at, run.attempts) == ("queued", "", None, 1)
    assert "lost its worker" in run.progress_message

    # The reaper's message takes it and resumes; the original, delivered late, does nothing.
    claim = services.model_run_claim(run_id=run.pk, task_id="task-b")
    assert claim is not None and claim.resumed and claim.run.attempts == 2
    assert services.model_run_claim(run_id=run.pk, task_id="task-a") is None


def test_a_run_lost_too_often_fails_and_a_lost_run_asked_to_cancel_ends_cancelled(
    synthetic_dataset, settings, django_capture_on_commit_callbacks
):
    settings.AVLABEL_RUN_MAX_ATTEMPTS = 1
    crashing, cancelled = _start_training(synthetic_dataset), _start_training(synthetic_dataset)
    for run in (crashing, cancelled):
        services.model_run_claim(run_id=run.pk, task_id=f"task-{run.pk}")
    services.model_run_cancel(run=cancelled)
    _silent(ModelRun.objects.all())

    report = _reap(django_capture_on_commit_callbacks)
    assert (report.failed_runs, report.cancelled_runs, report.requeued_runs) == ([crashing.pk], [cancelled.pk], [])
    crashing.refresh_from_db()
    cancelled.refresh_from_db()
    assert crashing.status == "failed" and "lost its worker" in crashing.error
    assert cancelled.status == "cancelled"


def test_a_lost_chunk_is_queued_again_and_its_late_message_does_nothing(
    trained_run, django_capture_on_commit_callbacks
):
    run = _start_prediction(trained_run)
    chunks = inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    services.model_run_release(run_id=run.pk, task_id="plan")
    lost = services.prediction_chunk_claim(run_id=run.pk, clip_pks=chunks[0], task_id="chunk-a")
    assert lost is not None and lost.attempts == 1

    # Released to its chunks: the run's own heartbeat counts no more, however old the plan is.
    assert ModelRun.objects.get(pk=run.pk).heartbeat_at is None
    with mock.patch.object(tasks.model_run_predict_chunk, "delay") as delay:
        assert _reap(django_capture_on_commit_callbacks) == services.ReapReport([], [], [], [])
        _silent(PredictionChunk.objects.filter(pk=lost.pk))
        assert _reap(django_capture_on_commit_callbacks).requeued_chunks == [lost.pk]
    delay.assert_called_once_with(run.pk, chunks[0])
    run.refresh_from_db()
    assert run.status == "running"  # the other chunks, waiting in the queue, were left alone

    again = services.prediction_chunk_claim(run_id=run.pk, clip_pks=chunks[0], task_id="chunk-b")
    assert again is not None and again.attempts == 2
    assert services.prediction_chunk_claim(run_id=run.pk, clip_pks=chunks[0], task_id="chunk-a") is None
    assert not PredictionChunk.objects.filter(run=run, status="queued", index=0).exists()


def test_a_plan_queued_again_keeps_its_chunks_and_sends_only_those_waiting(
    trained_run, django_capture_on_commit_callbacks
):
    run = _start_prediction(trained_run)
    chunks = inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    assert [len(chunk) for chunk in chunks] == [5, 5, 2]
    assert inference.model_run_predict_chunk(run_id=run.pk, clip_pks=chunks[0], task_id="chunk-0") is False

    # The planning worker died before it released the run.
    _silent(ModelRun.objects.filter(pk=run.pk))
    with mock.patch.object(tasks.model_run_predict, "delay"):
        assert _reap(django_capture_on_commit_callbacks).requeued_runs == [run.pk]
    assert inference.model_run_predict_plan(run_id=run.pk, task_id="plan-2") == chunks[1:]
    assert PredictionChunk.objects.filter(run=run).count() == 3


def test_a_finaliser_lost_midway_is_replaced_and_a_second_one_is_refused(trained_run):
    run = _start_prediction(trained_run)
    inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    assert services.model_run_finalize_claim(run_id=run.pk, task_id="final-a")
    assert not services.model_run_finalize_claim(run_id=run.pk, task_id="final-b")
    assert not services.model_run_finalize_claim(run_id=run.pk, task_id="final-a")  # still beating
    _silent(ModelRun.objects.filter(pk=run.pk))
    assert services.model_run_finalize_claim(run_id=run.pk, task_id="final-a")


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_beats_its_run_and_notices_when_another_task_took_it(synthetic_dataset, postgres_db, settings):
    settings.AVLABEL_RUN_HEARTBEAT_SECONDS = 0.05
    run = _start_training(synthetic_dataset)
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    _silent(ModelRun.objects.filter(pk=run.pk))
    silent_since = ModelRun.objects.get(pk=run.pk).heartbeat_at

    with services.model_run_heartbeat(run_id=run.pk, task_id="task-a") as heartbeat:
        deadline = time.monotonic() + 10
        while ModelRun.objects.get(pk=run.pk).heartbeat_at == silent_since:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.02)
        assert not heartbeat.lost
        should_stop = training.CancelCheck(run_id=run.pk, heartbeat=heartbeat)
        assert not should_stop()
        ModelRun.objects.filter(pk=run.pk).update(task_id="task-b")  # the reaper gave it to another worker
        while not heartbeat.lost:
            assert time.monotonic() < deadline, "the lost claim went unnoticed"
            time.sleep(0.02)
        assert should_stop()  # training stops at the next step and writes no outcome
    connection.close()


def test_the_beat_sends_the_reaper_well_within_the_recovery_bound():
    entry = django_settings.CELERY_BEAT_SCHEDULE["modelzoo.runs_reap"]
    assert entry["task"] in celery_app.tasks
    bound = django_settings.AVLABEL_RUN_STALE_SECONDS + entry["schedule"]
    assert bound < 120  # the issue: a lost run is taken again within 2 minutes


def test_a_staleness_shorter_than_three_heartbeats_stops_start_up(tmp_path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AVLABEL_DATA_DIR": str(tmp_path),
        "AVLABEL_RUN_HEARTBEAT_SECONDS": "10",
        "AVLABEL_RUN_STALE_SECONDS": "20",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "AVLABEL_RUN_STALE_SECONDS=20 must be at least three heartbeats" in result.stderr
