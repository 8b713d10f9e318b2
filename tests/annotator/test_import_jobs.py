"""Import jobs: started by the services the pages and the API call, enqueued after commit,
run by the task's body (the same importers as the commands), claimed once, and failing
cleanly on unusable input without losing what was stored."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from annotator import services, tasks
from annotator.models import Clip, ClipLabel, GoldLabel, ImportJob, Proposal, Taxonomy
from config.errors import ApplicationError, NotFoundError
from tests.annotator.imports import CLIPS_CSV, PROPOSALS_CSV, build_import_world, run_job, upload
from tests.builders import write_mp4
from tests.factories import DatasetFactory, make_rater, make_researcher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path, media_root):
    settings.AVLABEL_IMPORT_DIR = tmp_path / "imports"
    return settings.AVLABEL_IMPORT_DIR


@pytest.fixture
def world():
    return build_import_world()


def _clips_job(world, text: str = CLIPS_CSV, name: str = "clips.csv") -> ImportJob:
    return services.clips_import_start(
        owner=world.researcher, dataset=world.dataset, upload=upload(name, text), file_format="generic"
    )


# --- datasets ---------------------------------------------------------------------------------


def test_dataset_create_makes_an_empty_dataset_the_researcher_owns(world):
    assert world.dataset.owner == world.researcher
    assert world.dataset.clips.count() == 0


def test_dataset_create_refuses_a_name_taken_and_a_rater():
    world = build_import_world()
    with pytest.raises(ApplicationError, match="exists already"):
        services.dataset_create(owner=world.researcher, name=world.dataset.name, taxonomy=world.taxonomy)
    with pytest.raises(ApplicationError, match="Not researchers"):
        services.dataset_create(owner=make_rater(), name="raters-own", taxonomy=world.taxonomy)


# --- starting a job -------------------------------------------------------------------------------


def test_a_job_keeps_the_upload_under_the_import_dir_and_is_enqueued_once_committed(
    world, import_dir, django_capture_on_commit_callbacks
):
    # Given an uploaded clip list; when the job is started
    with mock.patch.object(tasks.import_job_run, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = _clips_job(world)
        # Then nothing is sent before the transaction commits
        assert not delay.called
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(job.pk)
    assert (job.status, job.kind, job.dataset, job.owner) == ("queued", "clips", world.dataset, world.researcher)
    assert job.file_path == str(import_dir / f"job-{job.pk}" / "clips.csv")
    assert Path(job.file_path).read_text() == CLIPS_CSV


def test_the_task_is_routed_to_the_default_queue(settings):
    assert settings.CELERY_TASK_ROUTES["annotator.import_run"] == {"queue": "default"}
    assert tasks.import_job_run.name == "annotator.import_run" and tasks.import_job_run.acks_late


def test_no_job_into_another_researchers_dataset(world):
    stranger = make_researcher()
    with pytest.raises(NotFoundError):
        services.clips_import_start(
            owner=stranger, dataset=world.dataset, upload=upload("a.csv", "x"), file_format="generic"
        )
    unowned = DatasetFactory(taxonomy=world.taxonomy)
    with pytest.raises(NotFoundError):
        services.gold_import_start(owner=world.researcher, dataset=unowned, upload=upload("g.csv", "x"))
    assert not ImportJob.objects.exists()


def test_an_empty_or_oversized_upload_is_refused_before_any_job(world, settings):
    with pytest.raises(ApplicationError, match="empty"):
        _clips_job(world, text="")
    settings.AVLABEL_UPLOAD_MAX_BYTES = 10
    with pytest.raises(ApplicationError, match="larger than 10 bytes") as refused:
        _clips_job(world)
    assert refused.value.http_status == 413
    assert not ImportJob.objects.exists()


# --- running a job: the task's body -----------------------------------------------------------------


def test_a_clips_job_imports_the_list_and_keeps_its_row_errors(world):
    # Given a queued clip-list job; when the worker runs it
    job = run_job(_clips_job(world))
    # Then the clips are stored with their labels, and the bad row is in the report
    assert job.status == "done" and job.progress == 1.0
    assert set(world.dataset.clips.values_list("clip_id", flat=True)) == {"c0", "c1", "c2"}
    assert ClipLabel.objects.filter(clip__dataset=world.dataset).count() == 4
    assert job.result["created"] == 3 and job.error_count == 1
    assert job.errors == [[5, f"unknown label 'unicorn' (not in taxonomy '{world.taxonomy.name}')"]]
    assert "3 created" in job.message and job.started_at and job.finished_at and job.attempts == 1


def test_a_job_is_claimed_once_and_a_rerun_of_the_same_file_changes_nothing(world):
    job = run_job(_clips_job(world), task_id="first")
    # Another task for the same job (a duplicate message) finds it done and does nothing
    assert services.import_job_run(job_id=job.pk, task_id="second") is None
    job.refresh_from_db()
    assert job.attempts == 1 and job.task_id == "first"
    # The same file imported again: nothing new, nothing duplicated
    again = run_job(_clips_job(world))
    assert again.result["created"] == 0 and again.result["unchanged"] == 3
    assert world.dataset.clips.count() == 3


def test_a_job_still_running_under_the_same_task_is_taken_again_after_its_worker_died(world):
    job = _clips_job(world)
    ImportJob.objects.filter(pk=job.pk).update(status="running", task_id="t-1", attempts=1)
    # Another task leaves it alone; the same message delivered again resumes it
    assert services.import_job_run(job_id=job.pk, task_id="t-2") is None
    job = run_job(job, task_id="t-1")
    assert job.status == "done" and job.attempts == 2 and world.dataset.clips.count() == 3


def test_the_celery_task_runs_the_job(world):
    job = _clips_job(world)
    tasks.import_job_run.apply(args=[job.pk], task_id="celery-task-1")
    job.refresh_from_db()
    assert job.status == "done" and job.task_id == "celery-task-1"


def test_an_unexpected_error_marks_the_job_failed_through_the_task(world):
    job = _clips_job(world)
    with mock.patch.dict(services.imports.RUNNERS, {"clips": mock.Mock(side_effect=RuntimeError("disk gone"))}):
        tasks.import_job_run.apply(args=[job.pk], task_id="celery-task-2")
    job.refresh_from_db()
    assert job.status == "failed" and job.message == "unexpected error: RuntimeError: disk gone"


def test_an_unusable_file_fails_with_the_reason_and_keeps_what_was_stored(world):
    run_job(_clips_job(world))
    # A file that is not UTF-8, then one whose header lacks a column
    broken = services.clips_import_start(
        owner=world.researcher, dataset=world.dataset, upload=upload("b.csv", b"\xff\xfe\x00bad"), file_format="generic"
    )
    headless = _clips_job(world, text="clip,label\nc9,dog barking\n")
    assert "not UTF-8" in run_job(broken).message and run_job(broken).status == "failed"
    assert "lacks the required column" in run_job(headless).message
    assert world.dataset.clips.count() == 3 and ClipLabel.objects.filter(clip__dataset=world.dataset).count() == 4


def test_a_file_of_only_bad_rows_fails_with_its_report(world):
    job = run_job(_clips_job(world, text="clip_id,labels\nx,unicorn\ny,griffin\n"))
    assert job.status == "failed" and job.message.startswith("nothing imported") and job.error_count == 2


def test_progress_is_written_throttled_and_always_at_the_end(world, monkeypatch):
    job = _clips_job(world)
    writer = services.imports._ProgressWriter(job.pk)
    stored = lambda: ImportJob.objects.values_list("progress_done", "progress_total").get(pk=job.pk)  # noqa: E731

    writer(1, 4)
    writer(2, 4)  # within the interval: not written
    assert stored() == (1, 4)
    writer(4, 4)  # the last step always is
    assert stored() == (4, 4)


# --- taxonomies, proposals, gold -----------------------------------------------------------------


def test_a_taxonomy_job_imports_a_class_list_and_names_the_taxonomy():
    researcher = make_researcher()
    job = services.taxonomy_import_start(
        owner=researcher, name="birds", upload=upload("birds.txt", "owl\nwren\n\nkite\n")
    )
    job = run_job(job)
    taxonomy = Taxonomy.objects.get(name="birds")
    assert job.status == "done" and job.dataset is None and job.result["taxonomy_id"] == taxonomy.pk
    assert list(taxonomy.categories.values_list("name", "index")) == [("owl", 0), ("wren", 1), ("kite", 2)]
    assert taxonomy.source == "birds.txt"
    builtin = run_job(services.taxonomy_import_start(owner=researcher, name="", builtin="llp"))
    assert builtin.status == "done" and Taxonomy.objects.get(name="llp").categories.count() == 25


def test_a_taxonomy_other_researchers_datasets_use_is_refused(world):
    with pytest.raises(ApplicationError, match="other researchers' datasets"):
        services.taxonomy_import_start(owner=make_researcher(), name=world.taxonomy.name, upload=upload("t.txt", "x\n"))
    # Its owner may extend it
    job = services.taxonomy_import_start(
        owner=world.researcher, name=world.taxonomy.name, upload=upload("t.txt", "x\n")
    )
    assert job.status == "queued"


def test_proposals_and_gold_jobs_import_their_files(world):
    run_job(_clips_job(world))
    proposals = services.proposals_import_start(
        owner=world.researcher, dataset=world.dataset, upload=upload("p.csv", PROPOSALS_CSV), name="file proposals"
    )
    gold = services.gold_import_start(
        owner=world.researcher,
        dataset=world.dataset,
        upload=upload("g.csv", "clip_id,label,truth\nc0,dog barking,present\nc1,dog barking,absent\nc9,x,maybe\n"),
    )
    assert run_job(proposals).status == "done" and run_job(gold).status == "done"
    assert Proposal.objects.filter(proposal_set__name="file proposals").count() == 3
    assert GoldLabel.objects.filter(clip__dataset=world.dataset).count() == 2
    gold.refresh_from_db()
    assert gold.error_count == 1 and gold.errors[0][0] == 4


# --- media -------------------------------------------------------------------------------------------


def test_a_media_job_matches_and_probes_the_uploaded_files(world):
    run_job(_clips_job(world))
    with pytest.raises(ApplicationError, match="No media file has been uploaded"):
        services.media_import_start(owner=world.researcher, dataset=world.dataset)
    folder = services.media_upload_folder(dataset=world.dataset)
    for clip_id in ("c0", "c1"):
        write_mp4(folder / f"{clip_id}.mp4", seconds=1.0, size=32)
    job = run_job(services.media_import_start(owner=world.researcher, dataset=world.dataset))
    assert job.status == "done" and job.progress_total == 2 and job.progress_done == 2
    statuses = dict(world.dataset.clips.values_list("clip_id", "media_status"))
    assert statuses == {"c0": "ok", "c1": "ok", "c2": "missing"}
    world.dataset.refresh_from_db()
    assert world.dataset.media_root == str(folder)


def test_a_server_folder_must_lie_under_an_allowed_root(world, settings, tmp_path):
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    (allowed / "set").mkdir(parents=True)
    elsewhere.mkdir()
    os.symlink(elsewhere, allowed / "link-out")
    start = lambda folder: services.media_import_start(owner=world.researcher, dataset=world.dataset, folder=folder)  # noqa: E731

    settings.AVLABEL_MEDIA_IMPORT_ROOTS = []
    with pytest.raises(ApplicationError, match="AVLABEL_MEDIA_IMPORT_ROOTS"):
        start(str(allowed / "set"))
    settings.AVLABEL_MEDIA_IMPORT_ROOTS = [allowed]
    for refused in (str(elsewhere), str(allowed / "set" / ".." / ".." / "elsewhere"), str(allowed / "link-out"), "set"):
        with pytest.raises(ApplicationError) as error:
            start(refused)
        assert error.value.extra["allowed_roots"] == [str(allowed)]
    with pytest.raises(ApplicationError, match="not a folder"):
        start(str(allowed / "missing"))
    job = start(str(allowed / "set" / "."))
    assert job.options["folder"] == str((allowed / "set").resolve()) and not job.options["uploaded"]
    assert Clip.objects.filter(dataset=world.dataset).count() == 0
