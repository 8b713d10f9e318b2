"""Synthetic audio-visual clips whose event type is known by construction.

Real VGGSound media cannot be downloaded here, so tests, the demo and the fidelity bench
use real MP4 files (H.264 + AAC through PyAV) drawn with numpy. Each class pairs a visual
signature (shape, colour, motion) with a sound signature (pitch, timbre); both alone
identify the class. A clip shows one event type:

- ``continuous``: the object is seen and heard throughout;
- ``instant``: one short burst (about a second) seen and heard together; neutral grey
  flashes and noise bursts at other moments, never in sync;
- ``rhythmic``: a periodic visual pulse with percussive sound onsets in sync (the onset
  head's event type);
- ``visual-only``: seen throughout; silent (no audio track) or unrelated noise;
- ``audio-only``: heard throughout; nothing of the class is visible.

Multi-source clips mix two classes of different event types: the manifest gives both
labels, and one of them as the training label (the single-label restriction of LLP).

Everything is seeded: the same configuration writes byte-identical files.
"""

from __future__ import annotations

import colorsys
import csv
import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

logger = logging.getLogger(__name__)

CONTINUOUS = "continuous"
INSTANT = "instant"
RHYTHMIC = "rhythmic"
VISUAL_ONLY = "visual-only"
AUDIO_ONLY = "audio-only"
MULTI_SOURCE = "multi-source"
EVENT_TYPES: tuple[str, ...] = (CONTINUOUS, INSTANT, RHYTHMIC, VISUAL_ONLY, AUDIO_ONLY)
# The head of the event-specific model that each event type is built to exercise.
EVENT_TYPE_HEAD: dict[str, str] = {
    CONTINUOUS: "continuous",
    INSTANT: "instant",
    RHYTHMIC: "onset",
    VISUAL_ONLY: "visual",
    AUDIO_ONLY: "audio",
}

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "cross", "ring", "bar", "x-mark")
MOTIONS: tuple[str, ...] = ("still", "left-right", "up-down", "circling", "diagonal")
TIMBRES: tuple[str, ...] = ("sine", "square", "saw", "tremolo", "vibrato")
_HUE_NAMES: tuple[tuple[float, str], ...] = (
    (0, "red"),
    (30, "orange"),
    (55, "yellow"),
    (90, "lime"),
    (125, "green"),
    (165, "teal"),
    (185, "cyan"),
    (210, "azure"),
    (240, "blue"),
    (270, "violet"),
    (295, "purple"),
    (320, "magenta"),
    (345, "pink"),
)
MAX_CLASSES = 40
MIN_PITCH_HZ = 160.0
MAX_PITCH_HZ = 3200.0

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
CLASSES_FILE = "classes.txt"
CLIPS_CSV = "clips.csv"
CLIPS_DIR = "clips"
GENERIC_CSV_HEADER = ("clip_id", "labels", "youtube_id", "start_seconds", "split", "media_path")
MANIFEST_CSV_HEADER = (
    "clip_id",
    "path",
    "label",
    "label_name",
    "labels",
    "label_names",
    "event_type",
    "event_types",
    "split",
    "has_audio",
)


@dataclass(frozen=True)
class SynthClass:
    """One class: a visual signature and a sound signature, each unique on its own."""

    index: int
    name: str
    shape: str
    colour: tuple[int, int, int]
    colour_name: str
    motion: str
    pitch_hz: float
    timbre: str


@dataclass(frozen=True)
class Source:
    """One sounding/visible thing in a clip: a class shown as one event type.

    ``window`` is the instant burst (start, end) in seconds; ``beats`` the rhythmic onsets.
    """

    class_index: int
    event_type: str
    window: tuple[float, float] | None = None
    beats: tuple[float, ...] = ()


