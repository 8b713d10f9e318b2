"""Run lifecycle: starting (enqueued after commit), exclusive claims, redelivery, cancel, failure."""

import dataclasses
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.utils import timezone

from config.errors import ApplicationError, ConflictError
from modelzoo import selectors, services, tasks, training
from modelzoo.models import ModelRun
from modelzoo.nn import train as nn_train
from modelzoo.nn.checkpoint import load_checkpoint
from modelzoo.nn.events import EpochEnd, StepProgress


def _worker_lost(run: ModelRun) -> None:
    """The worker holding ``run`` died: its last heartbeat is older than the staleness limit."""
    stale = timedelta(seconds=django_settings.AVLABEL_RUN_STALE_SECONDS + 1)
    ModelRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - stale)


def _start(dataset, **overrides) -> ModelRun:
    arguments = {"dataset": dataset, "model_kind": "event_heads", "config_name": "tiny", "epochs": 1, "batch_size": 4}
    return services.model_run_start_training(**(arguments | overrides))


def test_start_training_queues_a_run_and_enqueues_it_after_commit(
    synthetic_dataset, researcher, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.model_run_train, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = _start(synthetic_dataset, created_by=researcher)
        delay.assert_not_called()  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(run.pk)
    assert (run.kind, run.status, run.created_by) == ("train", "queued", researcher)
    assert run.num_classes == 3
    assert run.items_total == selectors.dataset_clip_items(dataset=synthetic_dataset, split="train").__len__()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model_kind": "transformer"}, "unknown model kind"),
        ({"config_name": "huge"}, "unknown model config"),
        ({"split": "nowhere"}, "no usable labelled clips"),
        ({"epochs": 0}, "at least 1"),
        ({"recipe": True, "model_kind": "naive_av"}, "recipe"),
        ({"val_split": "train"}, "validation split"),
    ],
)
def test_start_training_refuses_bad_input_and_stores_nothing(
    synthetic_dataset, overrides, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ApplicationError, match=message):
        _start(synthetic_dataset, **overrides)
    assert not callbacks
    assert not ModelRun.objects.exists()


def test_claim_is_taken_by_one_task_only(synthetic_dataset):
    run = _start(synthetic_dataset)
    first = services.model_run_claim(run_id=run.pk, task_id="task-a")
    second = services.model_run_claim(run_id=run.pk, task_id="task-b")
    assert first is not None and not first.resumed
    assert second is None
    run.refresh_from_db()
    assert (run.status, run.task_id, run.attempts) == ("running", "task-a", 1)
    assert run.started_at is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_leave_exactly_one_winner(synthetic_dataset, postgres_db):
    run = _start(synthetic_dataset)
    barrier = threading.Barrier(6)
    winners = []

    def claim(number: int) -> None:
        try:
            barrier.wait()
            if services.model_run_claim(run_id=run.pk, task_id=f"task-{number}") is not None:
                winners.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    run.refresh_from_db()
    assert run.task_id == f"task-{winners[0]}" and run.attempts == 1


def test_the_same_task_redelivered_takes_its_running_run_back(synthetic_dataset):
    run = _start(synthetic_dataset)
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    _worker_lost(run)
    again = services.model_run_claim(run_id=run.pk, task_id="task-a")
    assert again is not None and again.resumed
    assert again.run.attempts == 2


def test_a_finished_run_is_never_claimed_again(synthetic_dataset):
    run = _start(synthetic_dataset)
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    services.model_run_succeed(run_id=run.pk, checkpoint_path="/x/last.pt")
    assert services.model_run_claim(run_id=run.pk, task_id="task-a") is None
    run.refresh_from_db()
    assert (run.status, run.progress, run.checkpoint_path) == ("succeeded", 1.0, "/x/last.pt")


def test_cancelling_a_queued_run_ends_it_and_no_worker_takes_it(synthetic_dataset):
    run = services.model_run_cancel(run=_start(synthetic_dataset))
    assert run.status == "cancelled" and run.finished_at is not None
    assert services.model_run_claim(run_id=run.pk, task_id="task-a") is None


