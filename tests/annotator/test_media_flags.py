"""Media flags (issue 9, point 13): recorded at import, shown on the clip list and the
dataset summary, and a reason to leave clips out of a study; frames below the minimum
size make a file unusable."""

import pytest

from annotator import services
from annotator.importers.media import media_import
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Clip, Study
from tests.annotator.clients import client_for, login
from tests.builders import make_study, write_mp4
from tests.factories import ClipFactory, DatasetFactory

#: clip id -> (write_mp4 settings, the flags import must record)
FILES = {
    "full": ({"seconds": 10.0, "size": 128}, []),
    "silent": ({"seconds": 10.0, "size": 128, "audio": False}, ["no_audio"]),
    "brief": ({"seconds": 3.0, "size": 128}, ["short"]),
    "lengthy": ({"seconds": 120.0, "size": 128, "fps": 1}, ["long"]),
    "small": ({"seconds": 10.0, "size": 64}, ["low_resolution"]),
    "bare": ({"seconds": 3.0, "size": 64, "audio": False}, ["no_audio", "short", "low_resolution"]),
}
TINY_ERROR = "frames of 2x2 pixels are below the minimum of 32x32"


@pytest.fixture(scope="module")
def flag_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flagged")
    for clip_id, (options, _flags) in FILES.items():
        write_mp4(folder / f"{clip_id}.mp4", **{"fps": 5, **options})
    write_mp4(folder / "speck.mp4", seconds=10.0, size=2, fps=5)
    return folder


@pytest.fixture
def dataset(db):
    dataset = DatasetFactory(name="flagged")
    for clip_id in [*FILES, "speck"]:
        ClipFactory(dataset=dataset, clip_id=clip_id)
    return dataset


def stored(dataset) -> dict[str, tuple[str, list[str]]]:
    return {
        clip_id: (status, flags)
        for clip_id, status, flags in dataset.clips.values_list("clip_id", "media_status", "media_flags")
    }


def test_media_import_flags_no_audio_short_long_and_low_resolution_clips(dataset, flag_folder):
    # when the folder is imported
    report = media_import(dataset=dataset, folder=flag_folder, workers=2)

    # then each usable clip carries what makes it less than a full 10 s audio-visual clip
    clips = stored(dataset)
    for clip_id, (_options, flags) in FILES.items():
        assert clips[clip_id] == ("ok", flags), clip_id
    # and the report counts the flagged clips
    assert report.extra["flagged_no_audio"] == 2
    assert (report.extra["flagged_short"], report.extra["flagged_long"]) == (2, 1)
    assert report.extra["flagged_low_resolution"] == 2
    assert "2 flagged short" in report.summary()


def test_media_import_refuses_frames_below_the_minimum_size(dataset, flag_folder):
    report = media_import(dataset=dataset, folder=flag_folder, workers=1)

    speck = Clip.objects.get(clip_id="speck")
    assert (speck.media_status, speck.media_error, speck.media_flags) == ("unusable", TINY_ERROR, [])
    assert f"speck.mp4: {TINY_ERROR}" in [error.message for error in report.errors]


def test_media_import_rerun_applies_the_rules_to_clips_probed_before_them(dataset, flag_folder):
    # given clips recorded before flags and the minimum size existed (ok, no flags)
    media_import(dataset=dataset, folder=flag_folder, workers=1)
    dataset.clips.update(media_status="ok", media_error="", media_flags=[])

    # when the folder is imported again, without probing the unchanged files
    report = media_import(dataset=dataset, folder=flag_folder, workers=1)

    # then the recorded measures get today's rules
    assert report.extra["probed"] == 0 and report.extra["not_reprobed"] == 7
    clips = stored(dataset)
    assert clips["speck"] == ("unusable", [])
    assert clips["bare"] == ("ok", ["no_audio", "short", "low_resolution"])
    assert (report.updated, report.unchanged) == (6, 1)  # "full" has no flag


@pytest.fixture
def flagged_world(world):
    """The world with one clip flagged no_audio, one short, one both; nine clean."""
    for clip, flags in zip(world.clips, (["no_audio"], ["short"], ["no_audio", "short"]), strict=False):
        Clip.objects.filter(pk=clip.pk).update(media_flags=flags)
    return world


def test_clip_list_shows_media_flags_and_filters_by_one(flagged_world):
    client = client_for(flagged_world.owner)
    first = flagged_world.clips[0]

    no_audio = client.get("/api/clips/", {"dataset": flagged_world.dataset.pk, "media_flag": "no_audio"}).json()
    clip = client.get("/api/clips/", {"dataset": flagged_world.dataset.pk}).json()["results"]
    summary = client.get(f"/api/datasets/{flagged_world.dataset.pk}/").json()

    assert sorted(row["id"] for row in no_audio["results"]) == [first.pk, flagged_world.clips[2].pk]
    assert {row["id"]: row["media_flags"] for row in clip}[first.pk] == ["no_audio"]
    assert summary["clips_by_media_flag"] == {"no_audio": 2, "short": 2, "long": 0, "low_resolution": 0}
    assert client.get("/api/clips/", {"media_flag": "blurry"}).status_code == 400


def test_study_create_leaves_out_clips_with_an_excluded_flag(flagged_world):
    world = flagged_world
    flagged = {clip.pk for clip in world.clips[:3]}

    everything = make_study(world, sample_size=12)
    clean = services.study_create(
        name="clean",
        dataset=world.dataset,
        proposal_set=world.proposal_set,
        owner=world.owner,
        raters=world.raters,
        sample_size=9,
        exclude_media_flags=["no_audio", "short"],
    )

    assert set(everything.study_clips.values_list("clip_id", flat=True)) >= flagged  # default: none left out
    assert not flagged & set(clean.study_clips.values_list("clip_id", flat=True))


def test_study_api_takes_excluded_flags_and_refuses_unknown_ones(flagged_world):
    client = client_for(flagged_world.owner)
    body = {
        "name": "clean only",
        "dataset": flagged_world.dataset.pk,
        "proposal_set": flagged_world.proposal_set.pk,
        "sample_size": 11,
        "exclude_media_flags": ["no_audio"],
    }

    too_many = client.post("/api/studies/create/", body, format="json")  # two of the 12 lack audio
    created = client.post("/api/studies/create/", body | {"sample_size": 10}, format="json")
    unknown = client.post("/api/studies/create/", body | {"exclude_media_flags": ["blurry"]}, format="json")

    assert too_many.status_code == 400
    assert "without media flags no_audio" in too_many.json()["message"]
    assert created.status_code == 201, created.content
    assert unknown.status_code == 400 and "exclude_media_flags" in unknown.json()["extra"]["fields"]


def test_study_form_offers_each_flag_and_leaves_out_the_checked_ones(client, flagged_world):
    login(client, flagged_world.owner)
    data = {
        "name": "Form study",
        "dataset": flagged_world.dataset.pk,
        "proposal_set": flagged_world.proposal_set.pk,
        "sample_size": 10,
        "seed": 1,
        "raters_per_clip": 1,
        "raters": [flagged_world.raters[0].username],
        "decoys_per_clip": 0,
        "gold_rate": 0,
        "reservation_timeout_seconds": 300,
        "exclude_media_flags": ["short"],
    }

    page = client.get("/studies/new/").text
    response = client.post("/studies/new/", data)

    assert all(f'value="{code}"' in page for code in MEDIA_FLAGS)
    assert response.status_code == 302, response.content
    sampled = set(Study.objects.get(name="Form study").study_clips.values_list("clip_id", flat=True))
    assert not sampled & {flagged_world.clips[1].pk, flagged_world.clips[2].pk}
