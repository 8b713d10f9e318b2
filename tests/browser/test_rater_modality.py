"""In a study that asks modality, a rater says by keyboard alone whether each present label
is heard, seen or both, for shown and added labels alike; the database holds exactly that."""

import json

import pytest

from annotator.models import Judgment, Rating
from tests.browser.pages import log_in_by_keyboard, submit_and_wait_for_next
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "people speaking", "church bell"]
# presses of a label's number key -> (answer, modality) with modality asked
CYCLE = {
    1: ("present", "AV"),
    2: ("present", "A"),
    3: ("present", "V"),
    4: ("absent", ""),
    5: ("unsure", ""),
    6: ("", ""),
}
TEXT = {
    ("present", "AV"): "present, heard and seen",
    ("present", "A"): "present, heard only",
    ("present", "V"): "present, seen only",
    ("absent", ""): "absent",
    ("unsure", ""): "unsure",
}
# per clip, presses per shown label position (the last cycles back to "not answered" first)
PRESSES = [[1, 2, 3], [4, 5, 7]]
ADDED = "church bell"


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Two 3-second clips, each proposed its own label and "people speaking", one decoy; a
    study that asks modality, one rater."""
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
                seconds=3.0,
                size=96,
                clicks=(0.6, 1.8),
            )
            for i in range(2)
        ],
        owner=make_researcher(),
        raters=[make_rater(username="mona")],
    )
    world.study = make_study(world, sample_size=2, seed=0, raters_per_clip=1, decoys_per_clip=1, ask_modality=True)
    return world


def test_rater_gives_modality_by_keyboard(live_server, page, world):
    rater = world.raters[0]
    want: dict[int, set[tuple[int, str, str, bool]]] = {}

    log_in_by_keyboard(page, base_url=live_server.url, username=rater.username, next_url="/rate/")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "heard and seen" in page.inner_text(".keys")

    for clip_index, presses in enumerate(PRESSES):
        config = json.loads(page.locator("#rater-config").text_content())
        assert config["ask_modality"] is True
        labels = [label["category_id"] for label in config["labels"]]
        assert len(labels) == len(presses)
        expected = set()
        toggles = page.locator("#labels .label-toggle")
        for position, count in enumerate(presses):
            for _ in range(count):
                page.keyboard.press(str(position + 1))
            answer, modality = CYCLE[(count - 1) % len(CYCLE) + 1]
            assert toggles.nth(position).get_attribute("data-state") == answer
            assert toggles.nth(position).get_attribute("data-modality") == modality
            assert toggles.nth(position).locator(".answer").inner_text() == TEXT[(answer, modality)]
            expected.add((labels[position], answer, modality, False))

        if clip_index == 0:
            page.keyboard.press("a")
            page.keyboard.type(ADDED)
            page.wait_for_selector("#add-label-options li[role=option]")
            page.keyboard.press("Enter")
            chip = page.locator(f"#added .chip:has-text('{ADDED}')")
            chip.wait_for()
            page.keyboard.press("Escape")
            assert chip.get_attribute("data-modality") == "AV", "an added label starts heard and seen"
            # its key follows the shown labels': two presses, heard and seen -> heard -> seen
            key = str(len(labels) + 1)
            assert key in chip.locator("button.modality").inner_text()
            page.keyboard.press(key)
            page.keyboard.press(key)
            assert chip.get_attribute("data-modality") == "V"
            expected.add((world.category(ADDED).pk, "present", "V", True))
        want[config["study_clip_id"]] = expected

        page.wait_for_timeout(200)
        submit_and_wait_for_next(page)

    assert "Nothing left to rate" in page.inner_text("main")
    ratings = Rating.objects.filter(rater=rater)
    assert {rating.study_clip_id for rating in ratings} == set(want)
    for rating in ratings:
        stored = {
            (j.category_id, j.answer, j.modality, j.added_by_rater) for j in Judgment.objects.filter(rating=rating)
        }
        assert stored == want[rating.study_clip_id]
