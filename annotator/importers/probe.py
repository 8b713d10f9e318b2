"""Probe one media file with PyAV: what the clip is, or why it cannot be used. No Django."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class MediaProbe:
    """`ok` files have a decodable video stream; otherwise `error` says why not."""

    ok: bool
    error: str = ""
    duration_seconds: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    sample_rate: int | None = None


def media_probe(path: Path | str) -> MediaProbe:
    """Open the file, read its streams and decode its first video frame. Never raises for
    a bad file: the reason is in `error`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return MediaProbe(ok=False, error=f"cannot read file: {exc.strerror or exc}")
    if size == 0:
        return MediaProbe(ok=False, error="empty file (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        return MediaProbe(ok=False, error=f"not a media file: {_reason(exc)}")
    except OSError as exc:
        return MediaProbe(ok=False, error=f"cannot read file: {exc.strerror or exc}")
    with container:
        audio = container.streams.audio[0] if container.streams.audio else None
        found = {
            "duration_seconds": _duration(container),
            "has_audio": audio is not None,
            "sample_rate": (audio.codec_context.sample_rate or None) if audio is not None else None,
        }
        if not container.streams.video:
            return MediaProbe(ok=False, error="no video stream", **found)
        video = container.streams.video[0]
        rate = video.average_rate or video.guessed_rate
        found |= {
            "fps": float(rate) if rate else None,
            "width": video.codec_context.width or None,
            "height": video.codec_context.height or None,
        }
        error = _first_frame_error(container, video)
    return MediaProbe(ok=not error, error=error, **found)


def _duration(container) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    for stream in container.streams:
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return None


def _first_frame_error(container, video) -> str:
    try:
        for _frame in container.decode(video):
            return ""
    except av.FFmpegError as exc:
        return f"video stream cannot be decoded: {_reason(exc)}"
    return "video stream has no frame"


def _reason(exc: av.FFmpegError) -> str:
    return exc.strerror or str(exc)
