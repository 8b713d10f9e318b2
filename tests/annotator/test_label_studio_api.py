"""The Label Studio import as a job kind: started over the API and from the dataset's import
page, run by the task's body, refused cleanly (4xx, or a failed job) on bad input."""

from __future__ import annotations

from unittest import mock

import pytest

from annotator import tasks
from annotator.models import ImportJob, Study
from tests.annotator.clients import client_for, login
from tests.annotator.imports import run_job, upload
from tests.annotator.label_studio import CONFIG, EXPORT
from tests.factories import make_researcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(import_api_world):
    return import_api_world


def _post(world, content=None, *, client=None, **fields):
    body = {"file": upload("export.json", content or EXPORT.read_bytes(), "application/json"), **fields}
    client = client or world.api
    return client.post(f"/api/datasets/{world.dataset.pk}/imports/label-studio/", body, format="multipart")


def test_an_upload_answers_its_job_enqueued_after_commit_and_the_run_stores_the_study(
    world, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.import_job_run, "delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = _post(world, study="LS pilot", config=CONFIG.read_text())

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    delay.assert_called_once_with(job.pk)
    assert (job.kind, job.options["study"]) == ("label_studio", "LS pilot")
    job = run_job(job)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.result["created"], job.result["ratings_created"], job.error_count) == (4, 4, 4)
    assert Study.objects.get(dataset=world.dataset).name == "LS pilot"
    errors = world.api.get(f"/api/imports/{job.pk}/errors.csv").content.decode()
    assert "unicorn" in errors


def test_another_researchers_dataset_is_not_found_and_a_missing_file_is_400(world):
    assert _post(world, client=client_for(make_researcher())).status_code == 404
    response = world.api.post(f"/api/datasets/{world.dataset.pk}/imports/label-studio/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["extra"]["fields"]
    too_long = _post(world, config="x" * 200_001)
    assert too_long.status_code == 400 and "config" in too_long.json()["extra"]["fields"]


def test_malformed_json_fails_the_job_with_the_reason(world):
    job = run_job(ImportJob.objects.get(pk=_post(world, b'[{"data": {"video": "a.mp4"}},').json()["id"]))

    assert job.status == ImportJob.Status.FAILED
    assert "invalid JSON" in job.message or "expected" in job.message


def test_the_import_page_starts_the_job(world, client):
    login(client, world.researcher)
    page = client.get(f"/datasets/{world.dataset.pk}/import/")
    assert b'id="label-studio-form"' in page.content

    response = client.post(
        f"/datasets/{world.dataset.pk}/import/",
        {"action": "label-studio", "file": upload("export.json", EXPORT.read_bytes()), "study": "From the page"},
    )

    assert response.status_code == 302, response.content
    job = ImportJob.objects.get(dataset=world.dataset, kind="label_studio")
    assert job.options["study"] == "From the page"
    refused = client.post(f"/datasets/{world.dataset.pk}/import/", {"action": "label-studio"})
    assert refused.status_code == 400
