"""The researcher adjudicates contested labels by keyboard alone in Debian's chromium: the
selected label's clip plays, P / A decide, H / S / B say where it is, Enter saves through the
API and the list moves on; X clears. The database holds each decision with who made it."""

import pytest

from annotator import services
from annotator.models import Adjudication, StudyEvent
from tests.browser.pages import log_in_by_keyboard, screenshot
from tests.builders import MediaClip, build_media_world, make_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.browser

NAMES = ["dog barking", "cat meowing", "car engine"]


@pytest.fixture
def world(transactional_db, media_root, settings, tmp_path):
    """Two 2-second clips, each proposed its own label and "car engine", no decoy; two
    raters who agree on the clips' own labels and split on "car engine": two contested labels."""
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
                proposals={NAMES[i]: ["audio"], "car engine": ["visual"]},
                seconds=2.0,
                size=96,
            )
            for i in range(2)
        ],
        owner=make_researcher(username="rhea"),
        raters=[make_rater(username="quinn"), make_rater(username="sam")],
    )
    world.study = make_study(world, name="Split", sample_size=2, seed=0, raters_per_clip=2, decoys_per_clip=0)
    engine = world.category("car engine").pk
    for index, rater in enumerate(world.raters):
        for _ in range(2):
            study_clip = services.clip_next_for_rater(study=world.study, rater=rater)
            own = study_clip.shown_labels.exclude(category_id=engine).get().category_id
            answers = {own: "present", engine: "present" if index == 0 else "absent"}
            services.rating_submit(study_clip=study_clip, rater=rater, answers=answers, seconds_spent=4.0 + index)
    return world


def _selected(page) -> str:
    return page.locator("#adj-list [role=option][aria-selected=true]").inner_text()


def test_adjudicating_contested_labels_by_keyboard(live_server, page, world):
    study = world.study
    log_in_by_keyboard(
        page, base_url=live_server.url, username=world.owner.username, next_url=f"/studies/{study.pk}/adjudicate/"
    )
    page.wait_for_selector("#adj-list [role=option]")
    assert page.locator("#adj-list [role=option]").count() == 2
    assert "car engine" in _selected(page) and "vid0_000010" in _selected(page)
    assert page.locator("#adj-video").get_attribute("src").endswith("/")
    assert page.locator("#adj-raters tr").count() == 2  # each rater's answer
    screenshot(page, "adjudicate.png")

    # P, then S (seen only), Enter: saved; the label leaves the list, the next is selected
    page.keyboard.press("p")
    page.keyboard.press("s")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#adj-list [role=option]').length === 1")
    first = Adjudication.objects.get()
    assert (first.decision, first.modality, first.decided_by) == ("present", "V", world.owner)
    assert "vid1_000010" in _selected(page)
    assert page.locator("#adj-count").inner_text() == "1"

    # K stays on the only label; A, Enter: absent; nothing is left to decide
    page.keyboard.press("k")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.wait_for_selector("#adj-empty:not([hidden])")
    assert sorted(Adjudication.objects.values_list("decision", flat=True)) == ["absent", "present"]

    # The decided list: J moves to the second decision, X clears it
    page.goto(f"{live_server.url}/studies/{study.pk}/adjudicate/?state=adjudicated")
    page.wait_for_function("document.querySelectorAll('#adj-list [role=option]').length === 2")
    page.keyboard.press("j")
    assert "vid1_000010" in _selected(page)
    page.keyboard.press("x")
    page.wait_for_function("document.querySelectorAll('#adj-list [role=option]').length === 1")
    assert list(Adjudication.objects.values_list("decision", flat=True)) == ["present"]
    assert list(StudyEvent.objects.filter(study=study).values_list("action", flat=True)) == [
        "adjudication_cleared",
        "label_adjudicated",
        "label_adjudicated",
    ]
