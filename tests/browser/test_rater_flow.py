"""A rater logs in and rates three clips with the keyboard alone; the database holds exactly
what they chose."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from annotator import services
from annotator.models import ClipEvidence, ClipLabel, Rating
from tests.annotator.test_media_files import write_mp4
from tests.factories import (
    CategoryFactory,
    ClipFactory,
    DatasetFactory,
    ProposalFactory,
    ProposalSetFactory,
    TaxonomyFactory,
    make_rater,
    make_researcher,
)

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "people speaking", "church bell", "baby crying"]
PASSWORD = "pw-secret-123"  # tests.factories.UserFactory's
# Set to a folder to keep screenshots of the rater page (for looking at the design).
SCREENSHOT_DIR = os.environ.get("AVLABEL_SCREENSHOT_DIR", "")
# key presses per label position: 1x = present, 2x = absent, 3x = unsure
PRESSES = {0: 1, 1: 2, 2: 3}
ANSWER_AFTER = {1: "present", 2: "absent", 3: "unsure"}


@pytest.fixture
def study(transactional_db, media_root, settings, tmp_path):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop shares this thread
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    taxonomy = TaxonomyFactory(name="sounds")
    categories = {name: CategoryFactory(taxonomy=taxonomy, name=name, index=i) for i, name in enumerate(NAMES)}
    dataset = DatasetFactory(taxonomy=taxonomy, media_root="clips")
    proposal_set = ProposalSetFactory(dataset=dataset, name="model run 1")
    heatmap = media_root / "heatmaps" / "h.png"
    heatmap.parent.mkdir()
    _write_heatmap(heatmap)
    for i in range(3):
        write_mp4(media_root / "clips" / f"v{i}.mp4", seconds=3.0, size=96, clicks=(0.6 + 0.3 * i, 1.8))
        clip = ClipFactory(dataset=dataset, clip_id=f"vid{i}_000010", media_path=f"v{i}.mp4", media_status="ok")
        ClipLabel.objects.create(clip=clip, category=categories[NAMES[i]])
        ProposalFactory(proposal_set=proposal_set, clip=clip, category=categories[NAMES[i]], heads=["audio", "onset"])
        ProposalFactory(proposal_set=proposal_set, clip=clip, category=categories["people speaking"], heads=["visual"])
        ClipEvidence.objects.create(
            proposal_set=proposal_set,
            clip=clip,
            event_type="instant",
            instant_seconds=[0.9],
            onset_seconds=[0.6],
            heatmap_path="heatmaps/h.png",
        )
    rater = make_rater(username="rita")
    study = services.study_create(
        name="Everyday sounds",
        dataset=dataset,
        proposal_set=proposal_set,
        owner=make_researcher(),
        raters=[rater],
        sample_size=3,
        raters_per_clip=1,
        decoys_per_clip=1,
        show_evidence=True,
        instructions="Mark each label present only if you can hear it.",
    )
    return study, rater, categories


def _write_heatmap(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.outer(np.hanning(7), np.hanning(7))
    plt.imsave(path, grid, cmap="inferno")


def test_rater_rates_three_clips_with_the_keyboard(live_server, page, study):
    study, rater, categories = study
    shown_by_clip: dict[int, list[int]] = {}
    added_name = "church bell"

    # log in with the keyboard; the rater lands on their studies, the first one focused
    page.goto(f"{live_server.url}/accounts/login/?next=/rate/")
    page.keyboard.type(rater.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/rate/")
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
            _screenshot(page, "pages_rater.png")

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
            _screenshot(page, "pages_rater_autocomplete.png")
            page.keyboard.press("Enter")
            page.wait_for_selector(f"#added .chip:has-text('{added_name}')")
            page.keyboard.press("Escape")
            assert page.evaluate("document.activeElement.id") != "add-label"

        if index == 0:
            _screenshot(page, "pages_rater_answered.png")
        page.wait_for_timeout(300)  # a rater needs some time; seconds_spent must be positive
        with page.expect_navigation():
            page.keyboard.press("Enter")

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
            expected.add((categories[added_name].pk, "present", True))
        stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
        assert stored == expected


def _screenshot(page, name: str) -> None:
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / name), full_page=True)


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
