"""The synthetic event-type clips: real, decodable MP4s whose truth is known by construction."""

import csv
import hashlib
import json

import av
import numpy as np
import pytest

from modelzoo import synthetic

# The event-type bench's design, distractors on; the demo's plain clips are checked below.
CONFIG = synthetic.SyntheticConfig(num_clips=12, num_classes=3, seed=7, multi_fraction=0.25, distractors=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic.generate_dataset(tmp_path_factory.mktemp("synthetic"), CONFIG, workers=1)


def _decode(path):
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.stack(frames), None, None
        rate = container.streams.audio[0].rate
        audio = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])
    return np.stack(frames), audio, rate


def _digest(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "clips").glob("*.mp4"))}


def _colour_pixels(frames, colour):
    """Per frame, pixels within a small distance of the class colour."""
    distance = np.abs(frames.astype(int) - np.asarray(colour)).sum(axis=-1)
    return (distance < 40).sum(axis=(1, 2))


def _band_energy(audio, rate, pitch, seconds):
    """Energy near ``pitch`` in consecutive 0.1 s windows."""
    hop = rate // 10
    windows = audio[: hop * int(seconds * 10)].reshape(-1, hop)
    spectrum = np.abs(np.fft.rfft(windows * np.hanning(hop), axis=1))
    freqs = np.fft.rfftfreq(hop, 1 / rate)
    band = (freqs > pitch * 0.95) & (freqs < pitch * 1.05)
    return spectrum[:, band].sum(axis=1)


