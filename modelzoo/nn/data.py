"""From media files to model inputs: decode + onsets per clip (cached on disk), then batches.

Per clip (in DataLoader workers): ``featurize`` decodes the file to uint8 frames (3, T, H, W)
and 16 kHz mono audio (S,), and finds the onset steps. The result is cached on disk, keyed by
the file's absolute path, mtime, size and the config's name and input fields, so epochs after
the first do not decode again. Per batch (on the training/inference device):
``ClipBatch.model_inputs`` normalises the frames and computes the log-mel spectrogram batched,
on the GPU when there is one.

A clip that fails to decode gives a sample with ``error`` set; ``collate_clips`` keeps it out of
the tensors and lists it in ``ClipBatch.failed``, so one bad file never stops a run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from modelzoo.nn.config import ModelConfig
from modelzoo.nn.features import log_mel, onset_mask, onset_steps, warm_onset_detector
from modelzoo.nn.media import MediaError, decode_clip_raw, normalise_video

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
_CACHE_FIELDS = ("num_frames", "frame_size", "resize_short", "sample_rate", "clip_seconds", "hop_length")


@dataclass(frozen=True)
class ClipFeatures:
    """What one file gives, before batching.

    video: (3, T, H, W) uint8 RGB.  audio: (S,) float32.  onset_steps: sorted steps in [0, T).
    """

    video: torch.Tensor
    audio: torch.Tensor
    onset_steps: tuple[int, ...]
    flags: frozenset[str]


def cache_key(path: str | Path, config: ModelConfig) -> str:
    """Hex digest of the path, its mtime and size, and the config fields the features depend on."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    config_part = "|".join(f"{name}={getattr(config, name)}" for name in _CACHE_FIELDS)
    raw = f"v{CACHE_VERSION}|{resolved}|{stat.st_mtime_ns}|{stat.st_size}|{config.name}|{config_part}"
    return hashlib.sha256(raw.encode()).hexdigest()


def featurize(path: str | Path, config: ModelConfig, *, cache_dir: Path | None = None) -> ClipFeatures:
    """Decoded frames, audio and onset steps of ``path``, from ``cache_dir`` when cached there.

    Raises ``MediaError`` for a file that cannot be decoded (including a missing file).
    """
    try:
        key = cache_key(path, config) if cache_dir is not None else ""
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc}") from exc
    if cache_dir is not None:
        cached = _cache_read(cache_dir / f"{key}.pt")
        if cached is not None:
            return cached
    decoded = decode_clip_raw(path, config)
    steps = tuple(onset_steps(decoded.audio.numpy(), config))
    result = ClipFeatures(video=decoded.video, audio=decoded.audio, onset_steps=steps, flags=decoded.flags)
    if cache_dir is not None:
        _cache_write(cache_dir / f"{key}.pt", result)
    return result


def _cache_read(path: Path) -> ClipFeatures | None:
    if not path.exists():
        return None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        return ClipFeatures(
            video=data["video"],
            audio=data["audio"],
            onset_steps=tuple(int(s) for s in data["onset_steps"]),
            flags=frozenset(data["flags"]),
        )
    except Exception as exc:  # a damaged cache entry is recomputed, never fatal
        logger.warning("ignoring unreadable feature cache %s: %s", path, exc)
        return None


def _cache_write(path: Path, features: ClipFeatures) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "video": features.video,
        "audio": features.audio,
        "onset_steps": list(features.onset_steps),
        "flags": sorted(features.flags),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class ClipSample:
    """One dataset item. ``error`` is set (and the tensors are None) when the file failed."""

    index: int
    path: str
    label: int | None
    video: torch.Tensor | None = None
    audio: torch.Tensor | None = None
    onset_mask: torch.Tensor | None = None
    onset_steps: tuple[int, ...] = ()
    flags: frozenset[str] = frozenset()
    error: str | None = None


