"""The import API: a dataset created, files uploaded for each kind (a job id back), the job's
progress and its row-error report, media many at once or in chunks, a server folder under the
allowed roots. Researchers only, into datasets they own; bad input is a clear 4xx envelope."""

from __future__ import annotations

import csv
import io
import os
from unittest import mock

import pytest

from annotator import tasks
from annotator.models import Dataset, ImportJob
from tests.annotator.clients import client_for
from tests.annotator.imports import CLIPS_CSV, PROPOSALS_CSV, run_job, upload
from tests.builders import write_mp4
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(import_api_world):
    return import_api_world


def _envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    return body


def _post_clips(world, text: str = CLIPS_CSV, **fields):
    body = {"file": upload("clips.csv", text), "format": "generic", **fields}
    return world.api.post(f"/api/datasets/{world.dataset.pk}/imports/clips/", body, format="multipart")


def _job(response) -> ImportJob:
    assert response.status_code == 202, response.content
    return ImportJob.objects.get(pk=response.json()["id"])


def test_a_researcher_creates_a_dataset_on_a_listed_taxonomy(world):
    taxonomies = world.api.get("/api/taxonomies/").json()["results"]
    listed = next(row for row in taxonomies if row["id"] == world.taxonomy.pk)
    assert listed["category_count"] == 3

    response = world.api.post(
        "/api/datasets/create/", {"name": "birdsong", "taxonomy": world.taxonomy.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["owner"] == world.researcher.username
    assert Dataset.objects.get(name="birdsong").owner == world.researcher
    again = world.api.post("/api/datasets/create/", {"name": "birdsong", "taxonomy": world.taxonomy.pk}, format="json")
    assert "exists already" in _envelope(again, 400)["extra"]["fields"]["name"][0]


def test_a_clip_list_upload_answers_its_job_and_enqueues_it_after_commit(world, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.import_job_run, "delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = _post_clips(world)
    job = _job(response)
    delay.assert_called_once_with(job.pk)
    body = response.json()
    assert (body["status"], body["kind"], body["dataset"], body["file_name"]) == (
        "queued",
        "clips",
        world.dataset.pk,
        "clips.csv",
    )
    assert response["Location"] == f"/imports/{job.pk}/" == body["page_url"]

    run_job(job)
    detail = world.api.get(f"/api/imports/{job.pk}/").json()

    assert detail["status"] == "done" and detail["is_finished"] and detail["progress"] == 1.0
    assert detail["result"]["created"] == 3 and detail["error_count"] == 1
    assert detail["errors_preview"][0]["line"] == 5
    listed = world.api.get(f"/api/imports/?dataset={world.dataset.pk}").json()["results"]
    assert [row["id"] for row in listed] == [job.pk]


def test_the_row_error_report_is_a_csv_of_every_error_with_formulas_neutralised(world):
    job = run_job(_job(_post_clips(world, text="clip_id,labels\nx,=HYPERLINK(1)\ny,unicorn\nc0,dog barking\n")))

    response = world.api.get(f"/api/imports/{job.pk}/errors.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-errors.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["line", "message"] and [row[0] for row in rows[1:]] == ["2", "3"]
    assert all(not row[1].startswith("=") for row in rows[1:])


def test_proposals_gold_and_taxonomy_uploads_start_their_jobs(world):
    run_job(_job(_post_clips(world)))
    base = f"/api/datasets/{world.dataset.pk}/imports"
    proposals = world.api.post(
        f"{base}/proposals/", {"file": upload("p.csv", PROPOSALS_CSV), "name": "api proposals"}, format="multipart"
    )
    gold = world.api.post(
        f"{base}/gold/", {"file": upload("g.csv", "clip_id,label,truth\nc0,dog barking,present\n")}, format="multipart"
    )
    taxonomy = world.api.post(
        "/api/taxonomies/import/", {"name": "birds", "file": upload("birds.txt", "owl\nwren\n")}, format="multipart"
    )
    builtin = world.api.post("/api/taxonomies/import/", {"builtin": "llp"}, format="multipart")

    for response in (proposals, gold, taxonomy, builtin):
        assert run_job(_job(response)).status == "done"
    assert world.dataset.proposal_sets.get().name == "api proposals"
    assert _job(taxonomy).result["taxonomy_id"]


def test_media_many_at_once_then_probed(world, tmp_path):
    run_job(_job(_post_clips(world)))
    clip = write_mp4(tmp_path / "src.mp4", seconds=1.0, size=32).read_bytes()
    files = [upload("c0.mp4", clip, "video/mp4"), upload("c1.mp4", clip, "video/mp4"), upload("x.txt", "no")]

    uploaded = world.api.post(f"/api/datasets/{world.dataset.pk}/media/", {"files": files}, format="multipart")

    assert uploaded.status_code == 200, uploaded.content
    body = uploaded.json()
    assert (body["stored"], body["refused"]) == (2, 1)
    assert [(row["name"], row["status"], row["clip_id"]) for row in body["files"]] == [
        ("c0.mp4", "stored", "c0"),
        ("c1.mp4", "stored", "c1"),
        ("x.txt", "refused", None),
    ]
    job = run_job(_job(world.api.post(f"/api/datasets/{world.dataset.pk}/imports/media/", {}, format="json")))
    assert job.status == "done" and world.dataset.clips.filter(media_status="ok").count() == 2


def test_media_in_chunks_with_a_wrong_offset_answering_where_to_resume(world):
    url = f"/api/datasets/{world.dataset.pk}/media/chunks/"
    send = lambda offset, part: world.api.post(  # noqa: E731
        url, {"name": "c0.mp4", "offset": offset, "total_size": 6, "chunk": upload("blob", part)}, format="multipart"
    )
    assert send(0, b"abc").json()["status"] == "partial"
    assert _envelope(send(1, b"bcdef"), 409)["extra"] == {"received": 3}
    assert world.api.get(url, {"name": "c0.mp4"}).json()["received"] == 3
    done = send(3, b"def").json()
    assert (done["status"], done["received"], done["size"]) == ("stored", 6, 6)
    _envelope(world.api.get(url, {"name": "../c0.exe"}), 400)


def test_a_server_folder_outside_the_allowed_roots_is_a_400(world, settings, tmp_path):
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    (allowed / "set").mkdir(parents=True)
    elsewhere.mkdir()
    os.symlink(elsewhere, allowed / "out")
    settings.AVLABEL_MEDIA_IMPORT_ROOTS = [allowed]
    url = f"/api/datasets/{world.dataset.pk}/imports/media/"

    for folder in (str(elsewhere), str(allowed / "out"), f"{allowed}/set/../../elsewhere", "relative/set"):
        body = _envelope(world.api.post(url, {"folder": folder}, format="json"), 400)
        assert body["extra"]["allowed_roots"] == [str(allowed)]
    job = _job(world.api.post(url, {"folder": str(allowed / "set")}, format="json"))
    assert job.options["folder"] == str((allowed / "set").resolve())


# --- who may, and bad input -----------------------------------------------------------------------


def test_only_the_owning_researcher_imports_and_sees_the_jobs(world):
    job = _job(_post_clips(world))
    stranger = client_for(make_researcher())
    rater = client_for(make_rater())

    _envelope(stranger.post(f"/api/datasets/{world.dataset.pk}/imports/clips/", {}, format="multipart"), 404)
    _envelope(stranger.get(f"/api/imports/{job.pk}/"), 404)
    _envelope(stranger.get(f"/api/imports/{job.pk}/errors.csv"), 404)
    assert stranger.get("/api/imports/").json()["results"] == []
    _envelope(rater.post("/api/datasets/create/", {"name": "r", "taxonomy": world.taxonomy.pk}, format="json"), 403)
    _envelope(client_for(None).get(f"/api/imports/{job.pk}/"), 401)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"format": "excel"}, "format"),
        ({"file": None}, "file"),
        ({"split": "x" * 21}, "split"),
    ],
)
def test_a_bad_field_is_a_400_on_that_field_and_stores_nothing(world, fields, field):
    body = {"file": upload("clips.csv", CLIPS_CSV), "format": "generic", **fields}
    body = {key: value for key, value in body.items() if value is not None}
    response = world.api.post(f"/api/datasets/{world.dataset.pk}/imports/clips/", body, format="multipart")
    assert field in _envelope(response, 400)["extra"]["fields"]
    assert not ImportJob.objects.exists()


