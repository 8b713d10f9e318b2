"""A study steered while it runs, by keyboard alone in Debian's chromium: a rater passes the
qualification, rates, then revises a rating from their history; the researcher adjudicates
a contested label. The database holds each step: the qualification attempt (and no rating
from it), the rating's new version beside the old, the decision with who made it."""

import json

import pytest

from annotator.models import (
    Adjudication,
    GoldLabel,
    Judgment,
    QualificationAnswer,
    QualificationAttempt,
    Rating,
    RatingVersion,
    StudyEvent,
    StudyRater,
)
from evaluation import services as evaluation_services
from tests.browser.pages import log_in_by_keyboard, submit_and_wait_for_next, wait_until_settled
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "people speaking"]


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Four 2-second clips, each proposed its own label and "people speaking", all gold (their
    own label present, "people speaking" absent); two sampled into a study with one decoy,
    the other two its qualification set; one rater."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    world = build_media_world(
        media_root=media_root,
        folder="clips",
        taxonomy_name="sounds",
        proposal_set_name="model run 1",
        category_names=NAMES,
        clips=[
            MediaClip(
                clip_id=f"vid{i}_000010",
                file_name=f"v{i}.mp4",
                label=NAMES[i],
                proposals={NAMES[i]: ["audio"], "people speaking": ["visual"]},
                seconds=2.0,
                size=96,
                clicks=(0.6,),
            )
            for i in range(4)
        ],
        owner=make_researcher(username="rhea"),
        raters=[make_rater(username="quinn")],
    )
    for clip in world.clips:
        GoldLabel.objects.create(clip=clip, category=world.category(clip.clip_labels.get().category.name), present=True)
        GoldLabel.objects.create(clip=clip, category=world.category("people speaking"), present=False)
    world.study = make_study(
        world,
        name="Steered",
        sample_size=2,
        seed=0,
        raters_per_clip=1,
        decoys_per_clip=1,
        ask_modality=False,
        qualification_clips=2,
        qualification_pass_mark=0.75,
        gold_feedback=True,
        split="",
    )
    return world


def _qualify_by_keyboard(page) -> None:
    """Answer both qualification clips as the truth says, one label wrong on the first (3 of
    4 right: pass at 0.75), reading the feedback the study gives."""
    for clip_number in range(2):
        page.wait_for_selector("#labels .label-toggle")
        assert f"clip {clip_number + 1} of 2" in page.inner_text("#qualify-progress")
        names = page.locator("#labels .label-toggle .name").all_inner_texts()
        for position, name in enumerate(names):
            present = name != "people speaking"  # the truth of every clip here
            if clip_number == 0 and name == "people speaking":
                present = True  # the one wrong answer
            page.keyboard.press(str(position + 1))  # present
            if not present:
                page.keyboard.press(str(position + 1))  # absent
        with page.expect_navigation() if clip_number == 1 else _no_navigation():
            page.keyboard.press("Enter")
            if clip_number == 0:
                feedback = page.locator("#feedback")
                feedback.wait_for()
                assert "people speaking: you said present, the truth is absent" in feedback.inner_text()
        if clip_number == 0:
            with page.expect_navigation():
                page.keyboard.press("Enter")


def _config(page) -> dict:
    return json.loads(page.locator("#rater-config").text_content())


def _all_present(page) -> None:
    page.wait_for_selector("#labels .label-toggle")
    for position in range(page.locator("#labels .label-toggle").count()):
        page.keyboard.press(str(position + 1))
    page.wait_for_timeout(50)


class _no_navigation:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_qualification_a_revision_and_an_adjudication_by_keyboard(live_server, page, world):
    rater, study = world.raters[0], world.study
    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url="/rate/")
    # The study's link has focus; the rate page sends a rater who has not qualified to the qualification
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/rate/{study.pk}/qualify/")
    _qualify_by_keyboard(page)
    assert "You are qualified" in page.inner_text("main")
    attempt = QualificationAttempt.objects.get(study=study, rater=rater)
    assert (attempt.correct, attempt.total, attempt.passed) == (3, 4, True)
    assert StudyRater.objects.get(study=study, rater=rater).qualification == "passed"
    assert QualificationAnswer.objects.filter(attempt=attempt).count() == 4
    assert not Rating.objects.exists()  # qualification answers are not ratings

    # Start rating (the link has focus); the first clip: every label present
    with page.expect_navigation():
        page.keyboard.press("Enter")
    first_clip = _config(page)["study_clip_id"]
    _all_present(page)
    submit_and_wait_for_next(page)
    wait_until_settled(page)
    first = Rating.objects.get(study_clip_id=first_clip, rater=rater)

    # On the second clip, H opens the history; Enter opens the first rating, 1 makes its first
    # label absent, Enter saves the revision and comes back to the second clip
    page.keyboard.press("h")
    page.wait_for_selector("#history-panel:not([hidden])")
    page.wait_for_function("document.querySelectorAll('#history-list [role=option]').length === 1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#rater[data-mode='revise'][data-revising='{first.pk}']")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rater[data-mode='rate']")
    page.wait_for_function("document.getElementById('status-line').textContent.includes('saved')")
    first.refresh_from_db()
    assert first.version == 2 and RatingVersion.objects.filter(rating=first, version=1).exists()
    first_label = first.study_clip.shown_labels.order_by("position").first().category_id
    assert Judgment.objects.get(rating=first, category_id=first_label).answer == "absent"
    assert Rating.objects.filter(study_clip_id=first_clip).count() == 1  # counted once

    _all_present(page)
    submit_and_wait_for_next(page)
    assert "Nothing left to rate" in page.inner_text("main")
    assert Rating.objects.filter(study_clip__study=study, rater=rater).count() == 2

    # The researcher, in a browser of their own: one rater's vote contests every label; the
    # first listed is decided absent by keyboard (A, Enter), and the export marks it
    researcher = page.context.browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    researcher.set_default_timeout(20_000)
    log_in_by_keyboard(
        researcher,
        base_url=live_server.url,
        username=world.owner.username,
        next_url=f"/studies/{study.pk}/adjudicate/",
    )
    researcher.wait_for_selector("#adj-list [role=option]")
    listed = researcher.locator("#adj-list [role=option]").count()
    researcher.keyboard.press("a")
    researcher.keyboard.press("Enter")
    researcher.wait_for_function(
        "n => document.querySelectorAll('#adj-list [role=option]').length === n", arg=listed - 1
    )
    decided = Adjudication.objects.get(study_clip__study=study)
    assert (decided.decision, decided.decided_by) == ("absent", world.owner)
    assert StudyEvent.objects.filter(study=study, action="label_adjudicated", actor=world.owner).count() == 1
    export = json.loads(evaluation_services.study_dataset_export(study=study, fmt="json", include_rejected=True))
    marked = [
        (clip["clip_id"], label["label"])
        for clip in export["clips"]
        for label in clip["labels"]
        if label["adjudicated"]
    ]
    assert marked == [(decided.study_clip.clip.clip_id, decided.category.name)]
    researcher.context.close()
    assert Rating.objects.filter(study_clip__study=study, rater=rater).count() == 2
