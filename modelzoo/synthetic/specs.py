"""What a dataset is to hold: its configuration, the on-disk layout, and the plan of every
clip (classes, event types, moments, split), drawn before anything is rendered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelzoo.nn.labels import single_label
from modelzoo.synthetic.classes import (
    AUDIO_ONLY,
    EVENT_TYPES,
    INSTANT,
    MAX_CLASSES,
    MULTI_SOURCE,
    RHYTHMIC,
    VISUAL_ONLY,
)
from modelzoo.synthetic.timeline import quiet_windows

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
CLASSES_FILE = "classes.txt"
CLIPS_CSV = "clips.csv"
CLIPS_DIR = "clips"
# Beats fall 0.05 s into a 0.5 s window and the object shows from 0.05 s before to 0.4 s after:
# the frame a model samples at the centre of the onset's step (0.5 s steps in ``tiny``, 0.1 s in
# ``paper``) then shows the object, whatever the step grid.
BEAT_GRID = 0.5
BEAT_OFFSET = 0.05
BEAT_SHOWN = (-0.05, 0.4)


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
class Distractor:
    """Another class in a single-source clip, shown or heard in a way the clip's event type rules
    out as its event (see the package doc): ``seen`` and ``heard`` are (start, end) windows in
    seconds; its sound always rises softly, so no audio onset marks it.
    """

    class_index: int
    seen: tuple[tuple[float, float], ...] = ()
    heard: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class ClipSpec:
    clip_id: str
    number: int
    sources: tuple[Source, ...]
    label: int
    split: str
    seed: int
    has_audio: bool
    distractors: tuple[Distractor, ...] = ()

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
    # Distractors (see the package doc) make each event type separable only by its own head's
    # mechanism: the event-type bench turns them on; the demo keeps them off, so its clips stay
    # easy to rate and its small model learns them in a few epochs.
    distractors: bool = False

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


def clip_rng(seed: int, number: int) -> np.random.Generator:
    """The generator of one clip: seeded by (seed, number) alone, so order and workers don't matter."""
    return np.random.default_rng(np.random.SeedSequence([seed, number]))


def _timed_source(class_index: int, event_type: str, rng: np.random.Generator, config: SyntheticConfig) -> Source:
    if event_type == INSTANT:
        start = float(rng.uniform(0.5, config.seconds - 0.5 - config.burst_seconds))
        return Source(class_index, event_type, window=(round(start, 3), round(start + config.burst_seconds, 3)))
    if event_type == RHYTHMIC:
        # Sparse beats (every 1.5 to 3 s) so that onset steps are a few of the clip's steps.
        period = BEAT_GRID * int(rng.integers(3, 7))
        first = BEAT_GRID * (1 + int(rng.integers(0, round(period / BEAT_GRID)))) + BEAT_OFFSET
        beats = np.arange(first, config.seconds - 2 * BEAT_GRID, period)
        return Source(class_index, event_type, beats=tuple(round(float(b), 3) for b in beats))
    return Source(class_index, event_type)


def beat_windows(beats: tuple[float, ...], seconds: float) -> tuple[tuple[float, float], ...]:
    """When a rhythmic object is on screen: around each beat (``BEAT_SHOWN``)."""
    return tuple((round(b + BEAT_SHOWN[0], 3), round(min(b + BEAT_SHOWN[1], seconds), 3)) for b in beats)


def _distractor(
    source: Source, has_audio: bool, rng: np.random.Generator, config: SyntheticConfig
) -> Distractor | None:
    """The other class that keeps a single-source clip's event hidden from the continuous mean.

    instant: seen at one moment and heard at another (never in sync), each as long as the burst;
    rhythmic: seen and heard softly half-way between the beats (no onset); visual-only: heard
    throughout (an off-screen sound; clips without a track have none); audio-only: seen
    throughout (the picture shows another class); continuous: none.
    """
    if not config.distractors or (source.event_type == VISUAL_ONLY and not has_audio):
        return None
    if source.event_type not in {INSTANT, RHYTHMIC, VISUAL_ONLY, AUDIO_ONLY}:
        return None
    other = (source.class_index + 1 + int(rng.integers(config.num_classes - 1))) % config.num_classes
    whole = ((0.0, config.seconds),)
    if source.event_type == VISUAL_ONLY:
        return Distractor(other, heard=whole)
    if source.event_type == AUDIO_ONLY:
        return Distractor(other, seen=whole)
    if source.event_type == INSTANT:
        assert source.window is not None
        windows = quiet_windows(rng, [source.window], config.seconds, config.burst_seconds, 2)
        rounded = [(round(a, 3), round(b, 3)) for a, b in windows]
        return Distractor(other, seen=tuple(rounded[:1]), heard=tuple(rounded[1:2]))
    period = source.beats[1] - source.beats[0] if len(source.beats) > 1 else 2 * BEAT_GRID
    half = BEAT_GRID * max(1, int(period / (2 * BEAT_GRID)))
    off_beats = tuple(b + half for b in source.beats if b + half + BEAT_SHOWN[1] <= config.seconds)
    shown = beat_windows(off_beats, config.seconds)
    return Distractor(other, seen=shown, heard=shown)


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
    plans: list[tuple[tuple[Source, ...], bool, tuple[Distractor, ...]]] = []
    groups: dict[tuple, list[int]] = {}
    for number in range(config.num_clips):
        rng = clip_rng(config.seed, number)
        distractors: tuple[Distractor, ...] = ()
        if number < num_single:
            class_index = number % config.num_classes
            event_type = EVENT_TYPES[(number // config.num_classes + class_index) % len(EVENT_TYPES)]
            sources: tuple[Source, ...] = (_timed_source(class_index, event_type, rng, config),)
            # Half of the visual-only clips carry no audio track at all, half unrelated noise.
            has_audio = event_type != VISUAL_ONLY or bool(rng.random() < 0.5)
            distractor = _distractor(sources[0], has_audio, rng, config)
            distractors = (distractor,) if distractor else ()
            key: tuple = (class_index, event_type)
        else:
            first, second = (int(c) for c in rng.choice(config.num_classes, size=2, replace=False))
            type_a, type_b = (EVENT_TYPES[int(i)] for i in rng.choice(len(EVENT_TYPES), size=2, replace=False))
            sources = (_timed_source(first, type_a, rng, config), _timed_source(second, type_b, rng, config))
            has_audio = True
            key = (MULTI_SOURCE, type_a, type_b)
        plans.append((sources, has_audio, distractors))
        groups.setdefault(key, []).append(number)
    splits = _assign_splits(groups, config, np.random.default_rng(np.random.SeedSequence([config.seed, 1 << 30])))
    specs = []
    for number, (sources, has_audio, distractors) in enumerate(plans):
        clip_id = f"{config.clip_prefix}{config.seed}_{number:05d}"
        specs.append(
            ClipSpec(
                clip_id=clip_id,
                number=number,
                sources=sources,
                # The training label: the project's one LLP rule, as the product would pick it.
                label=single_label(clip_id=clip_id, label_indices=[source.class_index for source in sources]),
                split=splits[number],
                seed=config.seed,
                has_audio=has_audio,
                distractors=distractors,
            )
        )
    return tuple(specs)
