"""A rater logs in and rates three clips with the keyboard alone; the database holds exactly
what they chose."""

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.models import ClipEvidence, Rating
from tests.browser.pages import log_in_by_keyboard, screenshot, submit_and_wait_for_next
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "people speaking", "church bell", "baby crying"]
# key presses per label position: 1x = present, 2x = absent, 3x = unsure
PRESSES = {0: 1, 1: 2, 2: 3}
ANSWER_AFTER = {1: "present", 2: "absent", 3: "unsure"}


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Three 3-second clips, each proposed its own label (audio and onset heads) and "people
    speaking" (visual head), with evidence and a heatmap; a study for the rater "rita" that
    shows the evidence."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    heatmap = media_root / "heatmaps" / "h.png"
    heatmap.parent.mkdir()
    _write_heatmap(heatmap)
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
                proposals={NAMES[i]: ["audio", "onset"], "people speaking": ["visual"]},
                seconds=3.0,
                size=96,
                clicks=(0.6 + 0.3 * i, 1.8),
            )
            for i in range(3)
        ],
        owner=make_researcher(),
        raters=[make_rater(username="rita")],
    )
    for clip in world.clips:
        ClipEvidence.objects.create(
            proposal_set=world.proposal_set,
            clip=clip,
            event_type="instant",
            instant_seconds=[0.9],
            onset_seconds=[0.6],
            heatmap_path="heatmaps/h.png",
        )
    world.study = make_study(
        world,
        name="Everyday sounds",
        sample_size=3,
        seed=0,
        raters_per_clip=1,
        decoys_per_clip=1,
        show_evidence=True,
        instructions="Mark each label present only if you can hear it.",
        ask_modality=False,  # the plain cycle; tests/browser/test_rater_modality.py has the default
    )
    return world


def _write_heatmap(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.outer(np.hanning(7), np.hanning(7))
    plt.imsave(path, grid, cmap="inferno")


def test_rater_rates_three_clips_with_the_keyboard(live_server, page, world):
    rater = world.raters[0]
    shown_by_clip: dict[int, list[int]] = {}
    added_name = "church bell"

    # log in with the keyboard; the rater lands on their studies, the first one focused
    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url="/rate/")
    assert "0 of 3 done" in page.inner_text("main")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the autofocused "Start" link

    for index in range(3):
        config = json.loads(page.locator("#rater-config").text_content())
        labels = [label["category_id"] for label in config["labels"]]
        assert len(labels) == 3, "two proposals and one decoy per clip"
        shown_by_clip[config["study_clip_id"]] = labels
        assert f"{index} of 3 done" in page.inner_text("#progress-text")
        if index == 0:
            _check_player_and_strip(page)
            screenshot(page, "pages_rater.png")

        for position, presses in PRESSES.items():
            for _ in range(presses):
                page.keyboard.press(str(position + 1))
        toggles = page.locator("#labels .label-toggle")
        assert [toggles.nth(i).get_attribute("data-state") for i in range(3)] == ["present", "absent", "unsure"]

        if index == 0:
            page.keyboard.press("a")
            assert page.evaluate("document.activeElement.id") == "add-label"
            page.keyboard.type(added_name)
            page.wait_for_selector("#add-label-options li[role=option]")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowUp")
            screenshot(page, "pages_rater_autocomplete.png")
            page.keyboard.press("Enter")
            page.wait_for_selector(f"#added .chip:has-text('{added_name}')")
            page.keyboard.press("Escape")
            assert page.evaluate("document.activeElement.id") != "add-label"

        if index == 0:
            screenshot(page, "pages_rater_answered.png")
        page.wait_for_timeout(300)  # a rater needs some time; seconds_spent must be positive
        submit_and_wait_for_next(page)

    assert "Nothing left to rate" in page.inner_text("main")
    assert "3 of 3 done" in page.inner_text("main")

    ratings = Rating.objects.filter(rater=rater).prefetch_related("judgments")
    assert {r.study_clip_id for r in ratings} == set(shown_by_clip)
    first_clip = next(iter(shown_by_clip))
    for rating in ratings:
        assert not rating.skipped
        assert rating.seconds_spent is not None and rating.seconds_spent > 0
        expected = {
            (category_id, ANSWER_AFTER[PRESSES[position]], False)
            for position, category_id in enumerate(shown_by_clip[rating.study_clip_id])
        }
        if rating.study_clip_id == first_clip:
            expected.add((world.category(added_name).pk, "present", True))
        stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
        assert stored == expected


def _check_player_and_strip(page) -> None:
    """The video loads, the spectrogram strip is drawn, the player keys work."""
    assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"')")
    page.wait_for_function("document.getElementById('clip-video').readyState >= 1")
    page.wait_for_selector("#strip[data-ready=true]", timeout=120_000)  # first analysis may JIT-compile
    assert page.is_hidden("#strip-note")
    page.keyboard.press("]")
    page.keyboard.press("]")
    assert page.evaluate("document.getElementById('clip-video').playbackRate") == 1.5
    page.keyboard.press("[")
    assert page.inner_text("#speed") == "1.25\u00d7"
    page.keyboard.press("l")
    assert page.evaluate("document.getElementById('clip-video').loop") is True
    page.keyboard.press("r")
    page.wait_for_function("document.getElementById('clip-video').currentTime > 0.3")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('clip-video').paused")
    assert page.locator(".label-toggle .heads").count() == 0  # the study shows decoys
    assert page.locator(".heatmap img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert "model's event type: instant" in page.inner_text("main")
