"""One rule for a clip's media path (issue 9, point 14): a symlink leading outside the
media folder is refused at import, when served and when the model code reads the clip
(tests/modelzoo/test_clip_media_paths.py)."""

import os

import pytest

from annotator.importers.media import media_import
from annotator.media_serving import MediaPathError, clip_media_file, dataset_media_path
from annotator.models import Clip
from tests.builders import write_mp4
from tests.factories import ClipFactory, DatasetFactory


@pytest.fixture
def linked_folder(tmp_path):
    """media/ holds real.mp4, inner.mp4 (a link to real.mp4) and escape.mp4, a link to a
    valid clip outside media/."""
    folder, elsewhere = tmp_path / "media", tmp_path / "elsewhere"
    write_mp4(folder / "real.mp4")
    write_mp4(elsewhere / "escape-target.mp4")
    os.symlink(folder / "real.mp4", folder / "inner.mp4")
    os.symlink(elsewhere / "escape-target.mp4", folder / "escape.mp4")
    return folder


@pytest.fixture
def dataset(db):
    dataset = DatasetFactory(name="linked")
    for clip_id in ("real", "inner", "escape"):
        ClipFactory(dataset=dataset, clip_id=clip_id)
    return dataset


def test_media_import_refuses_a_link_leading_outside_the_folder(dataset, linked_folder):
    report = media_import(dataset=dataset, folder=linked_folder, workers=1)

    escape = Clip.objects.get(clip_id="escape")
    assert escape.media_status == "unusable"
    assert escape.media_error == f"'escape.mp4' lies outside {linked_folder.resolve()}"
    assert escape.duration_seconds is None  # never read
    assert Clip.objects.get(clip_id="real").media_status == "ok"
    assert Clip.objects.get(clip_id="inner").media_status == "ok"  # a link that stays inside is fine
    assert f"escape.mp4: {escape.media_error}" in [error.message for error in report.errors]


def test_serving_and_the_model_code_refuse_what_the_import_refuses(dataset, linked_folder):
    media_import(dataset=dataset, folder=linked_folder, workers=1)
    dataset.refresh_from_db()
    clips = {clip.clip_id: clip for clip in Clip.objects.select_related("dataset")}

    real = (linked_folder / "real.mp4").resolve()
    for clip_id in ("real", "inner"):
        assert clip_media_file(clips[clip_id]) == real
        assert dataset_media_path(dataset=dataset, media_path=f"{clip_id}.mp4") == real
    with pytest.raises(MediaPathError, match="lies outside"):
        clip_media_file(clips["escape"])
    with pytest.raises(MediaPathError, match="lies outside"):
        dataset_media_path(dataset=dataset, media_path="escape.mp4")


def test_media_import_rerun_refuses_a_file_turned_into_an_outside_link(dataset, linked_folder, tmp_path):
    # given a clip imported ok from a plain file
    media_import(dataset=dataset, folder=linked_folder, workers=1)
    # when the file is replaced by a link to elsewhere and the folder imported again
    (linked_folder / "real.mp4").rename(tmp_path / "moved.mp4")
    os.symlink(tmp_path / "moved.mp4", linked_folder / "real.mp4")
    media_import(dataset=dataset, folder=linked_folder, workers=1)

    # then it is probed again and refused, though its contents are unchanged
    real = Clip.objects.get(clip_id="real")
    assert (real.media_status, real.media_error) == ("unusable", f"'real.mp4' lies outside {linked_folder.resolve()}")


def test_media_import_survives_a_link_loop(dataset, linked_folder):
    os.symlink(linked_folder / "loop-b.mp4", linked_folder / "loop-a.mp4")
    os.symlink(linked_folder / "loop-a.mp4", linked_folder / "loop-b.mp4")
    ClipFactory(dataset=dataset, clip_id="loop-a")

    media_import(dataset=dataset, folder=linked_folder, workers=1)

    loop = Clip.objects.get(clip_id="loop-a")
    assert loop.media_status == "unusable" and "cannot be resolved" in loop.media_error
