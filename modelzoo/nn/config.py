"""Typed model and training configurations, and the small name registry used for backbones,
heads and models.

Two configs ship:

* ``paper``: the paper's setting (T=100 frames of 112x112 from a 10 s clip, MC3-18 video trunk,
  the Afouras et al. audio net with time strides 2 x 5 = 10 so 1000 log-mel frames give exactly
  T=100 steps, k=10, D=512).
* ``tiny`` (ours): the same pipeline, heads, losses and outputs on T=20 steps (2 fps over the
  same 10 s clip), 48x48 frames, a small 3D-conv trunk and a slim audio net (time strides
  5 x 10 = 50 = 1000 / 20), D=64, k=3. It trains on two CPU cores in minutes.

The audio input is always the full 10 s clip: 16 kHz, hop 160 -> 1000 log-mel frames, so one
time step covers ``frames_per_step = 1000 / T`` mel frames.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Generic, TypeVar

KINETICS_MEAN: tuple[float, float, float] = (0.43216, 0.394666, 0.37645)
KINETICS_STD: tuple[float, float, float] = (0.22803, 0.22145, 0.216989)

DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")

T_co = TypeVar("T_co")


class Registry(Generic[T_co]):
    """A name -> object mapping that refuses duplicate names and names the options on a miss."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T_co] = {}

    def register(self, name: str) -> Callable[[T_co], T_co]:
        def decorator(obj: T_co) -> T_co:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T_co) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj

    def __getitem__(self, name: str) -> T_co:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._entries))}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Everything that fixes the shapes of the model and its inputs.

    ``audio_time_strides`` are the time strides of the audio net's second and fifth pooling
    layers (see ``backbones.AfourasAudioNet``); their product must equal ``frames_per_step`` so
    that ``mel_frames`` log-mel frames map to exactly ``num_frames`` steps.
    """

    name: str
    num_frames: int  # T: video frames = time steps of both embeddings
    frame_size: int  # centre crop, square
    resize_short: int  # short side after resizing, before the crop
    video_backbone: str
    audio_backbone: str
    embed_dim: int  # D
    top_k: int  # k of the instant head
    audio_time_strides: tuple[int, int]
    sample_rate: int = 16000
    clip_seconds: float = 10.0
    n_mels: int = 80
    n_fft: int = 512
    win_length: int = 320
    hop_length: int = 160
    f_min: float = 0.0
    f_max: float = 8000.0
    video_mean: tuple[float, float, float] = KINETICS_MEAN
    video_std: tuple[float, float, float] = KINETICS_STD

    def __post_init__(self) -> None:
        for name in ("num_frames", "frame_size", "resize_short", "embed_dim", "top_k", "sample_rate", "hop_length"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.frame_size > self.resize_short:
            raise ValueError(f"frame_size {self.frame_size} exceeds resize_short {self.resize_short}")
        if self.top_k > self.num_frames:
            raise ValueError(f"top_k {self.top_k} exceeds num_frames {self.num_frames}")
        if self.num_samples % self.hop_length:
            raise ValueError(f"{self.num_samples} samples are not a whole number of hops of {self.hop_length}")
        if self.mel_frames % self.num_frames:
            raise ValueError(f"{self.mel_frames} log-mel frames do not split into {self.num_frames} steps")
        if math.prod(self.audio_time_strides) != self.frames_per_step:
            raise ValueError(
                f"audio time strides {self.audio_time_strides} multiply to {math.prod(self.audio_time_strides)}, "
                f"need {self.frames_per_step} (= {self.mel_frames} mel frames / {self.num_frames} steps)"
            )

    @property
    def num_samples(self) -> int:
        """Audio samples per clip (160000 for 10 s at 16 kHz)."""
        return round(self.sample_rate * self.clip_seconds)

    @property
    def mel_frames(self) -> int:
        """Log-mel frames per clip (1000: the centred STFT gives 1001, the last one is dropped)."""
        return self.num_samples // self.hop_length

    @property
    def frames_per_step(self) -> int:
        """Log-mel frames per time step (10 for ``paper``, 50 for ``tiny``)."""
        return self.mel_frames // self.num_frames

    @property
    def step_seconds(self) -> float:
        return self.clip_seconds / self.num_frames

    @property
    def fps(self) -> float:
        """Video frames sampled per second (T / 10 s)."""
        return self.num_frames / self.clip_seconds

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so a checkpoint holding it loads with ``weights_only=True``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How a model is trained: what ``train.fit`` needs besides the model config, the data and
    where to write. ``model_kind`` and ``num_classes`` fix the model built (checked against the
    checkpoint on resume); the model kind's name is checked by the model registry."""

    model_kind: str
    num_classes: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "cpu"
    num_workers: int = 0  # DataLoader worker processes; 0 decodes in the training process

    def __post_init__(self) -> None:
        if not self.model_kind:
            raise ValueError("model_kind must be given")
        for name in ("num_classes", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a non-negative number, got {self.weight_decay}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must not be negative, got {self.num_workers}")
        if not DEVICE_PATTERN.match(self.device):
            raise ValueError(f"device {self.device!r} is not one of cpu, cuda, cuda:<n>, mps")

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so a checkpoint holding it loads with ``weights_only=True``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        return cls(**_known_fields(cls, data))


def _known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as constructor arguments of the dataclass ``cls`` (lists back to tuples); an
    unknown field is an error, so a config written by another version is never half-read."""
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown config fields: {sorted(unknown)}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


CONFIGS: Registry[ModelConfig] = Registry("config")

CONFIGS.add(
    "paper",
    ModelConfig(
        name="paper",
        num_frames=100,
        frame_size=112,
        resize_short=128,
        video_backbone="mc3_18",
        audio_backbone="afouras",
        embed_dim=512,
        top_k=10,
        # pool2 halves time (1000 -> 500), pool5 divides it by 5 (500 -> 100): 2 * 5 = 10.
        audio_time_strides=(2, 5),
    ),
)

CONFIGS.add(
    "tiny",
    ModelConfig(
        name="tiny",
        num_frames=20,
        frame_size=48,
        resize_short=56,
        video_backbone="tiny3d",
        audio_backbone="afouras_tiny",
        embed_dim=64,
        top_k=3,
        # pool2: 1000 -> 200, pool5: 200 -> 20: 5 * 10 = 50 mel frames per step.
        audio_time_strides=(5, 10),
    ),
)


def get_config(name: str) -> ModelConfig:
    """The shipped config called ``name`` ("paper" or "tiny")."""
    return CONFIGS[name]
