"""A researcher fills a dataset through the pages alone: a taxonomy, a dataset on it, a clip
list, media files and proposals, each an import job run by a real Celery worker (a thread
consuming the `default` queue of the configured broker, memory:// in the test runs) whose
progress bar the page shows until done; then a study on them from the study-create page."""

from __future__ import annotations

import re

import pytest

from annotator.models import ImportJob, Study
from config.celery import app
from tests.browser.pages import log_in_by_keyboard, screenshot
from tests.builders import write_mp4
from tests.factories import make_rater, make_researcher

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAMES = ["dog barking", "cat meowing", "car engine"]
CLIP_IDS = ["bvid0_000010", "bvid1_000020", "bvid2_000030"]
JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker in a thread (the solo pool), on the default queue, for this test only."""
    from celery.contrib.testing.worker import start_worker

    with app.connection_for_write() as connection:  # no message left over from other tests
        connection.default_channel.queue_declare(queue="default", durable=True, auto_delete=False)
        connection.default_channel.queue_purge("default")
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=["default"], loglevel="WARNING", shutdown_timeout=30
    ) as worker:
        yield worker


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "classes.txt").write_text("\n".join(NAMES) + "\n")
    rows = [f"{clip_id},{NAMES[i]},test" for i, clip_id in enumerate(CLIP_IDS)]
    (folder / "clips.csv").write_text("clip_id,labels,split\n" + "\n".join(rows) + "\n")
    proposals = [f"{clip_id},{NAMES[i]},0.9,audio" for i, clip_id in enumerate(CLIP_IDS)]
    proposals += [f"{clip_id},{NAMES[(i + 1) % 3]},0.4,visual" for i, clip_id in enumerate(CLIP_IDS)]
    (folder / "proposals.csv").write_text("clip_id,label,score,heads\n" + "\n".join(proposals) + "\n")
    media = [write_mp4(folder / f"{clip_id}.mp4", seconds=1.0, size=64) for clip_id in CLIP_IDS]
    return folder, media


def test_a_researcher_imports_a_dataset_through_the_pages_and_starts_a_study(
    live_server, page, settings, tmp_path, media_root, celery_worker, files
):
    settings.AVLABEL_IMPORT_DIR = tmp_path / "imports"
    folder, media = files
    make_researcher(username="imogen")
    rater = make_rater(username="rosa")
    base = live_server.url

    log_in_by_keyboard(page, base_url=base, username="imogen", next_url="/datasets/new/")
    # A taxonomy from a class-list file, then a dataset on it
    page.fill("#id_taxonomy_name", "browser sounds")
    page.set_input_files("#id_taxonomy_file", str(folder / "classes.txt"))
    _submit_and_watch(page, "Import taxonomy", base)
    with page.expect_navigation():
        page.click("#create-dataset")
    page.fill("#id_dataset_name", "browser set")
    assert page.locator("#id_dataset_taxonomy option:checked").inner_text() == "browser sounds"
    with page.expect_navigation():
        page.get_by_role("button", name="Create dataset").click()
    match = re.fullmatch(rf"{re.escape(base)}/datasets/(\d+)/import/", page.url)
    assert match, page.url

    # The clip list, the media files (all three at once), the proposals
    page.set_input_files("#id_clips_file", str(folder / "clips.csv"))
    page.select_option("#id_clips_format", "generic")
    clips_job = _submit_and_watch(page, "Import clip list", base)
    assert clips_job.result["created"] == 3
    _back_to_dataset(page)
    page.set_input_files("#id_media-upload_files", [str(path) for path in media])
    media_job = _submit_and_watch(page, "Upload and import media", base)
    assert media_job.result["clips_ok"] == 3 and media_job.progress_done == media_job.progress_total == 3
    _back_to_dataset(page)
    page.set_input_files("#id_proposals_file", str(folder / "proposals.csv"))
    page.fill("#id_proposals_name", "browser proposals")
    proposals_job = _submit_and_watch(page, "Import proposals", base)
    assert proposals_job.result["created"] == 6
    _back_to_dataset(page)
    assert page.inner_text("#clip-count") == "3"
    assert "ok: 3" in page.inner_text("#media-status")
    screenshot(page, "import_dataset.png")

    # A study on what was imported, from the study-create page
    with page.expect_navigation():
        page.get_by_role("link", name="Start a study").click()
    page.fill("#id_name", "Imported study")
    page.select_option("#id_dataset", label="browser set")
    page.select_option("#id_proposal_set", label="browser proposals (imported file)")
    page.fill("#id_sample_size", "3")
    page.fill("#id_raters_per_clip", "1")
    page.fill("#id_min_raters", "1")
    page.fill("#id_decoys_per_clip", "0")
    page.get_by_label("rosa", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Create study").click()
    assert re.fullmatch(rf"{re.escape(base)}/studies/\d+/", page.url), page.inner_text("main")[:800]

    study = Study.objects.get(name="Imported study")
    assert study.dataset.name == "browser set" and study.dataset.owner.username == "imogen"
    assert set(study.study_clips.values_list("clip__clip_id", flat=True)) == set(CLIP_IDS)
    assert list(study.raters.all()) == [rater]
    assert set(ImportJob.objects.values_list("status", flat=True)) == {"done"}


def _submit_and_watch(page, button: str, base: str) -> ImportJob:
    """Submit an import form, land on its job page and watch the bar until the job is done."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    match = re.fullmatch(rf"{re.escape(base)}/imports/(\d+)/", page.url)
    assert match, f"not on a job page: {page.url} ({page.inner_text('main')[:500]})"
    assert page.locator("[data-progress-bar]").count() == 1
    page.wait_for_selector('#job-status[data-status="done"]', timeout=JOB_TIMEOUT_MS)
    page.wait_for_selector("#job-result")  # the finished page (reloaded by the poll)
    assert page.locator("[data-progress-bar]").get_attribute("aria-valuenow") == "100"
    job = ImportJob.objects.get(pk=int(match.group(1)))
    assert job.status == "done", job.message
    return job


def _back_to_dataset(page) -> None:
    with page.expect_navigation():
        page.click("#back-to-dataset")
