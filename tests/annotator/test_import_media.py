"""import_media: files matched to clips, probed with PyAV, reasons for unusable files."""

from pathlib import Path

import av
import numpy as np
import pytest

from annotator.importers.media import media_import
from annotator.importers.probe import media_probe
from annotator.importers.report import ImportInputError
from annotator.models import Clip
from tests.factories import ClipFactory, DatasetFactory

NOT_MEDIA = "not a media file: Invalid data found when processing input"


def write_clip(path: Path, *, seconds: float = 1.0, size: int = 64, fps: int = 10, audio: bool = True) -> Path:
    """A tiny H.264 video (+ an AAC 440 Hz tone) written with PyAV."""
    rate = 16_000
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        sound = out.add_stream("aac", rate=rate, layout="mono") if audio else None
        for i in range(round(seconds * fps)):
            image = np.full((size, size, 3), (i * 25) % 256, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())
        if sound is not None:
            _mux_tone(out, sound, seconds, rate)
    return path


def write_tone(path: Path, *, seconds: float = 1.0) -> Path:
    """An audio-only AAC file (.m4a)."""
    rate = 16_000
    with av.open(str(path), "w", format="mp4") as out:
        _mux_tone(out, out.add_stream("aac", rate=rate, layout="mono"), seconds, rate)
    return path


def _mux_tone(out, stream, seconds, rate):
    t = np.arange(int(seconds * rate)) / rate
    frame = av.AudioFrame.from_ndarray(
        (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :], format="fltp", layout="mono"
    )
    frame.sample_rate = rate
    out.mux(stream.encode(frame))
    out.mux(stream.encode())


@pytest.fixture(scope="module")
def media_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    write_clip(folder / "good.mp4")
    write_clip(folder / "silent.mp4", audio=False)
    (folder / "noise.mp4").write_bytes(np.random.default_rng(7).bytes(4096))
    (folder / "text.mp4").write_text("this is a text file, not a video\n")
    write_tone(folder / "tone.m4a")
    (folder / "empty.webm").write_bytes(b"")
    (folder / "nested").mkdir()
    write_clip(folder / "nested" / "deep.mkv", size=32, fps=5)
    write_clip(folder / "stranger.mp4")
    return folder


def test_media_probe_reads_streams_of_a_real_clip(media_folder):
    probe = media_probe(media_folder / "good.mp4")

    assert probe.ok and probe.error == ""
    assert probe.duration_seconds == pytest.approx(1.0, abs=0.15)
    assert (probe.fps, probe.width, probe.height) == (10.0, 64, 64)
    assert (probe.has_audio, probe.sample_rate) == (True, 16_000)


@pytest.mark.parametrize(
    ("name", "error"),
    [("text.mp4", NOT_MEDIA), ("tone.m4a", "no video stream"), ("empty.webm", "empty file (0 bytes)")],
)
def test_media_probe_says_why_a_file_is_unusable(media_folder, name, error):
    probe = media_probe(media_folder / name)

    assert not probe.ok
    assert probe.error == error


def test_media_probe_of_a_missing_file_says_so(tmp_path):
    assert media_probe(tmp_path / "gone.mp4").error == "cannot read file: No such file or directory"


@pytest.fixture
def dataset(db):
    dataset = DatasetFactory(name="media-set")
    for clip_id in ["good", "silent", "noise", "text", "tone", "empty", "deep", "no-file"]:
        ClipFactory(dataset=dataset, clip_id=clip_id)
    return dataset


def clip(clip_id):
    return Clip.objects.get(clip_id=clip_id)


