"""REST API of model runs: researchers only, one operation per endpoint."""

from unittest import mock

import pytest
from rest_framework.test import APIClient

from modelzoo import services, tasks
from modelzoo.models import ModelRun
from tests.factories import make_rater

RUNS = "/api/modelzoo/runs/"


@pytest.fixture
def api(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    return client


@pytest.fixture
def queued_run(synthetic_dataset, researcher):
    return services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="naive_av", epochs=1, created_by=researcher
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", RUNS),
        ("post", RUNS + "train/"),
        ("post", RUNS + "predict/"),
        ("get", RUNS + "1/"),
        ("post", RUNS + "1/cancel/"),
        ("get", RUNS + "1/predictions/"),
    ],
)
def test_anonymous_users_and_raters_are_refused(db, method, path):
    anonymous = APIClient()
    assert getattr(anonymous, method)(path).status_code in (401, 403)
    rater = APIClient()
    rater.force_authenticate(make_rater())
    assert getattr(rater, method)(path).status_code == 403


def test_list_filters_and_paginates_runs(api, queued_run, trained_run):
    body = api.get(RUNS).json()
    assert body["count"] == 2 and {row["id"] for row in body["results"]} == {queued_run.pk, trained_run.pk}
    body = api.get(RUNS, {"status": "queued"}).json()
    assert [row["id"] for row in body["results"]] == [queued_run.pk]
    assert api.get(RUNS, {"status": "sleeping"}).status_code == 400
    assert api.get(RUNS, {"dataset": 999999}).status_code == 404


def test_train_creates_a_queued_run_enqueued_after_commit(api, synthetic_dataset, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.model_run_train, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post(
            RUNS + "train/",
            {"dataset_id": synthetic_dataset.pk, "model_kind": "event_heads", "recipe": True, "epochs": 2},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    delay.assert_called_once_with(body["id"])
    assert (body["status"], body["model_kind"], body["recipe"], body["epochs"]) == ("queued", "event_heads", True, 2)


def test_train_with_bad_input_answers_400_and_stores_nothing(api, synthetic_dataset):
    response = api.post(RUNS + "train/", {"dataset_id": synthetic_dataset.pk, "model_kind": "gpt"}, format="json")
    assert response.status_code == 400 and "model_kind" in response.json()["extra"]["fields"]
    response = api.post(
        RUNS + "train/",
        {"dataset_id": synthetic_dataset.pk, "model_kind": "audio_only", "split": "missing"},
        format="json",
    )
    assert response.status_code == 400 and "no usable labelled clips" in response.json()["message"]
    assert api.post(RUNS + "train/", {"dataset_id": 424242, "model_kind": "audio_only"}).status_code == 404
    assert not ModelRun.objects.exists()


def test_predict_starts_a_run_from_a_trained_one(api, trained_run, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.model_run_predict, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post(
            RUNS + "predict/", {"source_run_id": trained_run.pk, "split": "test", "chunk_size": 2}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    delay.assert_called_once_with(body["id"])
    assert body["source_run_id"] == trained_run.pk and body["make_proposals"] and body["proposal_set_name"]


def test_predict_from_a_run_that_is_not_trained_is_refused(api, queued_run):
    response = api.post(RUNS + "predict/", {"source_run_id": queued_run.pk}, format="json")
    assert response.status_code == 400 and "not a finished training run" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "data", "code"),
    [
        ("get", RUNS, {"status": "sleeping"}, 400),
        ("get", RUNS, {"dataset": 999999}, 404),
        ("post", RUNS + "train/", {"model_kind": "gpt"}, 400),
        ("post", RUNS + "train/", {"dataset_id": 424242, "model_kind": "audio_only"}, 404),
        ("post", RUNS + "predict/", {"source_run_id": 424242}, 404),
        ("get", RUNS + "424242/", None, 404),
        ("post", RUNS + "424242/cancel/", None, 404),
        ("get", RUNS + "424242/predictions/", None, 404),
    ],
)
def test_errors_answer_the_one_envelope(api, method, path, data, code):
    response = getattr(api, method)(path, data, format="json") if method == "post" else api.get(path, data)
    assert response.status_code == code
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    if code == 400 and path == RUNS + "train/":
        assert {"dataset_id", "model_kind"} <= set(body["extra"]["fields"])


def test_a_finished_run_cancelled_again_answers_409_in_the_envelope(api, queued_run):
    api.post(f"{RUNS}{queued_run.pk}/cancel/")
    response = api.post(f"{RUNS}{queued_run.pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {"message": f"run {queued_run.pk} has already cancelled", "extra": {}}


def test_detail_shows_progress_and_metrics(api, queued_run):
    services.model_run_epoch_record(run_id=queued_run.pk, metrics={"epoch": 1, "train_loss": 1.0})
    body = api.get(f"{RUNS}{queued_run.pk}/").json()
    assert body["status"] == "queued" and body["progress"] == 0.0
    assert body["metrics"] == [{"epoch": 1, "train_loss": 1.0}]
    assert api.get(f"{RUNS}424242/").status_code == 404


def test_cancel_ends_a_queued_run_and_conflicts_when_finished(api, queued_run):
    response = api.post(f"{RUNS}{queued_run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.post(f"{RUNS}{queued_run.pk}/cancel/").status_code == 409


def test_predictions_are_paginated(api, trained_run, researcher, settings):
    from modelzoo import inference

    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"PAGE_SIZE": 5}
    run = services.model_run_start_prediction(
        source_run=trained_run, split="train", with_heatmaps=False, created_by=researcher
    )
    inference.model_run_predict_inline(run_id=run.pk, task_id="inline")
    first = api.get(f"{RUNS}{run.pk}/predictions/").json()
    assert first["count"] == run.items_total
    row = first["results"][0]
    assert set(row["heads"]) == {"continuous", "instant", "onset", "visual", "audio"}
    assert {"clip", "vote_index", "union_indices", "event_type", "instant_steps", "onset_steps"} <= set(row)
    pages = [first]
    while pages[-1]["next"]:
        pages.append(api.get(pages[-1]["next"]).json())
    clips = [row["clip"] for page in pages for row in page["results"]]
    assert len(clips) == len(set(clips)) == run.items_total
