"""The import pages: a dataset created (and a taxonomy imported) on one page, each kind of
import on the dataset's page, the job page with its progress bar; the API's serializers
validate, so a bad form answers 400 with the field's message and starts nothing."""

from __future__ import annotations

import pytest

from annotator.models import Dataset, ImportJob
from tests.annotator.clients import login
from tests.annotator.imports import CLIPS_CSV, build_import_world, run_job, upload
from tests.builders import write_mp4
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path, media_root):
    settings.AVLABEL_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def world(client):
    world = build_import_world()
    world.client = login(client, world.researcher)
    return world


def _import_page(world) -> str:
    return f"/datasets/{world.dataset.pk}/import/"


def _posted_clips(world) -> ImportJob:
    """The clip list posted on the dataset's page: the job it redirects to."""
    response = world.client.post(
        _import_page(world), {"action": "clips", "format": "generic", "file": upload("c.csv", CLIPS_CSV)}
    )
    assert response.status_code == 302, response.content
    return ImportJob.objects.get(pk=int(response["Location"].strip("/").split("/")[1]))


def test_a_dataset_is_created_on_the_page_and_leads_to_its_import_page(world):
    page = world.client.get(f"/datasets/new/?taxonomy={world.taxonomy.pk}")
    assert page.status_code == 200 and b"Create dataset" in page.content

    response = world.client.post(
        "/datasets/new/", {"action": "dataset", "name": "page set", "taxonomy": world.taxonomy.pk}
    )

    dataset = Dataset.objects.get(name="page set")
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/import/"
    assert dataset.owner == world.researcher


def test_a_taken_dataset_name_is_shown_on_its_field(world):
    response = world.client.post(
        "/datasets/new/", {"action": "dataset", "name": world.dataset.name, "taxonomy": world.taxonomy.pk}
    )
    assert response.status_code == 400 and b"exists already" in response.content


def test_a_taxonomy_file_becomes_a_job_whose_page_offers_a_dataset_on_it(world):
    response = world.client.post(
        "/datasets/new/", {"action": "taxonomy", "name": "birds", "file": upload("birds.txt", "owl\nwren\n")}
    )
    job = ImportJob.objects.get(kind="taxonomy")
    assert response["Location"] == f"/imports/{job.pk}/"
    assert b"data-progress-bar" in world.client.get(f"/imports/{job.pk}/").content

    job = run_job(job)
    page = world.client.get(f"/imports/{job.pk}/").content.decode()
    assert f"/datasets/new/?taxonomy={job.result['taxonomy_id']}" in page


def test_a_clip_list_posted_on_the_dataset_page_runs_as_a_job_with_a_report(world):
    assert world.client.get(_import_page(world)).status_code == 200
    response = world.client.post(
        _import_page(world), {"action": "clips", "format": "generic", "file": upload("c.csv", CLIPS_CSV)}
    )
    job = ImportJob.objects.get(kind="clips")
    assert response["Location"] == f"/imports/{job.pk}/"
    run_job(job)

    page = world.client.get(f"/imports/{job.pk}/").content.decode()
    assert "done" in page and f"/api/imports/{job.pk}/errors.csv" in page and "unknown label" in page
    assert world.dataset.clips.count() == 3


def test_media_files_posted_together_are_stored_and_probed(world, tmp_path):
    run_job(_posted_clips(world))
    clip = write_mp4(tmp_path / "src.mp4", seconds=1.0, size=32).read_bytes()
    files = [upload("c0.mp4", clip, "video/mp4"), upload("c1.mp4", clip, "video/mp4")]

    response = world.client.post(_import_page(world), {"action": "media-upload", "files": files})

    job = ImportJob.objects.get(kind="media")
    assert response["Location"] == f"/imports/{job.pk}/"
    assert run_job(job).status == "done" and world.dataset.clips.filter(media_status="ok").count() == 2


def test_a_bad_form_is_a_400_with_its_message_and_starts_nothing(world):
    no_file = world.client.post(_import_page(world), {"action": "clips", "format": "generic"})
    bad_format = world.client.post(
        _import_page(world), {"action": "clips", "format": "excel", "file": upload("c.csv", CLIPS_CSV)}
    )
    no_media = world.client.post(_import_page(world), {"action": "media-upload", "files": [upload("x.txt", "no")]})
    folder = world.client.post(_import_page(world), {"action": "media-folder", "folder": "/etc"})

    assert {r.status_code for r in (no_file, bad_format, no_media, folder)} == {400}
    assert b"No file was submitted" in no_file.content and b"is not a valid choice" in bad_format.content
    assert b"No file was stored" in no_media.content and b"AVLABEL_MEDIA_IMPORT_ROOTS" in folder.content
    assert not ImportJob.objects.exists()


def test_an_upload_past_the_cap_is_a_413_before_it_is_read(world, settings):
    settings.AVLABEL_UPLOAD_MAX_BYTES = 2048
    response = world.client.post(
        _import_page(world), {"action": "clips", "format": "generic", "file": upload("c.csv", "x" * 5000)}
    )
    assert response.status_code == 413 and b"larger than 2048 bytes" in response.content


def test_the_pages_are_for_the_owning_researcher(world, client):
    job = run_job(_posted_clips(world))
    client.logout()
    login(client, make_researcher())
    assert client.get(_import_page(world)).status_code == 404
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    login(client, make_rater())
    assert client.get("/datasets/new/").status_code == 403