def test_cancelling_a_running_run_asks_its_worker_to_stop(synthetic_dataset):
    run = _start(synthetic_dataset)
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    run = services.model_run_cancel(run=run)
    assert (run.status, run.cancel_requested) == ("running", True)
    assert training.CancelCheck(run_id=run.pk)()
    assert services.model_run_mark_cancelled(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled"
    with pytest.raises(ConflictError):
        services.model_run_cancel(run=run)


def test_progress_only_moves_forward_and_only_while_running(synthetic_dataset):
    run = _start(synthetic_dataset)
    services.model_run_progress(run_id=run.pk, progress=0.5, message="early")
    run.refresh_from_db()
    assert run.progress == 0.0  # still queued
    services.model_run_claim(run_id=run.pk, task_id="task-a")
    services.model_run_progress(run_id=run.pk, progress=0.6, message="epoch 1")
    services.model_run_progress(run_id=run.pk, progress=0.4, message="late event")
    services.model_run_progress(run_id=run.pk, progress=7.0, message="overshoot")
    run.refresh_from_db()
    assert run.progress == 1.0 and run.progress_message == "overshoot"


def test_epoch_metrics_are_stored_json_safe_and_replaced_per_epoch(synthetic_dataset):
    run = _start(synthetic_dataset)
    services.model_run_epoch_record(
        run_id=run.pk, metrics={"epoch": 1, "train_loss": 2.0, "val": {"loss": float("nan")}}
    )
    services.model_run_epoch_record(run_id=run.pk, metrics={"epoch": 2, "train_loss": 1.5})
    services.model_run_epoch_record(run_id=run.pk, metrics={"epoch": 1, "train_loss": 1.9, "attempt": 2})
    run.refresh_from_db()
    assert [(row["epoch"], row["train_loss"]) for row in run.metrics] == [(1, 1.9), (2, 1.5)]
    assert {"epoch": 1, "train_loss": 2.0, "val": {"loss": None}} not in run.metrics


def test_training_in_process_stores_metrics_checkpoint_and_success(synthetic_dataset):
    run = _start(synthetic_dataset, epochs=2)
    events = []
    finished = training.model_run_train(run_id=run.pk, task_id="task-a", echo=events.append)
    assert finished.status == "succeeded", finished.error
    assert finished.progress == 1.0 and finished.device == "cpu"
    assert [row["epoch"] for row in finished.metrics] == [1, 2]
    assert all(row["attempt"] == 1 for row in finished.metrics)
    assert "vote_accuracy" in finished.metrics[0]["val"]
    assert load_checkpoint(finished.checkpoint_path)["epoch"] == 2
    assert isinstance(events[-1], EpochEnd) and events[-1].fraction == 1.0


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the task gets to run after it."""


def test_a_redelivered_training_task_resumes_from_the_last_checkpoint(synthetic_dataset):
    run = _start(synthetic_dataset, epochs=3)
    real_fit = nn_train.fit
    calls = []

    def fit_killed_after_first_epoch(**kwargs):
        calls.append(kwargs["resume"])
        if len(calls) == 1:
            real_fit(**(kwargs | {"config": dataclasses.replace(kwargs["config"], epochs=1)}))
            raise WorkerKilled
        return real_fit(**kwargs)

    with mock.patch.object(training.nn_train, "fit", side_effect=fit_killed_after_first_epoch):
        with pytest.raises(WorkerKilled):
            training.model_run_train(run_id=run.pk, task_id="task-a")
        run.refresh_from_db()
        assert run.status == "running" and [row["epoch"] for row in run.metrics] == [1]
        # Another task cannot take it; the redelivered one resumes once the run stopped beating.
        assert training.model_run_train(run_id=run.pk, task_id="task-b") is None
        _worker_lost(run)
        finished = training.model_run_train(run_id=run.pk, task_id="task-a")
    assert calls == [False, True]
    assert finished.status == "succeeded"
    assert [(row["epoch"], row["attempt"]) for row in finished.metrics] == [(1, 1), (2, 2), (3, 2)]
    assert finished.timings["resumed_from_epoch"] == 1
    assert finished.attempts == 2


def test_a_cancel_request_stops_training_after_the_current_step(synthetic_dataset, monkeypatch):
    monkeypatch.setattr(training, "CANCEL_CHECK_INTERVAL_SECONDS", 0.0)
    run = _start(synthetic_dataset, epochs=3, batch_size=2)

    def cancel_on_first_step(event):
        if isinstance(event, StepProgress) and event.epoch == 1 and event.step == 1:
            services.model_run_cancel(run=ModelRun.objects.get(pk=run.pk))

    finished = training.model_run_train(run_id=run.pk, task_id="task-a", echo=cancel_on_first_step)
    assert finished.status == "cancelled"
    assert finished.metrics == [] and finished.checkpoint_path == ""


def test_a_failing_task_marks_its_run_failed(synthetic_dataset):
    run = _start(synthetic_dataset)
    with mock.patch.object(training.nn_train, "fit", side_effect=RuntimeError("CUDA error: device-side assert")):
        result = tasks.model_run_train.apply(args=[run.pk], task_id="task-a")
    assert result.failed()
    run.refresh_from_db()
    assert run.status == "failed"
    assert "RuntimeError: CUDA error: device-side assert" in run.error
    assert run.finished_at is not None


def test_only_connection_errors_are_retried_and_a_bounded_number_of_times(synthetic_dataset):
    run = _start(synthetic_dataset)
    with (
        mock.patch.object(tasks.ModelRunTask, "retry_backoff", False),
        mock.patch.object(
            training, "model_run_train", side_effect=OperationalError("server closed the connection")
        ) as body,
    ):
        result = tasks.model_run_train.apply(args=[run.pk], task_id="task-a")
    assert result.failed()
    assert body.call_count == tasks.ModelRunTask.max_retries + 1
    run.refresh_from_db()
    assert run.status == "failed" and "OperationalError" in run.error


def test_device_can_be_forced_and_is_validated(settings):
    settings.AVLABEL_DEVICE = "cuda:1"
    assert services.device_choose() == "cuda:1"
    settings.AVLABEL_DEVICE = "gpu please"
    with pytest.raises(ApplicationError, match="not a device"):
        services.device_choose()
