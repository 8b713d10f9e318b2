"""Raters revise their recent ratings from the rate page, by keyboard alone (issue 11, point
3): H lists the last ratings, arrows and Enter open one with its answers, the answer keys
change them and Enter saves a new version; Esc goes back to the clip being rated as it was
left. After a gold clip of a study with feedback (point 5), the answers that disagreed with
the truth are shown until the rater dismisses them."""

import json

import pytest

from annotator.models import GoldLabel, Judgment, Rating, RatingVersion, Study, StudyClip, StudyClipLabel
from tests.browser.pages import log_in_by_keyboard, screenshot, submit_and_wait_for_next, wait_until_settled
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "people speaking"]


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Three one-second clips, each proposed its own label and "people speaking"; one rater
    per clip, no decoys, no modality asked (the plain present / absent / unsure cycle)."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    world = build_media_world(
        media_root=media_root,
        folder="clips",
        taxonomy_name="sounds",
        proposal_set_name="history proposals",
        category_names=NAMES,
        clips=[
            MediaClip(
                clip_id=f"his{i}",
                file_name=f"h{i}.mp4",
                label=NAMES[i],
                proposals={NAMES[i]: ["audio"], "people speaking": ["visual"]},
                seconds=1.0,
                clicks=(0.3,),
            )
            for i in range(3)
        ],
        owner=make_researcher(),
        raters=[make_rater(username="hana")],
    )
    world.study = make_study(
        world, name="Second thoughts", sample_size=3, raters_per_clip=1, decoys_per_clip=0, ask_modality=False
    )
    return world


def _config(page) -> dict:
    return json.loads(page.locator("#rater-config").text_content())


def _states(page) -> list[str]:
    toggles = page.locator("#labels .label-toggle")
    return [toggles.nth(i).get_attribute("data-state") for i in range(toggles.count())]


def _start(page, live_server, world, *, prefetch: bool = True) -> None:
    log_in_by_keyboard(page, base_url=live_server.url, username=world.raters[0].username, next_url="/rate/")
    if prefetch:
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the autofocused "Start" link
    else:  # a page per clip
        page.goto(f"{live_server.url}/rate/{world.study.pk}/?prefetch=0")
        page.wait_for_selector("#rater-config", state="attached")


def _open_history(page, options: int) -> None:
    page.keyboard.press("h")
    page.wait_for_selector("#history-panel:not([hidden])")
    page.wait_for_function("n => document.querySelectorAll('#history-list [role=option]').length === n", arg=options)
    assert page.evaluate("document.activeElement.id") == "history-list"