class ClipTensorDataset(Dataset[ClipSample]):
    """Items (media_path, label_index or None) -> ``ClipSample`` with uint8 video, audio, onset mask."""

    def __init__(
        self, items: Sequence[tuple[str, int | None]], config: ModelConfig, *, cache_dir: Path | None = None
    ) -> None:
        self.items = [(str(path), label) for path, label in items]
        self.config = config
        self.cache_dir = cache_dir

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> ClipSample:
        path, label = self.items[index]
        try:
            features = featurize(path, self.config, cache_dir=self.cache_dir)
        except MediaError as exc:
            logger.warning("skipping clip %s: %s", path, exc)
            return ClipSample(index=index, path=path, label=label, error=str(exc))
        return ClipSample(
            index=index,
            path=path,
            label=label,
            video=features.video,
            audio=features.audio,
            onset_mask=onset_mask(features.onset_steps, self.config.num_frames),
            onset_steps=features.onset_steps,
            flags=features.flags,
        )


@dataclass
class ClipBatch:
    """A batch of the clips that decoded.

    video: (B, 3, T, H, W) uint8.  audio: (B, S) float32.  onset_mask: (B, T) bool.
    labels: (B,) long, -1 where unknown.  failed: (dataset index, path, error) of dropped clips.
    """

    indices: list[int]
    paths: list[str]
    video: torch.Tensor
    audio: torch.Tensor
    onset_mask: torch.Tensor
    labels: torch.Tensor
    onset_steps: list[tuple[int, ...]]
    flags: list[frozenset[str]]
    failed: list[tuple[int, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indices)

    def pin_memory(self) -> ClipBatch:
        self.video = self.video.pin_memory()
        self.audio = self.audio.pin_memory()
        self.onset_mask = self.onset_mask.pin_memory()
        self.labels = self.labels.pin_memory()
        return self

    def model_inputs(
        self, config: ModelConfig, device: torch.device | str, *, channels_last: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """On ``device``: video (B, 3, T, H, W) float normalised, log-mel (B, 1, F, 10T), onset mask (B, T)."""
        device = torch.device(device)
        non_blocking = device.type == "cuda"
        video = normalise_video(self.video.to(device, non_blocking=non_blocking), config)
        if channels_last:
            video = video.contiguous(memory_format=torch.channels_last_3d)
        mel = log_mel(self.audio.to(device, non_blocking=non_blocking), config)
        return video, mel, self.onset_mask.to(device, non_blocking=non_blocking)


def collate_clips(samples: Sequence[ClipSample]) -> ClipBatch:
    """Stack the decoded samples; failed ones go to ``failed``. Works for an all-failed batch."""
    good = [s for s in samples if s.error is None]
    failed = [(s.index, s.path, s.error or "") for s in samples if s.error is not None]
    if good:
        video = torch.stack([s.video for s in good])  # type: ignore[misc]
        audio = torch.stack([s.audio for s in good])  # type: ignore[misc]
        mask = torch.stack([s.onset_mask for s in good])  # type: ignore[misc]
    else:
        video = torch.zeros(0, dtype=torch.uint8)
        audio = torch.zeros(0)
        mask = torch.zeros(0, dtype=torch.bool)
    labels = torch.tensor([-1 if s.label is None else s.label for s in good], dtype=torch.long)
    return ClipBatch(
        indices=[s.index for s in good],
        paths=[s.path for s in good],
        video=video,
        audio=audio,
        onset_mask=mask,
        labels=labels,
        onset_steps=[s.onset_steps for s in good],
        flags=[s.flags for s in good],
        failed=failed,
    )


def _worker_init(_worker_id: int) -> None:
    warm_onset_detector()


def make_loader(
    dataset: ClipTensorDataset,
    *,
    batch_size: int,
    shuffle: bool,
    num_workers: int,
    device: torch.device | str,
    seed: int = 0,
) -> DataLoader[ClipSample]:
    """A DataLoader of ``ClipBatch``; workers compile librosa's onset kernels once each.

    With ``num_workers=0`` the kernels are compiled in this process before the first batch.
    """
    if num_workers == 0:
        warm_onset_detector()
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        collate_fn=collate_clips,
        worker_init_fn=_worker_init if num_workers else None,
        pin_memory=torch.device(device).type == "cuda",
        persistent_workers=False,
        prefetch_factor=2 if num_workers else None,
        generator=generator,
    )