@dataclass(frozen=True)
class ClipSpec:
    clip_id: str
    number: int
    sources: tuple[Source, ...]
    label: int
    split: str
    seed: int
    has_audio: bool

    @property
    def labels(self) -> tuple[int, ...]:
        return tuple(source.class_index for source in self.sources)

    @property
    def event_type(self) -> str:
        return self.sources[0].event_type if len(self.sources) == 1 else MULTI_SOURCE

    @property
    def relpath(self) -> str:
        return f"{CLIPS_DIR}/{self.clip_id}.mp4"


@dataclass(frozen=True)
class SyntheticConfig:
    num_clips: int = 100
    num_classes: int = 10
    seed: int = 0
    multi_fraction: float = 0.2
    fps: int = 25
    size: int = 96
    sample_rate: int = 16000
    seconds: float = 10.0
    burst_seconds: float = 1.2
    splits: tuple[tuple[str, float], ...] = (("train", 0.7), ("val", 0.15), ("test", 0.15))
    clip_prefix: str = "syn"

    def __post_init__(self) -> None:
        if self.num_clips < 1:
            raise ValueError(f"num_clips must be at least 1, got {self.num_clips}")
        if not 2 <= self.num_classes <= MAX_CLASSES:
            raise ValueError(f"num_classes must be between 2 and {MAX_CLASSES}, got {self.num_classes}")
        if not 0.0 <= self.multi_fraction < 1.0:
            raise ValueError(f"multi_fraction must be in [0, 1), got {self.multi_fraction}")
        if self.size < 32 or self.size % 2:
            raise ValueError(f"size must be an even number of pixels >= 32, got {self.size}")
        if self.fps < 1 or self.sample_rate < 8000:
            raise ValueError("fps must be >= 1 and sample_rate >= 8000")
        if not 2.0 * self.burst_seconds < self.seconds:
            raise ValueError("burst_seconds must be shorter than half the clip")
        if not self.splits or any(share < 0 for _, share in self.splits) or sum(s for _, s in self.splits) <= 0:
            raise ValueError(f"splits need non-negative shares with a positive sum, got {self.splits}")


@dataclass(frozen=True)
class SyntheticDataset:
    """What :func:`generate_dataset` wrote; paths are absolute."""

    root: Path
    classes: tuple[SynthClass, ...]
    clips: tuple[ClipSpec, ...]
    manifest_json: Path
    manifest_csv: Path
    classes_file: Path
    clips_csv: Path
    config: SyntheticConfig = field(repr=False)

    def clip_path(self, clip: ClipSpec) -> Path:
        return self.root / clip.relpath


def _colour_name(hue_degrees: float) -> str:
    def distance(entry: tuple[float, str]) -> float:
        delta = abs(hue_degrees - entry[0]) % 360
        return min(delta, 360 - delta)

    return min(_HUE_NAMES, key=distance)[1]


def make_classes(num_classes: int) -> tuple[SynthClass, ...]:
    """Classes with evenly spread hues and log-spaced pitches (unique colour and pitch)."""
    if not 2 <= num_classes <= MAX_CLASSES:
        raise ValueError(f"num_classes must be between 2 and {MAX_CLASSES}, got {num_classes}")
    classes = []
    ratio = (MAX_PITCH_HZ / MIN_PITCH_HZ) ** (1.0 / (num_classes - 1))
    for index in range(num_classes):
        hue = (index * 360.0 / num_classes) % 360
        red, green, blue = colorsys.hsv_to_rgb(hue / 360.0, 0.85, 0.95)
        pitch = round(MIN_PITCH_HZ * ratio**index)
        shape = SHAPES[index % len(SHAPES)]
        timbre = TIMBRES[index % len(TIMBRES)]
        colour_name = _colour_name(hue)
        classes.append(
            SynthClass(
                index=index,
                name=f"s{index:02d} {colour_name} {shape} with {timbre} {pitch} Hz",
                shape=shape,
                colour=(round(red * 255), round(green * 255), round(blue * 255)),
                colour_name=colour_name,
                motion=MOTIONS[index % len(MOTIONS)],
                pitch_hz=float(pitch),
                timbre=timbre,
            )
        )
    return tuple(classes)