@pytest.mark.parametrize("prefetch", [True, False], ids=["in-place", "page-per-clip"])
def test_a_rater_revises_an_earlier_rating_by_keyboard_and_keeps_the_clip_being_rated(
    live_server, page, world, prefetch
):
    rater = world.raters[0]
    _start(page, live_server, world, prefetch=prefetch)
    rated = []
    for _ in range(2):
        rated.append(_config(page)["study_clip_id"])
        page.keyboard.press("1")
        page.keyboard.press("2")  # both labels present
        page.wait_for_timeout(50)
        submit_and_wait_for_next(page)
    wait_until_settled(page)
    current = _config(page)
    page.keyboard.press("1")  # the clip being rated: half answered, to be found as it was
    assert _states(page) == ["present", ""]
    first = Rating.objects.get(rater=rater, study_clip_id=rated[0])

    # H: the last ratings, newest first; Down, Enter opens the first clip rated.
    _open_history(page, options=2)
    assert page.get_attribute("#history-list", "aria-activedescendant") == "past-0"
    assert page.get_attribute("#past-0", "data-rating") == str(Rating.objects.get(study_clip_id=rated[1]).pk)
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#past-1", "aria-selected") == "true"
    screenshot(page, "pages_rater_history.png")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#rater[data-mode='revise'][data-revising='{first.pk}']")
    assert page.is_hidden("#history-panel") and page.is_visible("#revision-banner")
    assert _states(page) == ["present", "present"], "the rater's answers are on the labels"
    assert page.get_attribute("#clip-video", "src") == f"/media/clips/{rated[0]}/"
    assert page.is_hidden("#btn-skip")

    # The answer keys change it; Enter saves the change and goes back to the clip being rated.
    page.keyboard.press("1")  # present -> absent
    assert _states(page) == ["absent", "present"]
    screenshot(page, "pages_rater_revise.png")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rater[data-mode='rate']")
    page.wait_for_function("document.getElementById('status-line').textContent.includes('saved')")
    assert _states(page) == ["present", ""], "the clip being rated as it was left"
    assert page.get_attribute("#clip-video", "src") == current["media_url"]
    assert _config(page)["study_clip_id"] == current["study_clip_id"]

    first.refresh_from_db()
    assert first.version == 2 and first.revised_at is not None
    labels = list(
        StudyClipLabel.objects.filter(study_clip_id=rated[0]).order_by("position").values_list("category_id", flat=True)
    )
    assert dict(Judgment.objects.filter(rating=first).values_list("category_id", "answer")) == {
        labels[0]: "absent",
        labels[1]: "present",
    }
    assert [row["answer"] for row in RatingVersion.objects.get(rating=first, version=1).answers] == ["present"] * 2

    # Esc leaves a rating opened unchanged.
    _open_history(page, options=2)
    page.keyboard.press("Enter")  # the newest
    page.wait_for_selector("#rater[data-mode='revise']")
    page.keyboard.press("2")
    page.keyboard.press("Escape")
    page.wait_for_selector("#rater[data-mode='rate']")
    assert _states(page) == ["present", ""]
    assert Rating.objects.get(study_clip_id=rated[1]).version == 1

    # The clip being rated is submitted as usual, and the queue counted every rater once.
    page.keyboard.press("2")
    submit_and_wait_for_next(page)
    assert "Nothing left to rate" in page.inner_text("main")
    assert Rating.objects.filter(rater=rater).count() == 3
    assert set(
        Judgment.objects.filter(rating__study_clip_id=current["study_clip_id"]).values_list("answer", flat=True)
    ) == {"present"}
    assert list(StudyClip.objects.filter(study=world.study).values_list("completed_count", flat=True)) == [1, 1, 1]


def test_after_a_gold_clip_the_rater_sees_where_they_disagreed_and_dismisses_it(live_server, page, world):
    study = world.study
    Study.objects.filter(pk=study.pk).update(gold_feedback=True)
    gold = StudyClip.objects.get(study=study, position=0)  # served first
    StudyClip.objects.filter(pk=gold.pk).update(is_gold=True)
    known_absent = StudyClipLabel.objects.filter(study_clip=gold).order_by("position").first()
    GoldLabel.objects.create(clip=gold.clip, category_id=known_absent.category_id, present=False)
    name = known_absent.category.name

    _start(page, live_server, world)
    assert _config(page)["study_clip_id"] == gold.pk and _config(page)["gold_feedback"] is True
    page.keyboard.press("1")
    page.keyboard.press("2")  # both present: the first is known absent
    page.keyboard.press("Enter")
    page.wait_for_selector("#feedback-panel:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "feedback-continue"
    assert f"{name}: you said present; it is absent." in page.inner_text("#feedback-list")
    screenshot(page, "pages_rater_feedback.png")
    assert _config(page)["study_clip_id"] == gold.pk, "the next clip waits for the rater"

    page.keyboard.press("Enter")
    page.wait_for_function(
        f"JSON.parse(document.getElementById('rater-config').textContent).study_clip_id !== {gold.pk}"
    )
    assert page.is_hidden("#feedback-panel")
    assert _states(page) == ["", ""]

    # Its known answers were shown: the gold clip's rating is final.
    _open_history(page, options=1)
    assert page.get_attribute("#past-0", "aria-disabled") == "true"
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('history-note').textContent.includes('final')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#history-panel[hidden]", state="attached")
    assert page.evaluate("document.activeElement.id") == "rater"
