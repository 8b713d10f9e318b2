"""The five parameter-free event-specific pooling layers (paper section 3.1) and their classifiers.

Every pooling takes z^V, z^A of shape (B, T, D) (and the onset mask (B, T)) and returns one
(B, 2D) vector per clip; ``EventHead`` follows it with its own ``Linear(2D -> C)``.

* continuous (Eq. 1): mean over all t of concat(z^V_t, z^A_t).
* instant (Eq. 2): S[t] = z^V_t . z^A_t; mean of concat over the top-k steps of S.
* onset (Eq. 3): mean of concat over the audio-onset steps; a clip without any onset falls
  back to the continuous mean (ours; ``onset_fallback`` reports which clips did).
* visual: concat(z^V_t, 0), then Eq. 1.   * audio: concat(0, z^A_t), then Eq. 1.
"""

from __future__ import annotations

import torch
from torch import nn

from modelzoo.nn.config import ModelConfig, Registry

POOLINGS: Registry[type[Pooling]] = Registry("pooling")


def correspondence(z_v: torch.Tensor, z_a: torch.Tensor) -> torch.Tensor:
    """S[t] = z^V_t . z^A_t: (B, T, D), (B, T, D) -> (B, T)."""
    return (z_v * z_a).sum(dim=-1)


def instant_steps(z_v: torch.Tensor, z_a: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the top-k steps of S, highest first: (B, T, D) x2 -> (B, min(k, T)) long."""
    scores = correspondence(z_v, z_a)
    return scores.topk(min(k, scores.shape[1]), dim=1).indices


def onset_fallback(onset_mask: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor:
    """(B,) bool: True for the clips without any onset (the onset head used continuous pooling)."""
    if onset_mask is None:
        return torch.ones(batch, dtype=torch.bool, device=device)
    return ~onset_mask.any(dim=1)


class Pooling(nn.Module):
    """Base: (B, T, D), (B, T, D), (B, T) bool | None -> (B, 2D). No parameters."""

    @classmethod
    def from_config(cls, config: ModelConfig) -> Pooling:
        return cls()

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


@POOLINGS.register("continuous")
class ContinuousPooling(Pooling):
    """Eq. 1: mean over t of concat(z^V_t, z^A_t)."""

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat((z_v, z_a), dim=-1).mean(dim=1)


@POOLINGS.register("instant")
class InstantPooling(Pooling):
    """Eq. 2: mean of concat(z^V_t, z^A_t) over the top-k steps of S[t] = z^V_t . z^A_t.

    The selection is not differentiated (as top-k); the gradient flows through the pooled steps.
    """

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    @classmethod
    def from_config(cls, config: ModelConfig) -> Pooling:
        return cls(config.top_k)

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        joint = torch.cat((z_v, z_a), dim=-1)  # (B, T, 2D)
        index = instant_steps(z_v, z_a, self.k)  # (B, k)
        picked = joint.gather(1, index.unsqueeze(-1).expand(-1, -1, joint.shape[-1]))  # (B, k, 2D)
        return picked.mean(dim=1)

    def extra_repr(self) -> str:
        return f"k={self.k}"


@POOLINGS.register("onset")
class OnsetPooling(Pooling):
    """Eq. 3: mean of concat(z^V_t, z^A_t) over the onset steps; no onset -> Eq. 1 (flagged)."""

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        joint = torch.cat((z_v, z_a), dim=-1)
        if onset_mask is None:
            return joint.mean(dim=1)
        weights = onset_mask.to(joint.dtype).unsqueeze(-1)  # (B, T, 1)
        count = weights.sum(dim=1)  # (B, 1)
        onset_mean = (joint * weights).sum(dim=1) / count.clamp(min=1)
        return torch.where(count > 0, onset_mean, joint.mean(dim=1))


@POOLINGS.register("visual")
class VisualPooling(Pooling):
    """concat(z^V_t, 0), then Eq. 1: (mean_t z^V_t, 0)."""

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat((z_v, torch.zeros_like(z_a)), dim=-1).mean(dim=1)


@POOLINGS.register("audio")
class AudioPooling(Pooling):
    """concat(0, z^A_t), then Eq. 1: (0, mean_t z^A_t)."""

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat((torch.zeros_like(z_v), z_a), dim=-1).mean(dim=1)


class EventHead(nn.Module):
    """A pooling followed by its own FC: (B, T, D) x2 (+ onset mask) -> logits (B, C)."""

    def __init__(self, pooling: Pooling, embed_dim: int, num_classes: int) -> None:
        super().__init__()
        self.pooling = pooling
        self.fc = nn.Linear(2 * embed_dim, num_classes)

    def forward(self, z_v: torch.Tensor, z_a: torch.Tensor, onset_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.fc(self.pooling(z_v, z_a, onset_mask))


def build_head(name: str, config: ModelConfig, num_classes: int) -> EventHead:
    return EventHead(POOLINGS[name].from_config(config), config.embed_dim, num_classes)
