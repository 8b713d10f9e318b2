"""The rate page in a real browser when the queue says no: a rater opening the page holds
nothing until the page POSTs for a clip; a reservation that lapsed while they answered gets
a clear message, stores nothing, and the page moves on to a fresh reservation by itself;
a reload shows the same clip without reserving again."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.models import Rating, Reservation
from tests.browser.pages import log_in_by_keyboard
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


def test_a_lapsed_reservation_is_reported_and_the_page_moves_on(live_server, page, world):
    rater = world.raters[0]
    study_url = f"/rate/{world.study.pk}/"

    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url=study_url)
    first = _config(page)  # the start page POSTed for a clip by itself
    held = Reservation.objects.get(rater=rater)
    assert held.study_clip_id == first["study_clip_id"]

    Reservation.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _answer_every_label(page, first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
        page.wait_for_selector("#notice:not([hidden])")
        assert LAPSED in page.inner_text("#notice")
    fresh = _config(page)

    assert not Rating.objects.exists()
    live = Reservation.objects.get(rater=rater)  # the lapsed row went with the next request
    assert live.study_clip_id == fresh["study_clip_id"] and live.expires_at > timezone.now()

    page.reload()
    assert _config(page)["study_clip_id"] == fresh["study_clip_id"]
    assert Reservation.objects.filter(rater=rater).count() == 1

    _answer_every_label(page, fresh)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Rating.objects.filter(rater=rater, study_clip_id=fresh["study_clip_id"], skipped=False).exists()
    assert page.url == f"{live_server.url}{study_url}"
