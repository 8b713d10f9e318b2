"""The worlds the annotator tests start from, built by tests/builders.py."""

import pytest

from tests.annotator.clients import client_for
from tests.annotator.imports import build_import_world
from tests.builders import MediaClip, World, build_media_world, build_world, make_study
from tests.factories import make_rater, make_researcher

#: The media world's classes; two of them match "dog".
MEDIA_NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "speech", "dog growling"]


@pytest.fixture
def world(db) -> World:
    """Twelve clips in three classes, four raters, no study yet."""
    return build_world()


@pytest.fixture
def small_world(db) -> World:
    """Four clips in two classes, three raters, no study yet."""
    return build_world(clips_per_class=(2, 2), raters=3)


@pytest.fixture
def study_world(small_world) -> World:
    """The small world with a study: two raters per clip, one decoy."""
    small_world.study = make_study(small_world, raters_per_clip=2, decoys_per_clip=1)
    return small_world


@pytest.fixture
def media_world(db, media_root, settings, tmp_path) -> World:
    """Three generated one-second clips (only the first with sound), each proposed "dog
    barking" (audio and onset heads) and "cat meowing" (visual head), and the study "Barks"
    over them for two raters."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    proposals = {MEDIA_NAMES[0]: ["audio", "onset"], MEDIA_NAMES[1]: ["visual"]}
    world = build_media_world(
        media_root=media_root,
        folder="ds",
        taxonomy_name="household sounds",
        proposal_set_name="page proposals",
        category_names=MEDIA_NAMES,
        clips=[
            MediaClip(
                clip_id=f"page-clip-{i}",
                file_name=f"c{i}.mp4",
                label=MEDIA_NAMES[i],
                proposals=proposals,
                seconds=1.0,
                audio=i == 0,
                clicks=(0.4,),
            )
            for i in range(3)
        ],
        owner=make_researcher(),
        raters=[make_rater(), make_rater()],
    )
    world.study = make_study(
        world,
        name="Barks",
        sample_size=3,
        seed=0,
        raters_per_clip=2,
        decoys_per_clip=1,
        instructions="Listen first.",
    )
    return world


@pytest.fixture
def import_api_world(db, settings, tmp_path, media_root):
    """The import world (tests/annotator/imports.py) with its researcher's API client as
    `api`, imports kept under a fresh AVLABEL_IMPORT_DIR."""
    settings.AVLABEL_IMPORT_DIR = tmp_path / "imports"
    world = build_import_world()
    world.api = client_for(world.researcher)
    return world