def test_an_empty_file_a_json_body_and_a_file_past_the_cap_are_refused_cleanly(world, settings):
    assert "empty" in _envelope(_post_clips(world, text=""), 400)["extra"]["fields"]["file"][0]
    json_body = world.api.post(f"/api/datasets/{world.dataset.pk}/imports/clips/", {"format": "generic"}, format="json")
    _envelope(json_body, 415)
    settings.AVLABEL_UPLOAD_MAX_BYTES = 2048
    too_large = _post_clips(world, text="clip_id,labels\n" + "c,dog barking\n" * 500)
    assert _envelope(too_large, 413)["extra"] == {"max_body_bytes": 2048}
    assert not ImportJob.objects.exists()


def test_more_files_than_the_setting_allows_is_a_400(world, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [upload(f"c{i}.mp4", b"x") for i in range(3)]
    response = world.api.post(f"/api/datasets/{world.dataset.pk}/media/", {"files": files}, format="multipart")
    _envelope(response, 400)


def test_the_json_api_keeps_its_own_smaller_cap(world, settings):
    settings.AVLABEL_API_MAX_BODY_BYTES = 1024
    response = world.api.post(
        "/api/datasets/create/", {"name": "n" * 2000, "taxonomy": world.taxonomy.pk}, format="json"
    )
    assert _envelope(response, 413)["extra"] == {"max_body_bytes": 1024}
