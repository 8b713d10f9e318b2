"""Synthetic audio-visual clips whose event type is known by construction.

Real VGGSound media cannot be downloaded here, so tests, the demo and the fidelity bench
use real MP4 files (H.264 + AAC through PyAV) drawn with numpy. Each class pairs a visual
signature (shape, colour, motion) with a sound signature (pitch, timbre); both alone
identify the class. A clip shows one event type:

- ``continuous``: the object is seen and heard throughout (the continuous head's mean sees it);
- ``instant``: one short burst (about a second) seen and heard together; another class is
  seen once and heard once at other moments, never in sync. The plain mean holds both
  classes alike; only the audio-visual correspondence S[t] = z^V_t . z^A_t (Eq. 2) tells
  the event from the distractor;
- ``rhythmic``: sparse beats (every 1.5 to 3 s) with a sharp sound attack and the object on
  screen only around each beat; another class is seen and heard half-way between beats,
  its sound rising softly so no onset marks it. Only pooling at audio onsets (Eq. 3) sees
  the event alone;
- ``visual-only``: seen throughout; no audio track, or another class's sound throughout
  (off screen): the picture alone (the visual head) names it;
- ``audio-only``: heard throughout; the picture shows another class throughout: the sound
  alone (the audio head) names it.

The distractors are opt-in (``SyntheticConfig(distractors=True)``, the event-type bench's
design); without them (the demo's default) each clip shows its event type alone.
A continuous-pooling classifier cannot tell the event from these distractors, since it
averages concat(z^V, z^A) over time and the two trunks never meet before pooling; each
event-specific head's mechanism can. The distractors are listed in the manifest; the truth
(``labels``) is the event alone.

Multi-source clips mix two classes of different event types: the manifest gives both
labels, and one of them as the training label (the single-label restriction of LLP).

Everything is seeded: the same configuration writes byte-identical files.

classes (event types, class signatures) -> specs (config, layout, clip plans) -> drawing and
audio (numpy frames and waveforms) -> writer (MP4) -> manifest -> generate (the dataset).
A data generator, not model code: it imports neither torch nor Django.
"""

from modelzoo.synthetic.audio import render_audio
from modelzoo.synthetic.classes import (
    AUDIO_ONLY,
    CONTINUOUS,
    EVENT_TYPE_HEAD,
    EVENT_TYPES,
    INSTANT,
    MAX_CLASSES,
    MAX_PITCH_HZ,
    MIN_PITCH_HZ,
    MOTIONS,
    MULTI_SOURCE,
    RHYTHMIC,
    SHAPES,
    TIMBRES,
    VISUAL_ONLY,
    SynthClass,
    make_classes,
)
from modelzoo.synthetic.drawing import render_video
from modelzoo.synthetic.generate import SyntheticDataset, generate_dataset, write_clip
from modelzoo.synthetic.manifest import GENERIC_CSV_HEADER, MANIFEST_CSV_HEADER, load_manifest, write_manifests
from modelzoo.synthetic.specs import (
    CLASSES_FILE,
    CLIPS_CSV,
    CLIPS_DIR,
    MANIFEST_CSV,
    MANIFEST_JSON,
    ClipSpec,
    Distractor,
    Source,
    SyntheticConfig,
    beat_windows,
    plan_clips,
)
from modelzoo.synthetic.writer import encode_mp4

__all__ = [
    "AUDIO_ONLY",
    "CLASSES_FILE",
    "CLIPS_CSV",
    "CLIPS_DIR",
    "CONTINUOUS",
    "EVENT_TYPES",
    "EVENT_TYPE_HEAD",
    "GENERIC_CSV_HEADER",
    "INSTANT",
    "MANIFEST_CSV",
    "MANIFEST_CSV_HEADER",
    "MANIFEST_JSON",
    "MAX_CLASSES",
    "MAX_PITCH_HZ",
    "MIN_PITCH_HZ",
    "MOTIONS",
    "MULTI_SOURCE",
    "RHYTHMIC",
    "SHAPES",
    "TIMBRES",
    "VISUAL_ONLY",
    "ClipSpec",
    "Distractor",
    "Source",
    "SynthClass",
    "SyntheticConfig",
    "SyntheticDataset",
    "beat_windows",
    "encode_mp4",
    "generate_dataset",
    "load_manifest",
    "make_classes",
    "plan_clips",
    "render_audio",
    "render_video",
    "write_clip",
    "write_manifests",
]