# --- planning -------------------------------------------------------------------------


def _clip_rng(seed: int, number: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, number]))


def _timed_source(class_index: int, event_type: str, rng: np.random.Generator, config: SyntheticConfig) -> Source:
    if event_type == INSTANT:
        start = float(rng.uniform(0.5, config.seconds - 0.5 - config.burst_seconds))
        return Source(class_index, event_type, window=(round(start, 3), round(start + config.burst_seconds, 3)))
    if event_type == RHYTHMIC:
        period = float(rng.uniform(0.6, 1.1))
        first = float(rng.uniform(0.2, period))
        beats = np.arange(first, config.seconds - 0.3, period)
        return Source(class_index, event_type, beats=tuple(round(float(b), 3) for b in beats))
    return Source(class_index, event_type)


def _assign_splits(groups: dict[tuple, list[int]], config: SyntheticConfig, rng: np.random.Generator) -> list[str]:
    """Stratified splits: clips ordered by group (class, event type), each given the split its
    point of a golden-ratio sequence falls in, so every group and the whole spread evenly."""
    names = [name for name, _ in config.splits]
    shares = np.array([share for _, share in config.splits], dtype=float)
    bounds = np.cumsum(shares / shares.sum())
    order = [int(number) for key in sorted(groups, key=repr) for number in rng.permutation(groups[key])]
    offset = float(rng.random())
    splits = [""] * config.num_clips
    for position, number in enumerate(order):
        point = (offset + position * 0.6180339887498949) % 1.0
        splits[number] = names[min(int(np.searchsorted(bounds, point, side="right")), len(names) - 1)]
    return splits


