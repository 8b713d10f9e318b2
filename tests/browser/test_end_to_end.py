"""The whole loop in a real browser: synthetic clips, a tiny model trained and run through the
real in-process code path, a study created on the researcher's page, two raters rating every
clip with the keyboard alone, then the evaluation dashboard's downloads checked against
figures recomputed by hand from the stored judgments."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from annotator.models import Category, Judgment, Proposal, Rating, Study, StudyClip, StudyClipLabel
from modelzoo import inference, services, synthetic, training
from modelzoo.models import ModelRun
from tests.browser import e2e_checks as checks
from tests.browser import e2e_expected as expected
from tests.browser.pages import log_in_by_keyboard, screenshot, submit_and_wait_for_next
from tests.factories import make_rater, make_researcher

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Eight classes: a clip shows at most five proposals (one per head) and a decoy, so every clip
# has labels left for a rater to add, however well the one-epoch model learned.
SYNTHETIC = synthetic.SyntheticConfig(num_clips=24, num_classes=8, seed=11, size=48)
DATASET = "e2e-synthetic"
PROPOSALS = "e2e tiny model proposals"
STUDY = "End-to-end study"
SAMPLE_SIZE = 6
RATERS_PER_CLIP = 2
TIMEOUT_MS = 30_000
FIRST_STRIP_TIMEOUT_MS = 180_000  # the first spectrogram may JIT-compile librosa's numba code
ADD_QUERY = "with"  # every synthetic class name has " with <timbre>": the box lists them all


@pytest.mark.django_db(transaction=True)
def test_synthetic_clips_to_evaluated_study_in_the_browser(live_server, chromium, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    researcher = make_researcher(username="rhea")
    raters = [make_rater(username="rater-ann"), make_rater(username="rater-bob")]

    dataset = _demo_dataset(tmp_path / "synthetic", owner=researcher)
    proposal_set = _train_and_propose(dataset=dataset, researcher=researcher)

    study = _create_study_in_the_browser(chromium, live_server, dataset, proposal_set, raters)
    ranks = {pk: rank for rank, pk in enumerate(study.study_clips.order_by("position").values_list("pk", flat=True))}
    added: dict = {}  # the label rater 0 added: {"study_clip_id": ..., "name": ...}
    typed = {}
    for index, rater in enumerate(raters):
        typed[rater.pk] = _rate_everything(chromium, live_server, study, rater, index, ranks, added)
    _check_stored_ratings(study, raters, typed, added)

    _check_dashboard_downloads(chromium, live_server, study, researcher)


# --------------------------------------------------------------------------- data and model


def _demo_dataset(root: Path, *, owner):
    """A small seeded synthetic dataset (real MP4s) imported through the importers, owned by
    the researcher."""
    synthetic.generate_dataset(root, SYNTHETIC, workers=1)
    dataset, reports = services.synthetic_dataset_import(root=root, dataset_name=DATASET, owner=owner)
    assert not any(report.errors for report in reports.values())
    assert dataset.clips.filter(media_status="ok").count() == SYNTHETIC.num_clips
    assert dataset.taxonomy.categories.count() == SYNTHETIC.num_classes
    return dataset


def _train_and_propose(*, dataset, researcher):
    """What ``manage.py train --inline`` and ``manage.py predict --inline`` do."""
    run = services.model_run_start_training(
        dataset=dataset,
        model_kind=ModelRun.ModelKind.EVENT_HEADS,
        config_name="tiny",
        split="train",
        val_split="val",
        epochs=1,
        batch_size=8,
        created_by=researcher,
        enqueue=False,
    )
    trained = training.model_run_train(run_id=run.pk, task_id=f"inline-{uuid.uuid4()}")
    assert trained.status == ModelRun.Status.SUCCEEDED, trained.error
    assert len(trained.metrics) == 1 and Path(trained.checkpoint_path).is_file()

    run = services.model_run_start_prediction(
        source_run=trained,
        split="",
        chunk_size=12,
        make_proposals=True,
        proposal_set_name=PROPOSALS,
        created_by=researcher,
        enqueue=False,
    )
    predicted = inference.model_run_predict_inline(run_id=run.pk, task_id=f"inline-{uuid.uuid4()}")
    assert predicted.status == ModelRun.Status.SUCCEEDED, predicted.error
    assert predicted.predictions.count() == SYNTHETIC.num_clips
    assert not predicted.predictions.exclude(error="").exists()
    proposal_set = predicted.proposal_set
    assert proposal_set is not None and proposal_set.name == PROPOSALS
    proposed_clips = Proposal.objects.filter(proposal_set=proposal_set).values("clip").distinct().count()
    assert proposed_clips == SYNTHETIC.num_clips  # the union of the heads is never empty
    return proposal_set


# --------------------------------------------------------------------------- browser helpers


def _context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context


# --------------------------------------------------------------------------- the researcher


def _create_study_in_the_browser(chromium, live_server, dataset, proposal_set, raters) -> Study:
    context = _context(chromium)
    try:
        page = context.new_page()
        log_in_by_keyboard(page, base_url=live_server.url, username="rhea", next_url="/studies/new/")
        page.fill("#id_name", STUDY)
        page.select_option("#id_dataset", label=dataset.name)
        page.select_option("#id_proposal_set", label=f"{proposal_set.name} ({proposal_set.get_source_display()})")
        page.fill("#id_sample_size", str(SAMPLE_SIZE))
        page.fill("#id_seed", "3")
        page.fill("#id_split", "")
        page.fill("#id_raters_per_clip", str(RATERS_PER_CLIP))
        page.fill("#id_decoys_per_clip", "1")
        page.fill("#id_gold_rate", "0")
        page.check("#id_show_evidence")
        for rater in raters:
            page.get_by_label(rater.username, exact=True).check()
        page.fill("#id_instructions", "Mark a label present only if you can see or hear it.")
        screenshot(page, "e2e_study_form.png")
        with page.expect_navigation():
            page.get_by_role("button", name="Create study").click()
        match = re.fullmatch(rf"{re.escape(live_server.url)}/studies/(\d+)/", page.url)
        assert match, f"not on a study page: {page.url} ({page.inner_text('main')[:500]})"
        study = Study.objects.get(pk=int(match.group(1)))
        assert f"Study '{STUDY}' created with {SAMPLE_SIZE} clips." in page.inner_text("body")
        assert page.locator("h1").first.inner_text() == STUDY
    finally:
        context.close()

    assert study.name == STUDY and study.dataset == dataset and study.proposal_set == proposal_set
    assert (study.sample_size, study.raters_per_clip, study.decoys_per_clip) == (SAMPLE_SIZE, RATERS_PER_CLIP, 1)
    assert study.gold_rate == 0 and study.show_evidence
    assert set(study.raters.all()) == set(raters)
    assert study.study_clips.count() == SAMPLE_SIZE and not study.study_clips.filter(is_gold=True).exists()
    return study


# --------------------------------------------------------------------------- the raters


def _rate_everything(chromium, live_server, study, rater, rater_index, ranks, added) -> dict:
    """Rate every clip the queue serves with the keyboard alone; returns what was typed:
    {study_clip_id: {category_id: answer}}."""
    typed: dict[int, dict[int, str]] = {}
    context = _context(chromium)
    try:
        page = context.new_page()
        log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url="/rate/")
        assert f"0 of {SAMPLE_SIZE} done" in page.inner_text("main")
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the autofocused "Start" link of the study
        assert page.url.split("?clip=")[0] == f"{live_server.url}/rate/{study.pk}/"

        while page.locator("#rater-config").count():
            config = json.loads(page.locator("#rater-config").text_content())
            study_clip = StudyClip.objects.select_related("clip").get(pk=config["study_clip_id"])
            assert study_clip.study_id == study.pk and study_clip.pk not in typed
            assert f"{len(typed)} of {SAMPLE_SIZE} done" in page.inner_text("#progress-text")
            page.wait_for_function("document.getElementById('clip-video').readyState >= 1")  # media with Range
            if not typed:  # the first clip: the spectrogram strip, with a cold JIT
                page.wait_for_selector("#strip[data-ready=true]", timeout=FIRST_STRIP_TIMEOUT_MS)
            typed[study_clip.pk] = _answer_labels(page, config, study_clip, rater_index, ranks, added)
            _maybe_add_label(page, config, study_clip, rater_index, added)
            if len(typed) == 1:
                screenshot(page, f"e2e_rater{rater_index}.png")
            submit_and_wait_for_next(page)
            assert len(typed) <= SAMPLE_SIZE, "the queue served more clips than the study has"

        assert "Nothing left to rate" in page.inner_text("main")
        assert f"{SAMPLE_SIZE} of {SAMPLE_SIZE} done" in page.inner_text("main")
    finally:
        context.close()
    assert set(typed) == set(ranks), "each rater rates every clip (two raters, two per clip)"
    return typed


def _answer_labels(page, config, study_clip, rater_index, ranks, added) -> dict[int, str]:
    """Type each shown label's planned answer; rater 1 confirms the label rater 0 added (so
    it becomes a missing-label candidate: two presents, none absent)."""
    labels = [label["category_id"] for label in config["labels"]]
    assert 2 <= len(labels) <= 9, "proposals and a decoy, each on a number key"
    original = set(study_clip.clip.labels.values_list("pk", flat=True))
    added_name = added.get("name") if added.get("study_clip_id") == study_clip.pk else None
    answers = {}
    for position, label in enumerate(config["labels"]):
        category_id = label["category_id"]
        answer = expected.planned_answer(
            rater_index=rater_index,
            clip_rank=ranks[study_clip.pk],
            position=position,
            in_original=category_id in original,
        )
        if label["name"] == added_name:
            answer = expected.PRESENT
        presses = expected.PRESSES_WITH_MODALITY if config["ask_modality"] else expected.PRESSES
        for _ in range(presses[answer]):
            page.keyboard.press(str(position + 1))
        answers[category_id] = answer
    toggles = page.locator("#labels .label-toggle")
    shown_states = [toggles.nth(i).get_attribute("data-state") for i in range(len(labels))]
    assert shown_states == [answers[category_id] for category_id in labels]
    return answers


def _maybe_add_label(page, config, study_clip, rater_index, added) -> None:
    """Rater 0 adds a label the clip's original annotation lacks, on the first clip where
    one is left to add; rater 1 is then shown it among the clip's labels."""
    shown = {label["category_id"] for label in config["labels"]}
    if rater_index == 0 and not added:
        original = set(study_clip.clip.labels.values_list("name", flat=True))
        choices = Category.objects.filter(taxonomy=study_clip.clip.dataset.taxonomy).exclude(pk__in=shown)
        if not set(choices.values_list("name", flat=True)) - original:
            return
        suggestions = _open_suggestions(page, SYNTHETIC.num_classes - len(shown))
        target = [name for name in suggestions if name not in original][-1]  # reached with the arrow keys
        _pick_suggestion(page, suggestions, target)
        added.update(study_clip_id=study_clip.pk, name=target)
    elif rater_index == 1 and added.get("study_clip_id") == study_clip.pk:
        # The label rater 0 added is shown to rater 1 like any other (blind), answered above.
        assert added["name"] in {label["name"] for label in config["labels"]}


