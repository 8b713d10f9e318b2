"""The sound of a clip: each class's tone (pitch and timbre) under its event type's envelope, the
distractors' tones rising softly, over a faint noise floor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modelzoo.synthetic.classes import INSTANT, RHYTHMIC, VISUAL_ONLY, SynthClass
from modelzoo.synthetic.specs import ClipSpec, Source, SyntheticConfig
from modelzoo.synthetic.timeline import beat_pulse

LEVEL = 0.35  # peak of every tone, events and distractors alike
# A distractor's tone rises from -40 dB to full level at a constant rate in dB (about 1.3 dB per
# 10 ms hop), far below the sharp attacks of the events: librosa's onset detector, which peaks on
# jumps of log power, does not fire on it.
SOFT_RISE_SECONDS = 0.3
SOFT_RISE_DB = 40.0
SOFT_FALL_SECONDS = 0.1


def _tone(synth_class: SynthClass, t: np.ndarray, nyquist: float) -> np.ndarray:
    """The class's timbre at its pitch over times t (seconds), peak about 1."""
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
        return np.maximum(attack, beat_pulse(t, [b + 0.005 for b in source.beats], 0.12))
    return _ramp_window(t, 0.0, seconds, 0.05)


def _soft_window(t: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 outside [start, end); inside, a dB-linear rise, a hold and a linear fall."""
    rise = np.clip((t - start) / SOFT_RISE_SECONDS, 0.0, 1.0)
    level = 10.0 ** (-SOFT_RISE_DB * (1.0 - rise) / 20.0)
    fall = np.clip((end - t) / SOFT_FALL_SECONDS, 0.0, 1.0)
    return np.where((t >= start) & (t < end), level * fall, 0.0)


def render_audio(
    spec: ClipSpec, classes: Sequence[SynthClass], config: SyntheticConfig, rng: np.random.Generator
) -> np.ndarray | None:
    """Mono waveform (S,) float32 in [-1, 1] with S = sample_rate * seconds, or None (no track)."""
    if not spec.has_audio:
        return None
    t = np.arange(round(config.sample_rate * config.seconds)) / config.sample_rate
    num_samples = int(t.shape[0])
    wave: np.ndarray = 0.004 * rng.standard_normal(num_samples)
    nyquist = config.sample_rate / 2
    for source in spec.sources:
        envelope = _audio_envelope(source, t, config.seconds)
        if envelope.any():
            wave += LEVEL * envelope * _tone(classes[source.class_index], t, nyquist)
    for distractor in spec.distractors:
        if distractor.heard:
            envelope = np.maximum.reduce([_soft_window(t, start, end) for start, end in distractor.heard])
            wave += LEVEL * envelope * _tone(classes[distractor.class_index], t, nyquist)
    peak = float(np.max(np.abs(wave)))
    if peak > 0.95:
        wave *= 0.95 / peak
    return wave.astype(np.float32)
