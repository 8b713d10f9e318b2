"""The next clip is ready before the rater asks (issue 12, point 1): a rater rates ten clips
back to back by keyboard (answering, adding a label, skipping), each after the first switched
to in place (no page load), and the
queue never holds a clip for more raters than the study allows, the clips held ahead
included. A reload shows the clip being rated; Back leaves the queue."""

import json

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from annotator import services
from annotator.models import Rating, Reservation, StudyClip
from tests.browser.pages import log_in_by_keyboard, submit_and_wait_for_next, wait_until_settled
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "door knock"]
CLIPS = 13
RATED = 10
ADDS = 2  # the clip (by order) where the rater adds a label with A
SKIPPED = 5  # the clip the rater skips with S


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Thirteen one-second clips, one rater per clip; "otto" already holds two of them."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    world = build_media_world(
        media_root=media_root,
        folder="clips",
        taxonomy_name="sounds",
        proposal_set_name="prefetch proposals",
        category_names=NAMES,
        clips=[
            MediaClip(
                clip_id=f"pre{i}",
                file_name=f"p{i}.mp4",
                label=NAMES[i % 4],
                proposals={NAMES[i % 4]: ["audio"]},
                seconds=1.0,
                clicks=(0.3,),
            )
            for i in range(CLIPS)
        ],
        owner=make_researcher(),
        raters=[make_rater(username="pia"), make_rater(username="otto")],
    )
    world.study = make_study(
        world, name="Back to back", sample_size=CLIPS, raters_per_clip=1, decoys_per_clip=1, ask_modality=False
    )
    otto = world.raters[1]
    current = services.clip_next_for_rater(study=world.study, rater=otto)
    services.clip_ahead_for_rater(study=world.study, rater=otto, current_study_clip_id=current.pk)
    return world


def _config(page) -> dict:
    return json.loads(page.locator("#rater-config").text_content())


def test_ten_clips_back_to_back_by_keyboard_within_the_overlap(live_server, page, world):
    rater = world.raters[0]
    study_url = f"/rate/{world.study.pk}/"
    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url="/rate/")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the autofocused "Start" link
    page.evaluate("window.sameDocument = true")  # gone if any clip loads a page of its own

    answered: dict[int, list[int] | None] = {}  # None: skipped
    for index in range(RATED):
        config = _config(page)
        assert config["study_clip_id"] not in answered
        assert page.url == f"{live_server.url}{study_url}?clip={config['study_clip_id']}"
        assert f"{index} of {CLIPS} done" in page.inner_text("#progress-text")
        page.wait_for_function("document.getElementById('clip-video').readyState >= 1")
        labels = [label["category_id"] for label in config["labels"]]
        assert page.locator("#labels .label-toggle").count() == len(labels)
        assert page.locator("#added .chip").count() == 0, "nothing added carried over from the clip before"
        if index == SKIPPED:
            answered[config["study_clip_id"]] = None
            submit_and_wait_for_next(page, key="s")
            continue
        for position in range(len(labels)):
            page.keyboard.press(str(position + 1))  # once each: present
        if index == ADDS:  # a clip switched to in place: the add-a-label box works as on the first
            added_name = next(name for name in NAMES if name not in {label["name"] for label in config["labels"]})
            page.keyboard.press("a")
            page.keyboard.type(added_name)
            page.wait_for_selector("#add-label-options li[role=option]")
            page.keyboard.press("Enter")
            page.wait_for_selector(f"#added .chip:has-text('{added_name}')")
            page.keyboard.press("Escape")
        assert page.evaluate("document.activeElement.id") != "add-label"
        answered[config["study_clip_id"]] = labels
        page.wait_for_timeout(50)
        submit_and_wait_for_next(page)

    wait_until_settled(page)
    assert page.evaluate("window.sameDocument === true"), "every clip after the first switched in place"
    current = _config(page)["study_clip_id"]
    assert page.locator("#labels .label-toggle[data-state='']").count() == len(_config(page)["labels"])

    ratings = Rating.objects.filter(rater=rater).prefetch_related("judgments")
    stored = {r.study_clip_id: sorted((j.category_id, j.added_by_rater) for j in r.judgments.all()) for r in ratings}
    added_on = list(answered)[ADDS]
    assert stored == {
        pk: []
        if labels is None
        else sorted([(c, False) for c in labels] + [(world.category(added_name).pk, True)] * (pk == added_on))
        for pk, labels in answered.items()
    }
    assert [r.skipped for r in ratings if r.study_clip_id == list(answered)[SKIPPED]] == [True]
    assert all(j.answer == "present" for r in ratings for j in r.judgments.all())
    now = timezone.now()
    loads = StudyClip.objects.filter(study=world.study).annotate(
        completed=Count("ratings", filter=Q(ratings__skipped=False), distinct=True),
        held=Count("reservations", filter=Q(reservations__expires_at__gt=now), distinct=True),
    )
    assert all(row.completed + row.held <= world.study.raters_per_clip for row in loads)
    mine = Reservation.objects.filter(rater=rater, expires_at__gt=now)
    assert mine.filter(ahead=False).get().study_clip_id == current
    assert mine.filter(ahead=True).count() <= 1

    page.reload()
    assert _config(page)["study_clip_id"] == current, "a reload shows the clip being rated"
    page.go_back()
    page.wait_for_url(f"{live_server.url}/rate/")  # Back leaves the queue for the page before it