def _open_suggestions(page, count: int) -> list[str]:
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.id") == "add-label"
    page.keyboard.type(ADD_QUERY)
    page.wait_for_function(
        "([query, count]) => document.getElementById('add-label').value === query"
        " && !document.getElementById('add-label-options').hidden"
        " && document.querySelectorAll('#add-label-options li[role=option]').length === count",
        arg=[ADD_QUERY, count],
    )
    return page.locator("#add-label-options li[role=option]").all_inner_texts()


def _pick_suggestion(page, choices: list[str], name: str) -> None:
    for _ in range(choices.index(name)):
        page.keyboard.press("ArrowDown")
    assert page.locator("#add-label-options li[aria-selected=true]").inner_text() == name
    page.keyboard.press("Enter")
    page.locator("#added .chip", has_text=name).wait_for()
    page.keyboard.press("Escape")  # back to the page's keys: Enter submits again
    assert page.evaluate("document.activeElement.id") != "add-label"


def _check_stored_ratings(study, raters, typed, added) -> None:
    assert added, "no clip had a label left to add"
    added_category = Category.objects.get(taxonomy=study.dataset.taxonomy, name=added["name"])
    for rater in raters:
        ratings = Rating.objects.filter(study_clip__study=study, rater=rater).prefetch_related("judgments")
        assert {rating.study_clip_id for rating in ratings} == set(typed[rater.pk])
        for rating in ratings:
            assert not rating.skipped
            assert rating.seconds_spent is not None and rating.seconds_spent > 0
            want = {
                (category_id, answer, False) for category_id, answer in typed[rater.pk][rating.study_clip_id].items()
            }
            if rating.study_clip_id == added["study_clip_id"] and rater == raters[0]:
                want.add((added_category.pk, "present", True))  # rater 1 was shown it and answered it
            stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
            assert stored == want
    # the shown labels are the study's (proposals and decoys), plus on one clip the label rater 0 added
    for study_clip_id, answers in typed[raters[0].pk].items():
        labels = StudyClipLabel.objects.filter(study_clip_id=study_clip_id)
        shown = set(labels.exclude(source="added").values_list("category_id", flat=True))
        assert set(answers) == shown
        extra = {added_category.pk} if study_clip_id == added["study_clip_id"] else set()
        assert set(typed[raters[1].pk][study_clip_id]) == shown | extra
    # the two raters disagree on some labels and agree on others
    pairs = [
        (answer, typed[raters[1].pk][study_clip_id][category_id])
        for study_clip_id, answers in typed[raters[0].pk].items()
        for category_id, answer in answers.items()
    ]
    assert any(a != b for a, b in pairs) and any(a == b for a, b in pairs)
    assert Judgment.objects.filter(rating__study_clip__study=study, added_by_rater=True).count() == 1


