"""Precomputing a study's spectrogram strips when it is created (issue 12, point 1): queued
once committed, every clip analysed into the cache the rater page reads, idempotent when the
message comes again, progress on the study page, failures recorded on the job."""

from unittest import mock

import pytest

from annotator import services, spectrogram, tasks
from annotator.models import SpectrogramJob
from annotator.spectrogram import spectrogram_cache_path
from tests.annotator.clients import client_for, login


@pytest.fixture
def job(media_world):
    with mock.patch.object(tasks.spectrograms_prepare, "delay"):
        return services.spectrogram_job_start(study=media_world.study)


@pytest.fixture
def computed(monkeypatch):
    """The media files analysed (not read from the cache), in order."""
    names = []
    real = spectrogram.spectrogram_compute

    def counting(*, media_path):
        names.append(media_path.name)
        return real(media_path=media_path)

    monkeypatch.setattr(spectrogram, "spectrogram_compute", counting)
    return names


def test_creating_a_study_queues_its_spectrograms_once_committed(media_world, django_capture_on_commit_callbacks):
    body = {
        "name": "Precomputed",
        "dataset": media_world.dataset.pk,
        "proposal_set": media_world.proposal_set.pk,
        "raters": [rater.username for rater in media_world.raters],
        "sample_size": 3,
    }
    with (
        mock.patch.object(tasks.spectrograms_prepare, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(media_world.owner).post("/api/studies/create/", body, format="json")

    assert response.status_code == 201, response.content
    job = SpectrogramJob.objects.get(study_id=response.json()["id"])
    delay.assert_called_once_with(job.pk)
    assert (job.status, job.progress_done, job.progress_total) == ("queued", 0, 3)


def test_starting_again_keeps_the_one_job(media_world, job):
    with mock.patch.object(tasks.spectrograms_prepare, "delay") as delay:
        again = services.spectrogram_job_start(study=media_world.study)

    assert again.pk == job.pk
    assert not delay.called


def test_the_job_analyses_every_clip_into_the_pages_cache(media_world, job, computed):
    done = services.spectrogram_job_run(job_id=job.pk, task_id="task-1")

    assert (done.status, done.progress_done, done.progress_total, done.unreadable) == ("done", 3, 3, 0)
    assert done.message == "3 of 3 ready"
    assert len(computed) == 3
    for study_clip in media_world.study.study_clips.select_related("clip"):
        assert spectrogram_cache_path(clip=study_clip.clip).is_file()


def test_the_message_delivered_again_analyses_nothing_twice(media_world, job, computed):
    services.spectrogram_job_run(job_id=job.pk, task_id="task-1")
    # The worker died after the work but before the ack: the broker delivers the message again.
    SpectrogramJob.objects.filter(pk=job.pk).update(status=SpectrogramJob.Status.RUNNING)

    stolen = services.spectrogram_job_run(job_id=job.pk, task_id="another-task")
    again = services.spectrogram_job_run(job_id=job.pk, task_id="task-1")
    finished = services.spectrogram_job_run(job_id=job.pk, task_id="task-1")

    assert stolen is None, "a job running under another task is not taken"
    assert again.status == "done" and again.attempts == 2
    assert finished is None, "a finished job is not run again"
    assert len(computed) == 3, "the cache held every clip the first run analysed"


def test_a_clip_whose_media_went_is_counted_unreadable(media_world, job, media_root):
    study_clip = media_world.study.study_clips.select_related("clip").first()
    (media_root / "ds" / study_clip.clip.media_path).unlink()

    done = services.spectrogram_job_run(job_id=job.pk, task_id="task-1")

    assert (done.status, done.progress_done, done.unreadable) == ("done", 3, 1)
    assert done.message == "2 of 3 ready, 1 unreadable"


def test_an_unexpected_error_fails_the_job(job):
    tasks.spectrograms_prepare.on_failure(RuntimeError("disk full"), "task-1", (job.pk,), {}, None)

    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.message


def test_the_study_page_shows_the_progress(client, media_world, job):
    login(client, media_world.owner)
    SpectrogramJob.objects.filter(pk=job.pk).update(status=SpectrogramJob.Status.RUNNING, progress_done=1)

    running = client.get(f"/studies/{media_world.study.pk}/").content.decode()
    services.spectrogram_job_run(job_id=job.pk, task_id="")  # the same (blank) task id: taken again
    done = client.get(f"/studies/{media_world.study.pk}/").content.decode()

    assert 'data-status="running"' in running and "1 of 3" in running
    assert 'data-status="done"' in done and "3 of 3" in done


def test_the_study_is_rated_while_the_job_waits(client, media_world, job):
    login(client, media_world.raters[0])
    current = client.post(f"/api/studies/{media_world.study.pk}/next/").json()

    response = client.get(current["spectrogram_url"])

    assert response.status_code == 200, "computed on request, as before the job"
    assert SpectrogramJob.objects.get(pk=job.pk).status == "queued"
