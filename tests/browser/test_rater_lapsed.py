"""The rate page in a real browser when the queue says no: a rater opening the page holds
nothing until the page POSTs for a clip; a reservation that lapsed while they answered gets
a clear message, stores nothing, and the page moves on to the clip it held ahead;
a reload shows the same clip without reserving again (beyond the one clip held ahead)."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.models import Rating, Reservation
from tests.browser.pages import log_in_by_keyboard, submit_and_wait_for_next, wait_until_settled
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine"]
LAPSED = "Your reservation for this clip lapsed; ask for the next clip."


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    world = build_media_world(
        media_root=media_root,
        folder="clips",
        taxonomy_name="sounds",
        proposal_set_name="lapse proposals",
        category_names=NAMES,
        clips=[
            MediaClip(
                clip_id=f"lapse{i}", file_name=f"l{i}.mp4", label=NAMES[i], proposals={NAMES[i]: ["audio"]}, seconds=1.0
            )
            for i in range(2)
        ],
        owner=make_researcher(),
        raters=[make_rater(username="lara")],
    )
    world.study = make_study(world, name="Lapses", sample_size=2, raters_per_clip=1, decoys_per_clip=1)
    return world


def _config(page) -> dict:
    page.wait_for_selector("#rater-config", state="attached")
    return json.loads(page.locator("#rater-config").text_content())


def _answer_every_label(page, config) -> None:
    for position in range(len(config["labels"])):
        page.keyboard.press(str(position + 1))  # once: present


def _held_ahead(rater) -> Reservation:
    """The clip the page reserved ahead of the one on show (it asks as soon as it shows one)."""
    deadline = timezone.now() + timedelta(seconds=10)
    while timezone.now() < deadline:
        reservation = Reservation.objects.filter(rater=rater, ahead=True).first()
        if reservation is not None:
            return reservation
        time.sleep(0.05)
    raise AssertionError("the page reserved nothing ahead")


def test_a_lapsed_reservation_is_reported_and_the_page_moves_on(live_server, page, world):
    rater = world.raters[0]
    study_url = f"/rate/{world.study.pk}/"

    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url=study_url)
    first = _config(page)  # the start page POSTed for a clip by itself
    held = Reservation.objects.get(rater=rater, ahead=False)
    assert held.study_clip_id == first["study_clip_id"]
    ahead = _held_ahead(rater)

    Reservation.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _answer_every_label(page, first)
    page.wait_for_selector("#rater[data-ahead='ready']", state="attached")
    page.keyboard.press("Enter")  # the clip held ahead is shown at once; the answers go meanwhile
    page.wait_for_selector("#notice:not([hidden])")
    assert LAPSED in page.inner_text("#notice")
    wait_until_settled(page)
    fresh = _config(page)

    assert not Rating.objects.exists()
    assert fresh["study_clip_id"] == ahead.study_clip_id, "the clip held ahead is on show"
    live = Reservation.objects.get(rater=rater, study_clip_id=fresh["study_clip_id"])
    assert not live.ahead and live.expires_at > timezone.now(), "its clock started when the rater moved on"
    assert Reservation.objects.filter(rater=rater, expires_at__lte=timezone.now()).count() == 0

    page.reload()
    assert _config(page)["study_clip_id"] == fresh["study_clip_id"]
    assert Reservation.objects.filter(rater=rater, ahead=False).count() == 1
    assert Reservation.objects.filter(rater=rater).count() <= 2, "one clip at most is held ahead"

    _answer_every_label(page, fresh)
    submit_and_wait_for_next(page)
    if page.locator("#rater").count():
        wait_until_settled(page)
    assert Rating.objects.filter(rater=rater, study_clip_id=fresh["study_clip_id"], skipped=False).exists()
    assert page.url.startswith(f"{live_server.url}{study_url}")