# --------------------------------------------------------------------------- evaluation


def _check_dashboard_downloads(chromium, live_server, study, researcher) -> None:
    want = expected.study_expectation(study=study)
    assert want.n_clips == SAMPLE_SIZE and want.n_raters == 2
    context = _context(chromium)
    try:
        page = context.new_page()
        log_in_by_keyboard(
            page, base_url=live_server.url, username=researcher.username, next_url=f"/evaluation/studies/{study.pk}/"
        )
        page.locator("#table-human_study").wait_for()
        assert "Computed now from the stored ratings." in page.inner_text("main")
        table = page.locator("#table-human_study")
        row = table.locator("tbody tr", has_text="Clips rated")
        assert row.locator("td").nth(1).inner_text() == str(SAMPLE_SIZE)

        images = page.locator(".plots img").all()
        assert images, "the study dashboard draws plots"
        for image in images:  # lazy images load once scrolled into view
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        screenshot(page, "e2e_dashboard.png")

        human_csv = checks.download(page, table.get_by_role("link", name="CSV", exact=True))
        missing_csv = checks.download(
            page, page.locator("#table-missing_labels").get_by_role("link", name="CSV", exact=True)
        )
        human_json = checks.download(page, table.get_by_role("link", name="JSON", exact=True))
        dataset_csv = checks.download(page, page.get_by_role("link", name="Dataset CSV", exact=True))
        dataset_all_csv = checks.download(page, page.get_by_role("link", name="CSV with rejected labels", exact=True))

        page.goto(f"{live_server.url}/studies/{study.pk}/")  # the study page agrees: all done
        stats = page.locator(".stats").inner_text()
        needed = SAMPLE_SIZE * RATERS_PER_CLIP
        assert f"{needed} / {needed}" in stats and re.search(rf"\b{SAMPLE_SIZE}\s*clips complete", stats), stats
    finally:
        context.close()

    checks.check_human_study(human_csv, human_json, want, study_name=STUDY)
    checks.check_missing_labels(missing_csv, want)
    checks.check_dataset(dataset_csv, want, include_rejected=False)
    checks.check_dataset(dataset_all_csv, want, include_rejected=True)
