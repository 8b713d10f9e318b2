"""Probe one media file with PyAV: what the clip is, or why it cannot be used. No Django.

A usable (`ok`) file may still carry media flags, warnings a researcher sees on the clip
list, the dataset summary and study creation (where flagged clips can be left out):

- `no_audio`: no audio stream; the model hears silence and raters have nothing to hear.
- `short`: shorter than CLIP_SECONDS - DURATION_TOLERANCE_SECONDS (9.5 s); the decoder
  pads the rest (last frame repeated, silent audio).
- `long`: longer than CLIP_SECONDS + DURATION_TOLERANCE_SECONDS (10.5 s); only the first
  CLIP_SECONDS are decoded for the model, while raters play the whole file.
- `low_resolution`: the short side is under LOW_RESOLUTION_SIDE (128 px), the size the
  paper model resizes frames to, so its frames are upscaled.

The tolerance is half a second either side because container durations of real 10 s
clips (VGGSound, LLP) drift by a few hundredths (AAC priming, the last frame's duration),
while half a second is the least a rater notices missing or extra. A frame whose short
side is under MIN_SIDE (32 px) shows nothing recognisable (32x32 is the usual lower
bound for object images) and would be blown up 4x or more: such a file is unusable, and
the model's decoder (modelzoo/nn/media.py, MIN_FRAME_SIDE) refuses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

CLIP_SECONDS = 10.0  # the window a clip is used for: the clip lists' 10 s, the model's clip_seconds
DURATION_TOLERANCE_SECONDS = 0.5
MIN_SIDE = 32
LOW_RESOLUTION_SIDE = 128

FLAG_NO_AUDIO = "no_audio"
FLAG_SHORT = "short"
FLAG_LONG = "long"
FLAG_LOW_RESOLUTION = "low_resolution"
MEDIA_FLAGS = {
    FLAG_NO_AUDIO: "no audio track",
    FLAG_SHORT: f"shorter than {CLIP_SECONDS - DURATION_TOLERANCE_SECONDS:g} s (padded)",
    FLAG_LONG: f"longer than {CLIP_SECONDS + DURATION_TOLERANCE_SECONDS:g} s (only the first {CLIP_SECONDS:g} s used)",
    FLAG_LOW_RESOLUTION: f"frames under {LOW_RESOLUTION_SIDE} px on the short side (upscaled)",
}
MEDIA_FLAG_CHOICES = list(MEDIA_FLAGS.items())  # as serializer choices (and the schema's one enum name)


@dataclass(frozen=True)
class MediaProbe:
    """`ok` files have a decodable video stream of at least MIN_SIDE pixels a side;
    otherwise `error` says why not. `flags`: the MEDIA_FLAGS codes of an ok file."""

    ok: bool
    error: str = ""
    duration_seconds: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    sample_rate: int | None = None
    flags: tuple[str, ...] = ()


def media_flags(
    *, duration_seconds: float | None, has_audio: bool | None, width: int | None, height: int | None
) -> tuple[str, ...]:
    """The flags of a usable clip, in MEDIA_FLAGS order; an unknown measure raises none."""
    flags = []
    if has_audio is False:
        flags.append(FLAG_NO_AUDIO)
    if duration_seconds is not None and duration_seconds < CLIP_SECONDS - DURATION_TOLERANCE_SECONDS:
        flags.append(FLAG_SHORT)
    if duration_seconds is not None and duration_seconds > CLIP_SECONDS + DURATION_TOLERANCE_SECONDS:
        flags.append(FLAG_LONG)
    if width and height and min(width, height) < LOW_RESOLUTION_SIDE:
        flags.append(FLAG_LOW_RESOLUTION)
    return tuple(flags)


def frame_size_error(*, width: int | None, height: int | None) -> str:
    """Why frames of this size are unusable, or "" (also when the size is unknown)."""
    if width and height and min(width, height) < MIN_SIDE:
        return f"frames of {width}x{height} pixels are below the minimum of {MIN_SIDE}x{MIN_SIDE}"
    return ""


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
    if error:
        return MediaProbe(ok=False, error=error, **found)
    flags = media_flags(
        duration_seconds=found["duration_seconds"],
        has_audio=found["has_audio"],
        width=found["width"],
        height=found["height"],
    )
    return MediaProbe(ok=True, flags=flags, **found)


def _duration(container) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    for stream in container.streams:
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return None


def _first_frame_error(container, video) -> str:
    try:
        for frame in container.decode(video):
            return frame_size_error(width=frame.width, height=frame.height)
    except av.FFmpegError as exc:
        return f"video stream cannot be decoded: {_reason(exc)}"
    return "video stream has no frame"


def _reason(exc: av.FFmpegError) -> str:
    return exc.strerror or str(exc)
