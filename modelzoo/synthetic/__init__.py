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
    Source,
    SyntheticConfig,
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
    "Source",
    "SynthClass",
    "SyntheticConfig",
    "SyntheticDataset",
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
