"""Tiny generated clips (H.264 + AAC MP4) for the media, spectrogram, view and browser tests.

`write_mp4` is imported by those tests; the tests here check that it writes what they expect.
"""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CLICK_SAMPLES = 800


def write_mp4(
    path: Path,
    *,
    seconds: float = 2.0,
    size: int = 64,
    fps: int = 10,
    sample_rate: int = 16000,
    audio: bool = True,
    clicks: tuple[float, ...] = (0.5, 1.2),
) -> Path:
    """An MP4 with a brightening grey picture and, if `audio`, near-silence with loud clicks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=sample_rate, layout="mono") if audio else None
        for index in range(int(seconds * fps)):
            picture = np.full((size, size, 3), (index * 20) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            wave = _click_track(seconds=seconds, sample_rate=sample_rate, clicks=clicks)
            for offset in range(0, wave.size, 1024):
                chunk = wave[offset : offset + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate = sample_rate
                frame.pts = offset
                frame.time_base = Fraction(1, sample_rate)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return path


def _click_track(*, seconds: float, sample_rate: int, clicks: tuple[float, ...]) -> np.ndarray:
    rng = np.random.default_rng(0)
    wave = 0.0005 * rng.standard_normal(int(seconds * sample_rate)).astype(np.float32)
    burst = (np.hanning(CLICK_SAMPLES) * np.sin(np.arange(CLICK_SAMPLES) * 0.6) * 0.8).astype(np.float32)
    for at in clicks:
        start = int(at * sample_rate)
        wave[start : start + CLICK_SAMPLES] += burst[: max(0, wave.size - start)]
    return wave


def test_write_mp4_has_h264_video_and_aac_audio(tmp_path):
    path = write_mp4(tmp_path / "clip.mp4")

    with av.open(str(path)) as container:
        codecs = sorted((s.type, s.codec_context.name) for s in container.streams)
        duration = container.duration / av.time_base

    assert codecs == [("audio", "aac"), ("video", "h264")]
    assert 1.9 <= duration <= 2.2


def test_write_mp4_without_audio_has_only_video(tmp_path):
    path = write_mp4(tmp_path / "silent.mp4", audio=False)

    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["video"]