def test_media_import_probes_matched_files_and_records_reasons(dataset, media_folder):
    # when the folder is imported
    report = media_import(dataset=dataset, folder=media_folder, workers=2)

    # then each file lands on its clip with what probing found
    dataset.refresh_from_db()
    assert dataset.media_root == str(media_folder.resolve())
    good = clip("good")
    assert (good.media_status, good.media_path, good.media_error) == ("ok", "good.mp4", "")
    assert (good.fps, good.width, good.height, good.has_audio, good.sample_rate) == (10.0, 64, 64, True, 16_000)
    assert good.duration_seconds == pytest.approx(1.0, abs=0.15)
    assert good.media_probed_at is not None
    silent = clip("silent")
    assert (silent.media_status, silent.has_audio, silent.sample_rate) == ("ok", False, None)
    deep = clip("deep")
    assert (deep.media_status, deep.media_path, deep.width, deep.fps) == ("ok", "nested/deep.mkv", 32, 5.0)
    assert (clip("text").media_status, clip("text").media_error) == ("unusable", NOT_MEDIA)
    assert clip("noise").media_status == "unusable" and clip("noise").media_error
    assert (clip("tone").media_status, clip("tone").media_error) == ("unusable", "no video stream")
    assert clip("tone").has_audio is True
    assert (clip("empty").media_status, clip("empty").media_error) == ("unusable", "empty file (0 bytes)")
    assert (clip("no-file").media_status, clip("no-file").media_path) == ("missing", "")
    # and the report counts them, listing unusable files with their reasons
    assert report.updated == 7
    assert report.extra["unmatched_files"] == 1
    assert (report.extra["clips_ok"], report.extra["clips_unusable"], report.extra["clips_missing"]) == (3, 4, 1)
    assert f"text.mp4: {NOT_MEDIA}" in [error.message for error in report.errors]
    assert all(error.line is None for error in report.errors)


def test_media_import_rerun_skips_unchanged_files_and_reprobe_changes_nothing(dataset, media_folder):
    media_import(dataset=dataset, folder=media_folder, workers=1)
    before = list(Clip.objects.order_by("clip_id").values_list("clip_id", "media_status", "media_path", "fps"))

    rerun = media_import(dataset=dataset, folder=media_folder, workers=1)
    reprobe = media_import(dataset=dataset, folder=media_folder, workers=1, reprobe=True)

    assert (rerun.updated, rerun.unchanged, rerun.extra["not_reprobed"]) == (0, 7, 7)
    assert (reprobe.updated, reprobe.unchanged, reprobe.extra["probed"]) == (0, 7, 7)
    after = list(Clip.objects.order_by("clip_id").values_list("clip_id", "media_status", "media_path", "fps"))
    assert after == before
    assert Clip.objects.count() == 8


def test_media_import_of_another_folder_marks_clips_without_a_file_missing(dataset, media_folder, tmp_path):
    media_import(dataset=dataset, folder=media_folder, workers=1)
    other = tmp_path / "other"
    other.mkdir()
    write_clip(other / "silent.MP4", audio=False)

    report = media_import(dataset=dataset, folder=other, workers=1)

    assert (clip("silent").media_status, clip("silent").media_path) == ("ok", "silent.MP4")
    good = clip("good")
    assert (good.media_status, good.media_path, good.fps, good.media_probed_at) == ("missing", "", None, None)
    assert report.extra["now_missing"] == 6
    assert report.extra["clips_missing"] == 7


def test_media_import_prefers_mp4_when_a_clip_has_several_files(dataset, tmp_path):
    write_clip(tmp_path / "good.webm.bak")
    write_clip(tmp_path / "good.mov")
    write_clip(tmp_path / "good.mp4")

    report = media_import(dataset=dataset, folder=tmp_path, workers=1)

    assert clip("good").media_path == "good.mp4"
    assert [error.message for error in report.errors] == ["good.mov: not used, good.mp4 is the file of the same clip"]
    assert report.extra["unmatched_files"] == 1


def test_media_import_without_folder_probes_recorded_paths(db, tmp_path):
    dataset = DatasetFactory(media_root=str(tmp_path))
    write_clip(tmp_path / "a.mp4")
    ClipFactory(dataset=dataset, clip_id="a", media_path="a.mp4")
    ClipFactory(dataset=dataset, clip_id="b", media_path="gone/b.mp4")
    ClipFactory(dataset=dataset, clip_id="c")

    report = media_import(dataset=dataset)

    assert clip("a").media_status == "ok"
    assert (clip("b").media_status, clip("b").media_error) == ("missing", "file not found")
    assert clip("c").media_status == "missing"
    assert report.errors[0].message == "gone/b.mp4: file not found"


def test_media_import_refuses_a_missing_folder(dataset, tmp_path):
    with pytest.raises(ImportInputError, match="media folder not found"):
        media_import(dataset=dataset, folder=tmp_path / "nope")
    with pytest.raises(ImportInputError, match="no media folder yet"):
        media_import(dataset=dataset)
