"""Model runs belong to their creator: another researcher can neither read a run (page, API,
checkpoint path, predictions) nor cancel it nor predict with its model, and gets a 404 as if
it did not exist. A run can be shared with named researchers; admins see every run."""

from unittest import mock

import pytest
from django.test import Client
from rest_framework.test import APIClient

from config.errors import NotFoundError
from modelzoo import selectors, services, tasks
from modelzoo.models import ModelRun
from tests.factories import make_rater, make_researcher, make_user

RUNS = "/api/modelzoo/runs/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other(db):
    return make_researcher(username="someone-else")


@pytest.fixture
def queued_run(synthetic_dataset, researcher):
    return services.model_run_start_training(
        dataset=synthetic_dataset, model_kind="naive_av", epochs=1, created_by=researcher, enqueue=False
    )


@pytest.fixture
def predict_run(trained_run, researcher):
    return services.model_run_start_prediction(source_run=trained_run, created_by=researcher, enqueue=False)


def test_another_researcher_can_neither_read_nor_cancel_nor_predict_from_a_run(
    queued_run, trained_run, predict_run, other
):
    api = _api(other)

    assert api.get(RUNS).json()["count"] == 0
    for run in (queued_run, trained_run, predict_run):
        assert api.get(f"{RUNS}{run.pk}/").status_code == 404  # with its checkpoint_path
        assert api.get(f"{RUNS}{run.pk}/predictions/").status_code == 404
    assert api.post(f"{RUNS}{queued_run.pk}/cancel/").status_code == 404
    response = api.post(RUNS + "predict/", {"source_run_id": trained_run.pk}, format="json")
    assert response.status_code == 404
    queued_run.refresh_from_db()
    assert queued_run.status == ModelRun.Status.QUEUED and not queued_run.cancel_requested
    assert ModelRun.objects.filter(created_by=other).count() == 0


def test_another_researchers_run_pages_are_404(client: Client, queued_run, trained_run, other):
    client.force_login(other)

    assert client.get(f"/runs/{queued_run.pk}/").status_code == 404
    assert client.post(f"/runs/{queued_run.pk}/cancel/").status_code == 404
    assert f"/runs/{queued_run.pk}/" not in client.get("/runs/").content.decode()
    form = client.get("/runs/new/").content.decode()
    assert f'value="{trained_run.pk}"' not in form and "synthetic" not in form  # neither their run nor dataset
    queued_run.refresh_from_db()
    assert queued_run.status == ModelRun.Status.QUEUED


def test_training_on_a_dataset_the_researcher_may_not_use_is_404(synthetic_dataset, other):
    response = _api(other).post(RUNS + "train/", {"dataset_id": synthetic_dataset.pk, "model_kind": "naive_av"})

    assert response.status_code == 404
    with pytest.raises(NotFoundError):
        services.model_run_start_training(dataset=synthetic_dataset, model_kind="naive_av", created_by=other)
    assert not ModelRun.objects.exists()


def test_a_prediction_run_uses_only_a_source_run_its_creator_may_use(trained_run, other):
    trained_run.dataset.shared_with.add(other)  # the dataset is theirs to use, the run is not

    with pytest.raises(NotFoundError, match="not yours"):
        services.model_run_start_prediction(source_run=trained_run, created_by=other, enqueue=False)
    assert not ModelRun.objects.filter(kind=ModelRun.Kind.PREDICT).exists()


def test_a_shared_run_can_be_read_and_predicted_from_but_only_its_owner_cancels_or_shares(
    queued_run, trained_run, researcher, other
):
    owner_api, other_api = _api(researcher), _api(other)
    trained_run.dataset.shared_with.add(other)

    for run in (queued_run, trained_run):
        response = owner_api.post(f"{RUNS}{run.pk}/share/", {"researchers": [other.username]}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["shared_with"] == [other.username]

    assert other_api.get(f"{RUNS}{trained_run.pk}/").json()["checkpoint_path"] == trained_run.checkpoint_path
    with mock.patch.object(tasks.model_run_predict, "delay"):
        response = other_api.post(RUNS + "predict/", {"source_run_id": trained_run.pk}, format="json")
    assert response.status_code == 201 and response.json()["created_by"] == other.username
    assert other_api.post(f"{RUNS}{queued_run.pk}/cancel/").status_code == 404
    share = other_api.post(f"{RUNS}{queued_run.pk}/share/", {"researchers": [other.username]}, format="json")
    assert share.status_code == 404
    rater = make_rater()
    refused = owner_api.post(f"{RUNS}{queued_run.pk}/share/", {"researchers": [rater.username]}, format="json")
    assert refused.status_code == 400


def test_admins_see_and_cancel_every_run(queued_run, trained_run):
    admin = _api(make_user(role="admin"))

    assert {row["id"] for row in admin.get(RUNS).json()["results"]} == {queued_run.pk, trained_run.pk}
    assert admin.post(f"{RUNS}{queued_run.pk}/cancel/").status_code == 200


def test_evaluation_reads_runs_through_the_same_rule(predict_run, researcher, other):
    from evaluation import selectors as evaluation_selectors

    assert list(evaluation_selectors.runs_for_user(user=researcher)) == [predict_run]
    assert list(evaluation_selectors.runs_for_user(user=other)) == []
    predict_run.shared_with.add(other)
    assert list(evaluation_selectors.runs_for_user(user=other)) == [predict_run]
    assert selectors.run_for_researcher(user=other, run_id=predict_run.pk) == predict_run
    with pytest.raises(NotFoundError):
        selectors.run_for_owner(user=other, run_id=predict_run.pk)