def test_every_clip_decodes_as_ten_seconds_of_h264_and_aac(dataset):
    for clip in dataset.clips:
        path = dataset.clip_path(clip)
        with av.open(str(path)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert abs(container.duration / 1e6 - CONFIG.seconds) < 0.1
            if clip.has_audio:
                assert container.streams.audio[0].codec_context.name == "aac"
        frames, audio, rate = _decode(path)
        assert frames.shape == (CONFIG.fps * 10, CONFIG.size, CONFIG.size, 3)
        if clip.has_audio:
            assert rate == CONFIG.sample_rate
            assert abs(audio.shape[0] - CONFIG.sample_rate * 10) < 2048
        else:
            assert audio is None


def test_audio_is_missing_only_for_some_visual_only_clips():
    specs = synthetic.plan_clips(synthetic.SyntheticConfig(num_clips=60, num_classes=4, seed=3))
    silent = [spec for spec in specs if not spec.has_audio]
    assert silent, "some visual-only clips carry no audio track"
    assert all(spec.event_type == synthetic.VISUAL_ONLY for spec in silent)
    assert any(spec.has_audio for spec in specs if spec.event_type == synthetic.VISUAL_ONLY)


def test_same_seed_writes_identical_files_whatever_the_worker_count(dataset, tmp_path):
    again = synthetic.generate_dataset(tmp_path / "again", CONFIG, workers=2)
    assert _digest(again.root) == _digest(dataset.root)
    assert again.manifest_csv.read_text() == dataset.manifest_csv.read_text()


def test_another_seed_gives_other_clips():
    first = synthetic.plan_clips(CONFIG)
    other = synthetic.plan_clips(synthetic.SyntheticConfig(num_clips=12, num_classes=3, seed=8, multi_fraction=0.25))
    assert [c.sources for c in first] != [c.sources for c in other]


def test_manifest_json_and_csv_agree_with_the_files(dataset):
    manifest = json.loads(dataset.manifest_json.read_text())
    with open(dataset.manifest_csv, newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [row["clip_id"] for row in manifest["clips"]] == [row["clip_id"] for row in csv_rows]
    assert len(manifest["clips"]) == CONFIG.num_clips
    for row, csv_row in zip(manifest["clips"], csv_rows, strict=True):
        assert (dataset.root / row["path"]).is_file()
        assert row["label"] in row["labels"]
        assert all(0 <= label < CONFIG.num_classes for label in row["labels"])
        assert row["split"] in {"train", "val", "test"}
        assert csv_row["path"] == row["path"]
        assert int(csv_row["label"]) == row["label"]
        assert csv_row["labels"] == ";".join(str(i) for i in row["labels"])
        assert csv_row["event_type"] == row["event_type"]
        assert csv_row["split"] == row["split"]
        assert bool(int(csv_row["has_audio"])) == row["has_audio"]
        if row["event_type"] == synthetic.MULTI_SOURCE:
            assert len(set(row["labels"])) == 2
            assert len(set(row["event_types"])) == 2
        else:
            assert row["labels"] == [row["label"]]
            assert row["event_types"] == [row["event_type"]]
    assert {row["event_type"] for row in manifest["clips"]} == set(synthetic.EVENT_TYPES) | {synthetic.MULTI_SOURCE}


def test_class_list_and_generic_clips_csv_name_the_same_classes(dataset):
    names = dataset.classes_file.read_text().splitlines()
    assert names == [c.name for c in dataset.classes]
    assert len(set(names)) == CONFIG.num_classes
    with open(dataset.clips_csv, newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == list(synthetic.GENERIC_CSV_HEADER)
        rows = list(reader)
    by_id = {clip.clip_id: clip for clip in dataset.clips}
    for clip_id, labels, youtube_id, start, split, media_path in rows:
        clip = by_id[clip_id]
        assert labels.split(";") == [names[i] for i in clip.labels]
        assert (youtube_id, start, split, media_path) == ("", "", clip.split, clip.relpath)


def test_event_types_are_seen_and_heard_where_constructed(dataset):
    """The class's colour is on screen and its pitch on the track exactly when the type says."""
    for clip in dataset.clips:
        if clip.event_type == synthetic.MULTI_SOURCE:
            continue
        synth_class = dataset.classes[clip.label]
        frames, audio, rate = _decode(dataset.clip_path(clip))
        coloured = _colour_pixels(frames, synth_class.colour)
        times = np.arange(frames.shape[0]) / CONFIG.fps
        source = clip.sources[0]
        if clip.event_type == synthetic.AUDIO_ONLY:
            assert coloured.max() == 0
        elif clip.event_type == synthetic.INSTANT:
            start, end = source.window
            inside = (times > start + 0.1) & (times < end - 0.1)
            outside = (times < start - 0.1) | (times > end + 0.1)
            assert coloured[inside].min() > 20 and coloured[outside].max() == 0
        elif clip.event_type == synthetic.RHYTHMIC:  # on screen only around the beats
            shown = np.zeros_like(times, dtype=bool)
            margin = np.zeros_like(times, dtype=bool)
            for start, end in synthetic.beat_windows(source.beats, CONFIG.seconds):
                shown |= (times > start + 0.05) & (times < start + 0.12)  # bright just after the beat
                margin |= (times > start - 0.05) & (times < end + 0.05)
            assert coloured[shown].min() > 20 and coloured[~margin].max() == 0
        else:
            assert coloured.min() > 20
        if audio is None:
            continue
        energy = _band_energy(audio, rate, synth_class.pitch_hz, CONFIG.seconds)
        loud = energy > 0.2 * energy.max()
        if clip.event_type in {synthetic.CONTINUOUS, synthetic.AUDIO_ONLY}:
            assert loud[5:-5].all()
        elif clip.event_type == synthetic.INSTANT:
            start, end = source.window
            steps = np.arange(len(energy)) / 10
            assert loud[(steps > start + 0.1) & (steps < end - 0.2)].all()
            assert not loud[(steps < start - 0.2) | (steps > end + 0.2)].any()
        elif clip.event_type == synthetic.VISUAL_ONLY:
            # Silent, or another class's sound: never the class's tone.
            tone = 0.35 * np.sin(2 * np.pi * synth_class.pitch_hz * np.arange(len(audio)) / rate)
            assert np.median(energy) < 0.05 * _band_energy(tone, rate, synth_class.pitch_hz, CONFIG.seconds).max()


def test_onsets_mark_the_rhythmic_beats_and_not_the_soft_distractor(dataset):
    """librosa's onset detector (the onset head's input) fires on the beats, not on the other
    class that swells softly between them (at most one stray step); step 0 may carry the
    start of the track."""
    from modelzoo.nn.config import get_config
    from modelzoo.nn.features import onset_steps

    tiny = get_config("tiny")
    rhythmic = [c for c in dataset.clips if c.event_type == synthetic.RHYTHMIC]
    assert rhythmic and all(c.distractors for c in rhythmic)
    for clip in rhythmic:
        _, audio, rate = _decode(dataset.clip_path(clip))
        found = set(onset_steps(audio[: rate * 10].astype(np.float32), tiny)) - {0}
        beats = {int(b / tiny.step_seconds) for b in clip.sources[0].beats}
        assert beats <= found and len(found - beats) <= 1  # a swell may rarely still register


def test_distractors_hide_the_event_from_a_plain_average():
    """Every single-source type but continuous gets another class whose timing rules it out."""
    config = synthetic.SyntheticConfig(num_clips=40, num_classes=4, seed=2, multi_fraction=0.0, distractors=True)
    for spec in synthetic.plan_clips(config):
        others = {d.class_index for d in spec.distractors}
        assert spec.label not in others
        if spec.event_type == synthetic.CONTINUOUS or not spec.has_audio:
            assert not spec.distractors
        elif spec.event_type == synthetic.INSTANT:
            (distractor,) = spec.distractors
            (seen,), (heard,) = distractor.seen, distractor.heard
            burst = spec.sources[0].window
            for a, b in ((seen, heard), (seen, burst), (heard, burst)):
                assert a[1] < b[0] or b[1] < a[0]  # never in sync
        elif spec.event_type == synthetic.AUDIO_ONLY:
            assert spec.distractors[0].seen == ((0.0, 10.0),) and not spec.distractors[0].heard
        elif spec.event_type == synthetic.VISUAL_ONLY:
            assert spec.distractors[0].heard == ((0.0, 10.0),) and not spec.distractors[0].seen


def test_plain_clips_have_no_distractors_by_default():
    """The demo's clips: each event type alone, so raters and a small model see it plainly."""
    specs = synthetic.plan_clips(synthetic.SyntheticConfig(num_clips=40, num_classes=4, seed=2, multi_fraction=0.0))
    assert {spec.event_type for spec in specs} == set(synthetic.EVENT_TYPES)
    assert not any(spec.distractors for spec in specs)


def test_multi_source_training_label_follows_the_one_llp_rule(dataset):
    from modelzoo.nn.labels import single_label

    for clip in dataset.clips:
        assert clip.label == single_label(clip_id=clip.clip_id, label_indices=clip.labels)


@pytest.mark.parametrize(
    "overrides",
    [
        {"num_clips": 0},
        {"num_classes": 1},
        {"num_classes": synthetic.MAX_CLASSES + 1},
        {"multi_fraction": 1.0},
        {"size": 95},
        {"splits": ()},
    ],
)
def test_bad_configuration_is_refused_with_a_clear_error(overrides):
    with pytest.raises(ValueError):
        synthetic.SyntheticConfig(**overrides)
