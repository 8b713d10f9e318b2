"""What training and inference report while they run: frozen, typed events for progress callbacks.

No torch here, so a command's progress bar can name them without loading the model code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class TrainEvent:
    """Where training is. ``fraction``: share of the whole fit done, 0..1 (of the whole recipe
    when ``stage`` names a recipe stage)."""

    epoch: int
    epochs: int
    step: int
    steps: int
    fraction: float
    loss: float
    stage: str = ""


@dataclass(frozen=True, kw_only=True)
class StepProgress(TrainEvent):
    """After every training step; ``loss`` is the epoch's running mean (NaN until a clip decoded)."""


@dataclass(frozen=True, kw_only=True)
class EpochEnd(TrainEvent):
    """After an epoch was checkpointed; ``loss`` is its mean training loss and ``metrics`` the
    row the checkpoint keeps for it ("epoch", "train_loss", "train_clips", "seconds", and
    "val" when there is a validation split)."""

    metrics: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class PredictProgress:
    """After every inference batch: ``done`` of ``total`` clips, failed ones included."""

    done: int
    total: int
    fraction: float
