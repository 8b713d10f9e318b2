"""Fixtures for the model library: tiny MP4 files written with PyAV (H.264 + AAC)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def write_clip(
    path: Path,
    *,
    seconds: float = 10.0,
    fps: int = 8,
    size: tuple[int, int] = (64, 48),
    frame_fn: Callable[[int], np.ndarray] | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    layout: str = "mono",
) -> Path:
    """Write an MP4: frames from ``frame_fn(index) -> (H, W, 3) uint8`` (grey ramp by default) and,
    when ``audio`` is given ((S,) float in [-1, 1], mono), an AAC track at ``sample_rate``."""
    width, height = size
    frame_fn = frame_fn or (lambda i: np.full((height, width, 3), min(10 + 3 * i, 255), dtype=np.uint8))
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream("aac", rate=sample_rate, layout=layout)
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(frame_fn(i), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio_stream is not None and audio is not None:
            channels = 2 if layout == "stereo" else 1
            samples = np.asarray(audio, dtype=np.float32)
            chunk = 1024
            for start in range(0, samples.shape[0], chunk):
                part = samples[start : start + chunk]
                planar = np.ascontiguousarray(np.repeat(part[None, :], channels, axis=0))
                frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
                frame.sample_rate = sample_rate
                frame.pts = start
                frame.time_base = Fraction(1, sample_rate)
                for packet in audio_stream.encode(frame):
                    container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def tone(freq: float, *, seconds: float = 10.0, sample_rate: int = 16000, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def clicks(times: list[float], *, seconds: float = 10.0, sample_rate: int = 16000) -> np.ndarray:
    """Silence with a 20 ms decaying noise burst starting at each time."""
    rng = np.random.default_rng(1)
    wave = np.zeros(round(seconds * sample_rate), dtype=np.float32)
    burst = int(0.02 * sample_rate)
    envelope = np.exp(-np.arange(burst) / (0.004 * sample_rate))
    for t in times:
        start = int(t * sample_rate)
        wave[start : start + burst] += (0.8 * envelope * rng.standard_normal(burst)).astype(np.float32)
    return wave


@pytest.fixture
def clip_writer(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(**kwargs: object) -> Path:
        return write_clip(tmp_path / f"clip_{next(counter)}.mp4", **kwargs)  # type: ignore[arg-type]

    return make
