"""Clip features cached on disk, dataset items and batches."""

import os

import pytest
import torch

from modelzoo.nn import data
from modelzoo.nn.config import get_config
from modelzoo.nn.data import ClipTensorDataset, cache_key, collate_clips, featurize, make_loader
from modelzoo.nn.media import MediaError

from .conftest import clicks, tone

TINY = get_config("tiny")


def test_featurize_decodes_once_then_reads_the_cache(clip_writer, tmp_path, monkeypatch):
    path = clip_writer(audio=tone(440) + clicks([2.1, 6.1]))
    cache = tmp_path / "cache"
    first = featurize(path, TINY, cache_dir=cache)
    assert len(list(cache.glob("*.pt"))) == 1
    assert first.onset_steps == (4, 12)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(data, "decode_clip_raw", no_decoding)
    second = featurize(path, TINY, cache_dir=cache)
    assert torch.equal(first.video, second.video)
    assert torch.equal(first.audio, second.audio)
    assert second.onset_steps == first.onset_steps and second.flags == first.flags


def test_cache_key_changes_with_mtime_and_config(clip_writer):
    path = clip_writer()
    key = cache_key(path, TINY)
    assert cache_key(path, get_config("paper")) != key
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache_key(path, TINY) != key


def test_damaged_cache_entry_is_recomputed(clip_writer, tmp_path):
    path = clip_writer(audio=tone(440))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"{cache_key(path, TINY)}.pt").write_bytes(b"not a tensor file")
    features = featurize(path, TINY, cache_dir=cache)
    assert features.video.shape == (3, 20, 48, 48)


def test_missing_file_is_a_media_error_even_with_a_cache(tmp_path):
    with pytest.raises(MediaError):
        featurize(tmp_path / "absent.mp4", TINY, cache_dir=tmp_path / "cache")


def test_dataset_marks_failed_clips_and_collate_keeps_them_out(clip_writer, tmp_path):
    good = clip_writer(audio=tone(440) + clicks([1.1]))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage")
    dataset = ClipTensorDataset([(str(good), 2), (str(bad), 1), (str(good), None)], TINY)
    samples = [dataset[i] for i in range(3)]
    assert samples[1].error and samples[1].video is None
    batch = collate_clips(samples)
    assert batch.indices == [0, 2]
    assert batch.video.shape == (2, 3, 20, 48, 48) and batch.video.dtype == torch.uint8
    assert batch.audio.shape == (2, 160000)
    assert batch.labels.tolist() == [2, -1]
    assert batch.onset_mask[0].nonzero().flatten().tolist() == [2]
    assert batch.failed[0][:2] == (1, str(bad))
    video, mel, mask = batch.model_inputs(TINY, "cpu")
    assert video.dtype == torch.float32 and video.shape == (2, 3, 20, 48, 48)
    assert mel.shape == (2, 1, 80, 1000)
    assert mask.dtype == torch.bool


def test_all_failed_batch_is_empty(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage")
    batch = collate_clips([ClipTensorDataset([(str(bad), 0)], TINY)[0]])
    assert len(batch) == 0 and len(batch.failed) == 1


def test_loader_yields_batches_in_order(clip_writer):
    paths = [str(clip_writer(audio=tone(200 * (i + 1)))) for i in range(3)]
    loader = make_loader(
        ClipTensorDataset([(p, i) for i, p in enumerate(paths)], TINY),
        batch_size=2,
        shuffle=False,
        num_workers=0,
        device="cpu",
    )
    batches = list(loader)
    assert [b.indices for b in batches] == [[0, 1], [2]]


@pytest.mark.timeout(120)
def test_worker_processes_decode_after_torchvision_is_imported(clip_writer):
    # torchvision installs PyAV's Python log callback; threaded FFmpeg decoding could then deadlock
    import torchvision  # noqa: F401

    paths = [str(clip_writer(audio=tone(300 + 100 * i))) for i in range(4)]
    loader = make_loader(
        ClipTensorDataset([(p, None) for p in paths], TINY), batch_size=2, shuffle=False, num_workers=2, device="cpu"
    )
    assert sorted(i for batch in loader for i in batch.indices) == [0, 1, 2, 3]
