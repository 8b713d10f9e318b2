"""Decode a clip into the model's inputs with PyAV (FFmpeg bundled): T frames and 16 kHz mono audio.

One sequential, single-threaded pass over the packets (no seeking), stopping once both streams cover
``clip_seconds``. Frame ``i`` is the decoded frame nearest to the centre of step ``i``,
``(i + 0.5) * clip_seconds / T`` seconds after the first frame (so T/10 fps, and each frame sits
in the middle of the audio span of its step); a tie goes to the earlier frame. Only the chosen
frames are converted: scaled by swscale so the short side is ``resize_short`` (area filter),
then centre-cropped to ``frame_size``. Audio is resampled by ``av.AudioResampler`` to mono at
``sample_rate``, starting at the first decoded sample, then trimmed or zero-padded to
``clip_seconds``.

Flags: ``"short"`` when the video or the audio covers less than ``clip_seconds`` minus
``SHORT_TOLERANCE_SECONDS`` (missing frames repeat the last one, missing audio is zeros; a file
whose packets stop decoding part-way counts as short); ``"no_audio"`` when there is no audio
stream (silent audio). A file that cannot be opened, yields no video frame or has frames under
``MIN_FRAME_SIDE`` pixels on a side raises ``MediaError``: a 2x2 picture upscaled to ``resize_short``
is noise, not a clip. The minimum is the one the annotator's media import applies
(annotator/importers/probe.py, ``MIN_SIDE``); a test keeps the two equal, as this library imports
no application code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from modelzoo.nn.config import ModelConfig

logger = logging.getLogger(__name__)

SHORT_TOLERANCE_SECONDS = 0.1
MIN_FRAME_SIDE = 32
FLAG_SHORT = "short"
FLAG_NO_AUDIO = "no_audio"


class MediaError(Exception):
    """The file cannot be decoded into a clip; only this clip fails."""


@dataclass(frozen=True)
class DecodedClip:
    """One decoded clip.

    video: (3, T, H, W), float normalised (``decode_clip``) or uint8 RGB (``decode_clip_raw``).
    audio: (S,) float32 mono at ``sample_rate``, S = sample_rate * clip_seconds.
    flags: subset of {"short", "no_audio"}.
    """

    video: torch.Tensor
    audio: torch.Tensor
    flags: frozenset[str]


def decode_clip(path: str | Path, config: ModelConfig) -> DecodedClip:
    """Decode ``path``; video normalised with the config's (Kinetics) mean and std."""
    raw = decode_clip_raw(path, config)
    return DecodedClip(video=normalise_video(raw.video, config), audio=raw.audio, flags=raw.flags)


