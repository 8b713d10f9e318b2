"""Run pages: researchers only; the list, a run with its live progress, starting runs."""

from unittest import mock

import pytest
from django.test import Client

from modelzoo import services, tasks
from modelzoo.models import ModelRun
from tests.factories import make_rater


@pytest.fixture
def browser(researcher):
    client = Client()
    client.force_login(researcher)
    return client


@pytest.fixture
def queued_run(synthetic_dataset, researcher):
    return services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="audio_only", epochs=1, created_by=researcher
    )


@pytest.mark.parametrize("path", ["/runs/", "/runs/new/", "/runs/1/"])
def test_anonymous_users_go_to_login_and_raters_are_refused(db, path):
    response = Client().get(path)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    rater = Client()
    rater.force_login(make_rater())
    assert rater.get(path).status_code == 403


def test_run_list_shows_runs_with_progress_bars(browser, queued_run):
    response = browser.get("/runs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-run-id="{queued_run.pk}"' in html and "data-progress-bar" in html
    assert "/api/modelzoo/runs/0/" in html  # the live refresh polls the run API


def test_run_page_has_live_progress_chart_and_cancel(browser, queued_run):
    services.model_run_epoch_record(run_id=queued_run.pk, metrics={"epoch": 1, "train_loss": 0.5})
    response = browser.get(f"/runs/{queued_run.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/api/modelzoo/runs/{queued_run.pk}/" in html
    assert 'id="metrics-chart"' in html and '"train_loss": 0.5' in html
    assert f"/runs/{queued_run.pk}/cancel/" in html
    assert browser.get("/runs/424242/").status_code == 404


def test_cancel_button_cancels_and_returns_to_the_run(browser, queued_run):
    response = browser.post(f"/runs/{queued_run.pk}/cancel/")
    assert response.status_code == 302 and response.url == f"/runs/{queued_run.pk}/"
    queued_run.refresh_from_db()
    assert queued_run.status == "cancelled"
    browser.post(f"/runs/{queued_run.pk}/cancel/")  # finished: a message, no error page
    assert browser.get(f"/runs/{queued_run.pk}/").status_code == 200


def test_new_run_form_starts_training(browser, synthetic_dataset, django_capture_on_commit_callbacks):
    assert browser.get("/runs/new/").status_code == 200
    data = {
        "action": "train",
        "train-dataset": synthetic_dataset.pk,
        "train-model_kind": "recipe",
        "train-config_name": "tiny",
        "train-split": "train",
        "train-val_split": "val",
        "train-epochs": 3,
        "train-batch_size": 4,
        "train-learning_rate": 0.001,
    }
    with (
        mock.patch.object(tasks.model_run_train, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = browser.post("/runs/new/", data)
    run = ModelRun.objects.get()
    assert response.status_code == 302 and response.url == f"/runs/{run.pk}/"
    delay.assert_called_once_with(run.pk)
    assert (run.model_kind, run.recipe, run.epochs) == ("event_heads", True, 3)


def test_new_run_form_shows_service_errors_and_keeps_nothing(browser, synthetic_dataset):
    data = {
        "action": "train",
        "train-dataset": synthetic_dataset.pk,
        "train-model_kind": "naive_av",
        "train-config_name": "tiny",
        "train-split": "no-such-split",
        "train-epochs": 1,
        "train-batch_size": 4,
        "train-learning_rate": 0.001,
    }
    response = browser.post("/runs/new/", data)
    assert response.status_code == 400
    assert "no usable labelled clips" in response.content.decode()
    assert not ModelRun.objects.exists()


def test_new_run_form_starts_prediction_from_a_trained_run(browser, trained_run):
    data = {
        "action": "predict",
        "predict-source_run": trained_run.pk,
        "predict-chunk_size": 4,
        "predict-make_proposals": "on",
    }
    with mock.patch.object(tasks.model_run_predict, "delay"):
        response = browser.post("/runs/new/", data)
    run = ModelRun.objects.get(kind="predict")
    assert response.status_code == 302 and response.url == f"/runs/{run.pk}/"
    assert run.source_run == trained_run and run.make_proposals and run.chunk_size == 4
    page = browser.get(f"/runs/{run.pk}/").content.decode()
    assert f"run #{trained_run.pk}" in page
