"""The picture of a clip: each source's shape, colour and motion drawn with numpy, frame by frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from modelzoo.synthetic.classes import AUDIO_ONLY, INSTANT, RHYTHMIC, SynthClass
from modelzoo.synthetic.specs import ClipSpec, Source, SyntheticConfig, beat_windows
from modelzoo.synthetic.timeline import beat_pulse

MaskFn = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


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


def _paint(frame: np.ndarray, mask_fn: MaskFn, cy: float, cx: float, radius: float, colour: np.ndarray) -> None:
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


def _within(t: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
    inside = np.zeros_like(t, dtype=bool)
    for start, end in windows:
        inside |= (t >= start) & (t < end)
    return inside


def _visual_track(source: Source, t: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: visible (bool) and scale (0..1] of the source's object."""
    ones = np.ones_like(t)
    if source.event_type == AUDIO_ONLY:
        return np.zeros_like(t, dtype=bool), ones
    if source.event_type == INSTANT:
        assert source.window is not None
        return _within(t, [source.window]), ones
    if source.event_type == RHYTHMIC:
        # On screen only around the beats, swelling with each: seen only in sync with its onsets.
        return _within(t, beat_windows(source.beats, seconds)), 0.65 + 0.35 * beat_pulse(t, source.beats, 0.15)
    return np.ones_like(t, dtype=bool), ones


def _single_layout(size: int, rng: np.random.Generator) -> tuple[tuple[float, float], float, float]:
    """(cy, cx) centre near the middle, motion amplitude and radius of a clip's one object."""
    cy, cx = (0.5 + rng.uniform(-0.06, 0.06, size=2)) * size
    return (float(cy), float(cx)), 0.22 * size, 0.14 * size


def _draw_object(
    frames: np.ndarray,
    synth_class: SynthClass,
    t: np.ndarray,
    visible: np.ndarray,
    scale: np.ndarray,
    brightness: np.ndarray,
    centre: tuple[float, float],
    amplitude: float,
    radius: float,
    rng: np.random.Generator,
) -> None:
    """Paint the class's shape, colour and motion on the frames where ``visible``."""
    dy, dx = _motion_offset(synth_class.motion, t, float(rng.uniform(2.0, 4.0)), float(rng.uniform(0, 2 * np.pi)))
    colour = np.asarray(synth_class.colour, dtype=np.float32)

    def mask_fn(ddy: np.ndarray, ddx: np.ndarray, r: float, _shape: str = synth_class.shape) -> np.ndarray:
        return _shape_mask(_shape, ddy, ddx, r)

    for index in np.flatnonzero(visible):
        cy = centre[0] + amplitude * dy[index]
        cx = centre[1] + amplitude * dx[index]
        _paint(frames[index], mask_fn, cy, cx, radius * scale[index], colour * brightness[index])


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
        visible, scale = _visual_track(source, t, config.seconds)
        if multi:
            assert sides is not None
            centre, amplitude, radius = (0.5 * size, sides[slot] * size), 0.1 * size, 0.11 * size
        else:
            centre, amplitude, radius = _single_layout(size, rng)
        brightness = 0.5 + 0.5 * scale if source.event_type == RHYTHMIC else np.ones_like(t)
        _draw_object(frames, classes[source.class_index], t, visible, scale, brightness, centre, amplitude, radius, rng)
    for distractor in spec.distractors:
        # Drawn where a single source would be: only its timing tells it from the event.
        centre, amplitude, radius = _single_layout(size, rng)
        ones = np.ones_like(t)
        visible = _within(t, distractor.seen)
        _draw_object(frames, classes[distractor.class_index], t, visible, ones, ones, centre, amplitude, radius, rng)
    return np.clip(frames, 0, 255).astype(np.uint8)