def plan_clips(config: SyntheticConfig) -> tuple[ClipSpec, ...]:
    """Which classes, event types, moments and splits each clip gets: pure and seeded."""
    num_multi = round(config.num_clips * config.multi_fraction)
    num_single = config.num_clips - num_multi
    plans: list[tuple[tuple[Source, ...], int, bool]] = []
    groups: dict[tuple, list[int]] = {}
    for number in range(config.num_clips):
        rng = _clip_rng(config.seed, number)
        if number < num_single:
            class_index = number % config.num_classes
            event_type = EVENT_TYPES[(number // config.num_classes + class_index) % len(EVENT_TYPES)]
            sources: tuple[Source, ...] = (_timed_source(class_index, event_type, rng, config),)
            # Half of the visual-only clips carry no audio track at all, half unrelated noise.
            has_audio = event_type != VISUAL_ONLY or bool(rng.random() < 0.5)
            key: tuple = (class_index, event_type)
        else:
            first, second = (int(c) for c in rng.choice(config.num_classes, size=2, replace=False))
            type_a, type_b = (EVENT_TYPES[int(i)] for i in rng.choice(len(EVENT_TYPES), size=2, replace=False))
            sources = (_timed_source(first, type_a, rng, config), _timed_source(second, type_b, rng, config))
            has_audio = True
            key = (MULTI_SOURCE, type_a, type_b)
        plans.append((sources, sources[0].class_index, has_audio))
        groups.setdefault(key, []).append(number)
    splits = _assign_splits(groups, config, np.random.default_rng(np.random.SeedSequence([config.seed, 1 << 30])))
    return tuple(
        ClipSpec(
            clip_id=f"{config.clip_prefix}{config.seed}_{number:05d}",
            number=number,
            sources=sources,
            label=label,
            split=splits[number],
            seed=config.seed,
            has_audio=has_audio,
        )
        for number, (sources, label, has_audio) in enumerate(plans)
    )


# --- drawing --------------------------------------------------------------------------


def _shape_mask(shape: str, dy: np.ndarray, dx: np.ndarray, radius: float) -> np.ndarray:
    """Boolean mask of a shape centred at offset (0, 0); dy, dx: (h, w) pixel offsets."""
    ax, ay = np.abs(dx), np.abs(dy)
    if shape == "circle":
        return dx**2 + dy**2 <= radius**2
    if shape == "square":
        return np.maximum(ax, ay) <= 0.85 * radius
    if shape == "triangle":
        return (dy <= 0.8 * radius) & (ax <= (dy + radius) / 1.8)
    if shape == "diamond":
        return ax + ay <= radius
    if shape == "cross":
        return ((ax <= 0.3 * radius) & (ay <= radius)) | ((ay <= 0.3 * radius) & (ax <= radius))
    if shape == "ring":
        distance = np.sqrt(dx**2 + dy**2)
        return (distance <= radius) & (distance >= 0.55 * radius)
    if shape == "bar":
        return (ax <= radius) & (ay <= 0.4 * radius)
    if shape == "x-mark":
        return (np.abs(ax - ay) <= 0.3 * radius) & (np.maximum(ax, ay) <= radius)
    raise ValueError(f"unknown shape {shape!r}")


def _paint(frame: np.ndarray, mask_fn: Callable, cy: float, cx: float, radius: float, colour: np.ndarray) -> None:
    """Paint a shape of ``radius`` pixels at (cy, cx) onto an (H, W, 3) float frame."""
    height, width, _ = frame.shape
    top, bottom = max(0, int(cy - radius) - 1), min(height, int(cy + radius) + 2)
    left, right = max(0, int(cx - radius) - 1), min(width, int(cx + radius) + 2)
    if top >= bottom or left >= right:
        return
    dy, dx = np.mgrid[top:bottom, left:right].astype(np.float32)
    mask = mask_fn(dy - cy, dx - cx, radius)
    frame[top:bottom, left:right][mask] = colour


def _motion_offset(motion: str, t: np.ndarray, period: float, phase: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit-amplitude (dy, dx) offsets over times t (seconds)."""
    angle = 2 * np.pi * t / period + phase
    if motion == "still":
        return 0.08 * np.sin(angle), 0.08 * np.cos(angle)
    if motion == "left-right":
        return np.zeros_like(t), np.sin(angle)
    if motion == "up-down":
        return np.sin(angle), np.zeros_like(t)
    if motion == "circling":
        return np.sin(angle), np.cos(angle)
    if motion == "diagonal":
        return 0.7 * np.sin(angle), 0.7 * np.sin(angle)
    raise ValueError(f"unknown motion {motion!r}")


def _beat_pulse(t: np.ndarray, beats: Sequence[float], decay: float) -> np.ndarray:
    """exp(-(t - last beat) / decay) after each beat, 0 before the first."""
    if not beats:
        return np.zeros_like(t)
    beat_array = np.asarray(beats)
    last = np.searchsorted(beat_array, t, side="right") - 1
    since = t - beat_array[np.clip(last, 0, None)]
    return np.where(last >= 0, np.exp(-since / decay), 0.0)


def _visual_track(source: Source, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: visible (bool) and scale (0..1] of the source's object."""
    ones = np.ones_like(t)
    if source.event_type == AUDIO_ONLY:
        return np.zeros_like(t, dtype=bool), ones
    if source.event_type == INSTANT:
        assert source.window is not None
        start, end = source.window
        return (t >= start) & (t < end), ones
    if source.event_type == RHYTHMIC:
        return np.ones_like(t, dtype=bool), 0.65 + 0.35 * _beat_pulse(t, source.beats, 0.15)
    return np.ones_like(t, dtype=bool), ones


def _quiet_windows(rng: np.random.Generator, sources: Sequence[Source], seconds: float, length: float, count: int):
    """Up to ``count`` random windows of ``length`` s that avoid every instant burst (+-0.3 s)."""
    busy = [source.window for source in sources if source.window is not None]
    windows: list[tuple[float, float]] = []
    for _ in range(count * 20):
        if len(windows) == count:
            break
        start = float(rng.uniform(0.0, seconds - length))
        candidate = (start, start + length)
        if all(candidate[1] + 0.3 < b[0] or candidate[0] - 0.3 > b[1] for b in busy + windows):
            windows.append(candidate)
    return windows


def render_video(
    spec: ClipSpec, classes: Sequence[SynthClass], config: SyntheticConfig, rng: np.random.Generator
) -> np.ndarray:
    """Frames of the clip: (N, H, W, 3) uint8 with N = fps * seconds."""
    size = config.size
    num_frames = round(config.fps * config.seconds)
    t = np.arange(num_frames) / config.fps
    base = float(rng.uniform(30, 60))
    gradient = np.linspace(-8, 8, size, dtype=np.float32)[:, None, None]
    background = np.clip(np.full((size, size, 3), base, dtype=np.float32) + gradient, 0, 255)
    frames = np.repeat(background[None], num_frames, axis=0)

    multi = len(spec.sources) > 1
    sides = rng.permutation([0.3, 0.7]) if multi else None
    for slot, source in enumerate(spec.sources):
        synth_class = classes[source.class_index]
        visible, scale = _visual_track(source, t)
        if multi:
            assert sides is not None
            cx0, cy0, amplitude = sides[slot] * size, 0.5 * size, 0.1 * size
        else:
            cx0, cy0 = (0.5 + rng.uniform(-0.06, 0.06, size=2)) * size
            amplitude = 0.22 * size
        dy, dx = _motion_offset(synth_class.motion, t, float(rng.uniform(2.0, 4.0)), float(rng.uniform(0, 2 * np.pi)))
        radius = (0.11 if multi else 0.14) * size
        colour = np.asarray(synth_class.colour, dtype=np.float32)

        def mask_fn(ddy, ddx, r, _shape=synth_class.shape):
            return _shape_mask(_shape, ddy, ddx, r)

        for index in np.flatnonzero(visible):
            brightness = 0.5 + 0.5 * scale[index] if source.event_type == RHYTHMIC else 1.0
            _paint(
                frames[index],
                mask_fn,
                cy0 + amplitude * dy[index],
                cx0 + amplitude * dx[index],
                radius * scale[index],
                colour * brightness,
            )

    if any(source.event_type == INSTANT for source in spec.sources):
        # Neutral grey flashes away from the burst: visible, silent, of no class.
        for start, end in _quiet_windows(rng, spec.sources, config.seconds, 0.4, 2):
            cy, cx = rng.uniform(0.2, 0.8, size=2) * size
            grey = np.full(3, float(rng.uniform(150, 210)), dtype=np.float32)
            for index in np.flatnonzero((t >= start) & (t < end)):
                _paint(frames[index], lambda ddy, ddx, r: _shape_mask("square", ddy, ddx, r), cy, cx, 0.1 * size, grey)
    return np.clip(frames, 0, 255).astype(np.uint8)


def _tone(synth_class: SynthClass, t: np.ndarray, nyquist: float) -> np.ndarray:
    """The class's timbre at its pitch, peak about 1."""
    pitch = synth_class.pitch_hz
    if synth_class.timbre in {"square", "saw"}:
        step = 2 if synth_class.timbre == "square" else 1
        harmonics = [n for n in range(1, 40, step) if n * pitch < 0.9 * nyquist]
        wave = sum(np.sin(2 * np.pi * n * pitch * t) / n for n in harmonics)
        return wave / np.max(np.abs(wave))
    if synth_class.timbre == "tremolo":
        return np.sin(2 * np.pi * pitch * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 6.0 * t))
    if synth_class.timbre == "vibrato":
        return np.sin(2 * np.pi * pitch * t + (0.03 * pitch / 5.0) * np.sin(2 * np.pi * 5.0 * t))
    if synth_class.timbre == "sine":
        return np.sin(2 * np.pi * pitch * t)
    raise ValueError(f"unknown timbre {synth_class.timbre!r}")


def _ramp_window(t: np.ndarray, start: float, end: float, ramp: float) -> np.ndarray:
    return np.clip(np.minimum(t - start, end - t) / ramp, 0.0, 1.0)


def _audio_envelope(source: Source, t: np.ndarray, seconds: float) -> np.ndarray:
    if source.event_type == VISUAL_ONLY:
        return np.zeros_like(t)
    if source.event_type == INSTANT:
        assert source.window is not None
        return _ramp_window(t, source.window[0], source.window[1], 0.01)
    if source.event_type == RHYTHMIC:
        attack = np.zeros_like(t)
        for beat in source.beats:
            attack = np.maximum(attack, _ramp_window(t, beat, beat + 0.005, 0.005) * (t < beat + 0.005))
        return np.maximum(attack, _beat_pulse(t, [b + 0.005 for b in source.beats], 0.12))
    return _ramp_window(t, 0.0, seconds, 0.05)


def render_audio(
    spec: ClipSpec, classes: Sequence[SynthClass], config: SyntheticConfig, rng: np.random.Generator
) -> np.ndarray | None:
    """Mono waveform (S,) float32 in [-1, 1] with S = sample_rate * seconds, or None (no track)."""
    if not spec.has_audio:
        return None
    t = np.arange(round(config.sample_rate * config.seconds)) / config.sample_rate
    wave = 0.004 * rng.standard_normal(t.shape[0])
    for source in spec.sources:
        envelope = _audio_envelope(source, t, config.seconds)
        if envelope.any():
            wave += 0.35 * envelope * _tone(classes[source.class_index], t, config.sample_rate / 2)
    unrelated = spec.event_type == VISUAL_ONLY
    if unrelated or any(source.event_type == INSTANT for source in spec.sources):
        # Broadband noise bursts of no class; for instants they avoid the burst.
        for start, end in _quiet_windows(rng, spec.sources, config.seconds, 0.3, 3 if unrelated else 2):
            window = _ramp_window(t, start, end, 0.01)
            wave += 0.12 * window * rng.standard_normal(t.shape[0])
    peak = float(np.max(np.abs(wave)))
    if peak > 0.95:
        wave *= 0.95 / peak
    return wave.astype(np.float32)


# --- encoding -------------------------------------------------------------------------


def encode_mp4(path: Path, video: np.ndarray, audio: np.ndarray | None, *, fps: int, sample_rate: int) -> None:
    """Write H.264 (yuv420p) + AAC (mono) to ``path`` atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with av.open(str(partial), mode="w", format="mp4") as container:
        video_stream = container.add_stream("libx264", rate=fps)
        video_stream.width = video.shape[2]
        video_stream.height = video.shape[1]
        video_stream.pix_fmt = "yuv420p"
        video_stream.options = {"preset": "ultrafast", "crf": "20"}
        video_stream.codec_context.thread_count = 1  # byte-identical output, parallel across clips
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream("aac", rate=sample_rate)
            audio_stream.layout = "mono"
        for image in video:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(video_stream.encode(frame))
        container.mux(video_stream.encode())
        if audio_stream is not None and audio is not None:
            chunk = 1024
            for start in range(0, audio.shape[0], chunk):
                samples = np.ascontiguousarray(audio[None, start : start + chunk])
                frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                frame.sample_rate = sample_rate
                frame.pts = start
                container.mux(audio_stream.encode(frame))
            container.mux(audio_stream.encode())
    os.replace(partial, path)


def write_clip(spec: ClipSpec, classes: Sequence[SynthClass], config: SyntheticConfig, root: Path) -> str:
    """Render and encode one clip; its own seed makes it independent of order and workers."""
    rng = _clip_rng(config.seed, spec.number + (1 << 20))
    video = render_video(spec, classes, config, rng)
    audio = render_audio(spec, classes, config, rng)
    encode_mp4(root / spec.relpath, video, audio, fps=config.fps, sample_rate=config.sample_rate)
    return spec.clip_id


def _write_clip_star(args: tuple) -> str:
    return write_clip(*args)


# --- manifest and import files -------------------------------------------------------------


def _manifest_row(spec: ClipSpec, classes: Sequence[SynthClass]) -> dict:
    return {
        "clip_id": spec.clip_id,
        "path": spec.relpath,
        "label": spec.label,
        "label_name": classes[spec.label].name,
        "labels": list(spec.labels),
        "label_names": [classes[index].name for index in spec.labels],
        "event_type": spec.event_type,
        "event_types": [source.event_type for source in spec.sources],
        "split": spec.split,
        "has_audio": spec.has_audio,
        "sources": [
            {
                "class_index": source.class_index,
                "event_type": source.event_type,
                "window": list(source.window) if source.window else None,
                "beats": list(source.beats),
            }
            for source in spec.sources
        ],
    }


def write_manifests(root: Path, config: SyntheticConfig, classes: Sequence[SynthClass], clips: Sequence[ClipSpec]):
    """manifest.json/.csv (for nn code), classes.txt and clips.csv (for the importers)."""
    rows = [_manifest_row(spec, classes) for spec in clips]
    manifest = {
        "generator": "modelzoo.nn.synthetic",
        "config": asdict(config),
        "event_types": list(EVENT_TYPES),
        "event_type_heads": EVENT_TYPE_HEAD,
        "classes": [asdict(synth_class) for synth_class in classes],
        "clips": rows,
    }
    (root / MANIFEST_JSON).write_text(json.dumps(manifest, indent=1) + "\n")
    with open(root / MANIFEST_CSV, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MANIFEST_CSV_HEADER)
        for row in rows:
            writer.writerow(
                [
                    row["clip_id"],
                    row["path"],
                    row["label"],
                    row["label_name"],
                    ";".join(str(i) for i in row["labels"]),
                    ";".join(row["label_names"]),
                    row["event_type"],
                    ";".join(row["event_types"]),
                    row["split"],
                    int(row["has_audio"]),
                ]
            )
    (root / CLASSES_FILE).write_text("".join(f"{synth_class.name}\n" for synth_class in classes))
    with open(root / CLIPS_CSV, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(GENERIC_CSV_HEADER)
        for row in rows:
            writer.writerow([row["clip_id"], ";".join(row["label_names"]), "", "", row["split"], row["path"]])


def generate_dataset(
    out_dir: str | Path,
    config: SyntheticConfig,
    *,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SyntheticDataset:
    """Write every clip, the manifests, the class list and the generic clips CSV under ``out_dir``.

    ``workers``: processes for rendering and encoding (None: up to the CPU count; 1: in this
    process). The output does not depend on it.
    """
    root = Path(out_dir).resolve()
    (root / CLIPS_DIR).mkdir(parents=True, exist_ok=True)
    classes = make_classes(config.num_classes)
    clips = plan_clips(config)
    workers = min(os.cpu_count() or 1, 8, len(clips)) if workers is None else max(1, workers)
    jobs = [(spec, classes, config, root) for spec in clips]
    done = 0
    if workers == 1:
        for job in jobs:
            _write_clip_star(job)
            done += 1
            if on_progress:
                on_progress(done, len(clips))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_write_clip_star, jobs, chunksize=max(1, math.ceil(len(jobs) / (workers * 8)))):
                done += 1
                if on_progress:
                    on_progress(done, len(clips))
    write_manifests(root, config, classes, clips)
    logger.info("wrote %d synthetic clips of %d classes under %s", len(clips), len(classes), root)
    return SyntheticDataset(
        root=root,
        classes=classes,
        clips=clips,
        manifest_json=root / MANIFEST_JSON,
        manifest_csv=root / MANIFEST_CSV,
        classes_file=root / CLASSES_FILE,
        clips_csv=root / CLIPS_CSV,
        config=config,
    )


def load_manifest(root: str | Path) -> dict:
    """The manifest.json of a generated dataset, with absolute clip paths added as ``abspath``."""
    root = Path(root).resolve()
    manifest = json.loads((root / MANIFEST_JSON).read_text())
    for row in manifest["clips"]:
        row["abspath"] = str(root / row["path"])
    return manifest
