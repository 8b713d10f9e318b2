"""The event-head model, the three baselines, the multi-head loss and the decisions on top.

Every model has the same call: ``forward(video, mel, onset_mask) -> {name: logits (B, C)}``,
with video (B, 3, T, H, W) normalised, mel (B, 1, n_mels, 10T), onset_mask (B, T) bool. The
event-head model answers the five heads of ``HEAD_NAMES``; a baseline answers one key equal to
its kind. ``forward_features`` (the trunks) is separate from ``classify`` (the heads).

Decisions (per clip, on softmax probabilities of the heads, in ``HEAD_NAMES`` order):

* vote: the label predicted (argmax) by more heads than any other label; when the top count is
  shared by two or more labels (a tie, e.g. 2-2-1, or all five differ) the label of the single
  most confident head (highest max-softmax) wins; equal confidences go to the earlier head.
* union: the distinct argmax labels, ordered by their best head probability (highest first,
  then lower class index).
* event type of a clip with label y: the head with the highest softmax probability for y;
  equal probabilities go to the earlier head.
* localisation: alpha_t = V_t . z^A_t for the video map V (B, D, T, h, w) -> (B, T, h, w).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from modelzoo.nn.backbones import build_audio_backbone, build_video_backbone
from modelzoo.nn.config import ModelConfig, Registry
from modelzoo.nn.heads import EventHead, build_head

HEAD_NAMES: tuple[str, ...] = ("continuous", "instant", "onset", "visual", "audio")
BASELINE_KINDS: tuple[str, ...] = ("audio_only", "vision_only", "naive_av")
MODEL_KINDS: tuple[str, ...] = ("event_heads", *BASELINE_KINDS)

MODELS: Registry[type[AVModel]] = Registry("model kind")


@dataclass(frozen=True)
class Features:
    """Trunk outputs. z_v, z_a: (B, T, D); v_map: (B, D, T, h, w). None for an absent modality."""

    z_v: torch.Tensor | None
    z_a: torch.Tensor | None
    v_map: torch.Tensor | None


class AVModel(nn.Module):
    """Common shape of all model kinds; subclasses set ``kind`` and ``output_names``."""

    kind: str = ""
    output_names: tuple[str, ...] = ()
    uses_video = True
    uses_audio = True

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        self.config = config
        self.num_classes = num_classes
        if self.uses_video:
            self.video_backbone = build_video_backbone(config)
        if self.uses_audio:
            self.audio_backbone = build_audio_backbone(config)

    def forward_features(self, video: torch.Tensor | None, mel: torch.Tensor | None) -> Features:
        """video (B, 3, T, H, W), mel (B, 1, F, 10T) -> z_v (B, T, D), z_a (B, T, D), v_map (B, D, T, h, w)."""
        z_v = v_map = z_a = None
        if self.uses_video:
            assert video is not None
            v_map = self.video_backbone(video)
            z_v = v_map.mean(dim=(3, 4)).transpose(1, 2)
        if self.uses_audio:
            assert mel is not None
            z_a = self.audio_backbone(mel)
        if z_v is not None and z_a is not None and z_v.shape[:2] != z_a.shape[:2]:
            raise RuntimeError(f"video steps {tuple(z_v.shape)} and audio steps {tuple(z_a.shape)} differ")
        return Features(z_v=z_v, z_a=z_a, v_map=v_map)

    def classify(self, features: Features, onset_mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Features -> {output name: logits (B, C)}."""
        raise NotImplementedError

    def forward(
        self, video: torch.Tensor | None, mel: torch.Tensor | None, onset_mask: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        return self.classify(self.forward_features(video, mel), onset_mask)


@MODELS.register("event_heads")
class EventHeadModel(AVModel):
    """Two trunks, then the five event-specific heads, each with its own Linear(2D -> C)."""

    kind = "event_heads"
    output_names = HEAD_NAMES

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__(config, num_classes)
        self.heads = nn.ModuleDict({name: build_head(name, config, num_classes) for name in HEAD_NAMES})

    def classify(self, features: Features, onset_mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert features.z_v is not None and features.z_a is not None
        return {name: head(features.z_v, features.z_a, onset_mask) for name, head in self.heads.items()}


@MODELS.register("naive_av")
class NaiveAVModel(AVModel):
    """Naive AV baseline: concat + global average pooling + FC (the continuous head alone)."""

    kind = "naive_av"
    output_names = ("naive_av",)

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__(config, num_classes)
        self.head: EventHead = build_head("continuous", config, num_classes)

    def classify(self, features: Features, onset_mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert features.z_v is not None and features.z_a is not None
        return {self.kind: self.head(features.z_v, features.z_a, onset_mask)}


@MODELS.register("audio_only")
class AudioOnlyModel(AVModel):
    """Audio baseline: audio trunk, mean over t, Linear(D -> C). Ignores the video."""

    kind = "audio_only"
    output_names = ("audio_only",)
    uses_video = False

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__(config, num_classes)
        self.fc = nn.Linear(config.embed_dim, num_classes)

    def classify(self, features: Features, onset_mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert features.z_a is not None
        return {self.kind: self.fc(features.z_a.mean(dim=1))}


@MODELS.register("vision_only")
class VisionOnlyModel(AVModel):
    """Vision baseline: video trunk, mean over t (and space), Linear(D -> C). Ignores the audio."""

    kind = "vision_only"
    output_names = ("vision_only",)
    uses_audio = False

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__(config, num_classes)
        self.fc = nn.Linear(config.embed_dim, num_classes)

    def classify(self, features: Features, onset_mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert features.z_v is not None
        return {self.kind: self.fc(features.z_v.mean(dim=1))}


def build_model(config: ModelConfig, *, num_classes: int, kind: str = "event_heads") -> AVModel:
    """A fresh model of ``kind`` (one of ``MODEL_KINDS``) for ``num_classes`` classes."""
    return MODELS[kind](config, num_classes)


def multi_head_loss(logits: Mapping[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
    """Eq. 4: the sum over outputs of cross-entropy with the single label, equal weights."""
    return sum((F.cross_entropy(out.float(), labels) for out in logits.values()), torch.zeros((), device=labels.device))


def head_probabilities(logits: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{name: (B, C) logits} -> {name: (B, C) float32 softmax}."""
    return {name: out.float().softmax(dim=-1) for name, out in logits.items()}


def vote(probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(B,) long: the majority argmax label, else the most confident head's label (see module doc)."""
    stacked = torch.stack(list(probs.values()), dim=1)  # (B, H, C)
    confidence, predicted = stacked.max(dim=-1)  # (B, H)
    counts = F.one_hot(predicted, stacked.shape[-1]).sum(dim=1)  # (B, C)
    top_count, top_label = counts.max(dim=-1)
    unique_top = (counts == top_count.unsqueeze(1)).sum(dim=-1) == 1
    most_confident = predicted.gather(1, confidence.argmax(dim=1, keepdim=True)).squeeze(1)
    return torch.where(unique_top, top_label, most_confident)


def union_labels(probs: Mapping[str, torch.Tensor]) -> list[list[int]]:
    """Per clip, the distinct argmax labels of the heads, most confident first (1 to H labels)."""
    stacked = torch.stack(list(probs.values()), dim=1)
    confidence, predicted = stacked.max(dim=-1)
    result = []
    for conf_row, label_row in zip(confidence.tolist(), predicted.tolist(), strict=True):
        best: dict[int, float] = {}
        for conf, label in zip(conf_row, label_row, strict=True):
            best[label] = max(conf, best.get(label, 0.0))
        result.append(sorted(best, key=lambda label: (-best[label], label)))
    return result


def event_types(probs: Mapping[str, torch.Tensor], labels: torch.Tensor) -> list[str]:
    """Per clip, the head whose softmax gives its label ``labels[b]`` the highest probability."""
    names = list(probs)
    stacked = torch.stack([probs[name] for name in names], dim=1)  # (B, H, C)
    index = labels.view(-1, 1, 1).expand(-1, stacked.shape[1], 1)
    label_probs = stacked.gather(2, index).squeeze(2)  # (B, H)
    return [names[i] for i in label_probs.argmax(dim=1).tolist()]


def localisation_maps(v_map: torch.Tensor, z_a: torch.Tensor) -> torch.Tensor:
    """alpha_t = V_t . z^A_t: v_map (B, D, T, h, w), z_a (B, T, D) -> (B, T, h, w)."""
    return torch.einsum("bdthw,btd->bthw", v_map, z_a)
