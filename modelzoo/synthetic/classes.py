"""The event types a clip is built to show, and the classes: each pairs a visual signature
(shape, colour, motion) with a sound signature (pitch, timbre), and either alone identifies it."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

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