def normalise_video(video: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """uint8 (..., 3, T, H, W) -> float32 (..., 3, T, H, W): x / 255, minus mean, over std.

    Works on any device; the channel axis is the fourth from the end.
    """
    mean = torch.tensor(config.video_mean, device=video.device).view(3, 1, 1, 1)
    std = torch.tensor(config.video_std, device=video.device).view(3, 1, 1, 1)
    return (video.float().div_(255.0) - mean) / std


def decode_clip_raw(path: str | Path, config: ModelConfig) -> DecodedClip:
    """Decode ``path`` keeping uint8 frames (3, T, H, W): 4x smaller to cache and to move to a GPU."""
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"cannot open {path}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        video_stream = container.streams.video[0]
        # One decoding thread: parallelism comes from decoding clips in separate worker processes.
        # FFmpeg's frame threads log through PyAV's Python callback (installed once torchvision is
        # imported), which needs the GIL and can deadlock against the thread holding it.
        video_stream.codec_context.thread_count = 1
        audio_stream = container.streams.audio[0] if container.streams.audio else None
        rate = video_stream.average_rate
        frames = _FrameSampler(config, fallback_rate=float(rate) if rate else 25.0)
        audio = _AudioCollector(config) if audio_stream is not None else None
        streams: list[av.stream.Stream] = [video_stream] if audio_stream is None else [video_stream, audio_stream]
        truncated = False
        try:
            for packet in container.demux(*streams):
                if packet.stream.index == video_stream.index:
                    if frames.done:
                        continue
                    for frame in packet.decode():
                        if isinstance(frame, av.VideoFrame):
                            frames.add(frame)
                elif audio is not None and not audio.done:
                    for frame in packet.decode():
                        if isinstance(frame, av.AudioFrame):
                            audio.add(frame)
                if frames.done and (audio is None or audio.done):
                    break
        except (av.error.FFmpegError, ValueError) as exc:
            if frames.count == 0:
                raise MediaError(f"cannot decode {path}: {exc}") from exc
            logger.warning("decoding %s stopped early after %d frames: %s", path, frames.count, exc)
            truncated = True
        if frames.count == 0:
            raise MediaError(f"{path} contains no decodable video frame")
        video = frames.result()
        flags = set()
        if truncated or frames.covered_seconds < config.clip_seconds - SHORT_TOLERANCE_SECONDS:
            flags.add(FLAG_SHORT)
        if audio is None:
            wave = np.zeros(config.num_samples, dtype=np.float32)
            flags.add(FLAG_NO_AUDIO)
        else:
            wave = audio.result()
            if audio.collected < config.num_samples - SHORT_TOLERANCE_SECONDS * config.sample_rate:
                flags.add(FLAG_SHORT)
    return DecodedClip(video=video, audio=torch.from_numpy(wave), flags=frozenset(flags))


class _FrameSampler:
    """Keeps, for each step centre, the nearest decoded frame, converted and cropped on selection."""

    def __init__(self, config: ModelConfig, *, fallback_rate: float) -> None:
        self.config = config
        self.fallback_rate = fallback_rate
        step = config.step_seconds
        self.targets = [(i + 0.5) * step for i in range(config.num_frames)]
        self.picked: list[np.ndarray] = []
        self.count = 0
        self._start: float | None = None
        self._prev: av.VideoFrame | None = None
        self._prev_time = 0.0
        self._last_time = 0.0
        self._frame_seconds = 0.0
        self._converted_frame: av.VideoFrame | None = None
        self._converted: np.ndarray | None = None
        self._size: tuple[int, int] | None = None

    @property
    def done(self) -> bool:
        return len(self.picked) == len(self.targets)

    @property
    def covered_seconds(self) -> float:
        """Seconds of video seen: last frame start plus one frame duration."""
        if self.done:
            return self.config.clip_seconds
        return self._last_time + self._frame_seconds

    def add(self, frame: av.VideoFrame) -> None:
        time = self._frame_time(frame)
        if self._prev is not None and time > self._prev_time:
            self._frame_seconds = time - self._prev_time
        while not self.done and time >= self.targets[len(self.picked)]:
            target = self.targets[len(self.picked)]
            if self._prev is not None and target - self._prev_time <= time - target:
                self.picked.append(self._convert(self._prev))
            else:
                self.picked.append(self._convert(frame))
        self._prev, self._prev_time, self._last_time = frame, time, max(self._last_time, time)
        self.count += 1

    def result(self) -> torch.Tensor:
        """(3, T, H, W) uint8; steps past the end repeat the last frame."""
        assert self._prev is not None
        while not self.done:
            self.picked.append(self._convert(self._prev))
        stacked = np.stack(self.picked)  # (T, H, W, 3)
        return torch.from_numpy(stacked).permute(3, 0, 1, 2).contiguous()

    def _frame_time(self, frame: av.VideoFrame) -> float:
        # without a timestamp, assume the stream's average rate
        absolute = float(frame.time) if frame.time is not None else self.count / self.fallback_rate
        if self._start is None:
            self._start = absolute
        return absolute - self._start

    def _convert(self, frame: av.VideoFrame) -> np.ndarray:
        if self._converted_frame is frame and self._converted is not None:
            return self._converted
        if self._size is None:
            self._size = _resized_size(frame.width, frame.height, self.config.resize_short)
        width, height = self._size
        rgb = frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA")
        crop = self.config.frame_size
        top, left = (height - crop) // 2, (width - crop) // 2
        self._converted = np.ascontiguousarray(rgb[top : top + crop, left : left + crop])
        self._converted_frame = frame
        return self._converted


def _resized_size(width: int, height: int, short: int) -> tuple[int, int]:
    """(width, height) with the short side equal to ``short`` and the aspect ratio kept."""
    if width <= 0 or height <= 0:
        raise MediaError(f"invalid frame size {width}x{height}")
    if min(width, height) < MIN_FRAME_SIDE:
        minimum = f"{MIN_FRAME_SIDE}x{MIN_FRAME_SIDE}"
        raise MediaError(f"frames of {width}x{height} pixels are below the minimum of {minimum}")
    scale = short / min(width, height)
    return max(short, round(width * scale)), max(short, round(height * scale))


class _AudioCollector:
    """Resamples decoded audio to mono float32 at the config rate until the clip is covered."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=config.sample_rate)
        self.chunks: list[np.ndarray] = []
        self.collected = 0

    @property
    def done(self) -> bool:
        return self.collected >= self.config.num_samples

    def add(self, frame: av.AudioFrame) -> None:
        for out in self.resampler.resample(frame):
            self._keep(out)

    def result(self) -> np.ndarray:
        if not self.done:
            for out in self.resampler.resample(None):
                self._keep(out)
        wave = np.zeros(self.config.num_samples, dtype=np.float32)
        if self.chunks:
            joined = np.concatenate(self.chunks)[: self.config.num_samples]
            wave[: joined.shape[0]] = joined
        return wave

    def _keep(self, frame: av.AudioFrame) -> None:
        samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        self.chunks.append(samples)
        self.collected += samples.shape[0]
