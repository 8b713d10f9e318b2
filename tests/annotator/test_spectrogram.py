"""Log-mel strip and onsets per clip (annotator/spectrogram.py), on generated MP4s."""

import json

import numpy as np
import pytest

from annotator import spectrogram
from annotator.models import Clip
from annotator.spectrogram import (
    COLUMNS_PER_SECOND,
    N_MELS,
    SpectrogramError,
    quantise_db,
    spectrogram_cache_path,
    spectrogram_columns,
    spectrogram_compute,
    spectrogram_for_clip,
)
from tests.builders import write_mp4


@pytest.fixture
def artifacts(tmp_path, settings):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    return settings.ARTIFACTS_DIR


def test_clip_with_clicks_gets_columns_and_onsets_near_the_clicks(tmp_path):
    path = write_mp4(tmp_path / "clicks.mp4", seconds=2.0, clicks=(0.5, 1.2))

    document = spectrogram_compute(media_path=path)

    assert document["has_audio"] is True
    assert document["n_mels"] == N_MELS
    assert document["columns_per_second"] == COLUMNS_PER_SECOND
    assert 1.9 <= document["duration"] <= 2.2
    columns = spectrogram_columns(document)
    assert columns.shape == (document["n_columns"], N_MELS)
    assert abs(columns.shape[0] - document["duration"] * COLUMNS_PER_SECOND) <= 2
    # the loudest columns are the clicks (AAC adds up to ~0.1 s of encoder delay)
    loud = np.argsort(columns.astype(int).sum(axis=1))[-2:] / COLUMNS_PER_SECOND
    assert any(0.4 <= t <= 0.7 for t in loud) and any(1.1 <= t <= 1.4 for t in loud)
    for click in (0.5, 1.2):
        assert any(click - 0.05 <= onset <= click + 0.15 for onset in document["onsets"]), document["onsets"]


def test_clip_without_audio_gets_an_empty_strip_with_a_flag(tmp_path):
    path = write_mp4(tmp_path / "mute.mp4", audio=False)

    document = spectrogram_compute(media_path=path)

    assert document["has_audio"] is False
    assert document["n_columns"] == 0
    assert document["data"] == ""
    assert document["onsets"] == []


def test_unreadable_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video at all" * 10)

    with pytest.raises(SpectrogramError, match="broken.mp4"):
        spectrogram_compute(media_path=path)


def test_spectrogram_is_computed_once_and_cached_on_disk(tmp_path, artifacts, monkeypatch):
    clip = Clip(pk=41)
    path = write_mp4(tmp_path / "c.mp4", audio=False)
    first = spectrogram_for_clip(clip=clip, media_path=path)
    assert json.loads(spectrogram_cache_path(clip=clip).read_text()) == first
    assert spectrogram_cache_path(clip=clip) == artifacts / "spectrograms" / "41.json"

    def must_not_run(**kwargs):
        raise AssertionError("recomputed although the file did not change")

    monkeypatch.setattr(spectrogram, "spectrogram_compute", must_not_run)
    assert spectrogram_for_clip(clip=clip, media_path=path) == first


def test_changed_file_is_analysed_again(tmp_path, artifacts):
    clip = Clip(pk=42)
    path = write_mp4(tmp_path / "c.mp4", audio=False)
    before = spectrogram_for_clip(clip=clip, media_path=path)

    write_mp4(path, clicks=(0.3,))
    after = spectrogram_for_clip(clip=clip, media_path=path)

    assert before["has_audio"] is False
    assert after["has_audio"] is True
    assert after["source"]["size"] == path.stat().st_size


def test_corrupt_cache_file_is_replaced(tmp_path, artifacts):
    clip = Clip(pk=43)
    path = write_mp4(tmp_path / "c.mp4", audio=False)
    cache = spectrogram_cache_path(clip=clip)
    cache.parent.mkdir(parents=True)
    cache.write_text("{half a fi")

    document = spectrogram_for_clip(clip=clip, media_path=path)

    assert json.loads(cache.read_text()) == document


def test_missing_media_file_raises(tmp_path, artifacts):
    with pytest.raises(SpectrogramError):
        spectrogram_for_clip(clip=Clip(pk=44), media_path=tmp_path / "gone.mp4")


def test_quantise_maps_the_decibel_range_to_bytes():
    assert quantise_db(np.array([-120.0, -80.0, -40.0, 0.0, 3.0])).tolist() == [0, 0, 128, 255, 255]
