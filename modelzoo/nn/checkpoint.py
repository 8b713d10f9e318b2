"""Checkpoints: dicts of plain values and state_dicts (model, optimizer) plus the configs as
plain dicts, written atomically (temp file + rename) and read with ``weights_only=True``.

Keys: "format", "model_kind", "num_classes", "config" (the ModelConfig), "train_config" (the
TrainConfig; absent from checkpoints written before it existed), "model", "optimizer",
"epoch" (the last completed one) and "metrics" (one row per completed epoch).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from modelzoo.nn.config import ModelConfig, TrainConfig
from modelzoo.nn.model import AVModel, build_model

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
CHECKPOINT_NAME = "last.pt"


def checkpoint_payload(
    *,
    config: TrainConfig,
    model_config: ModelConfig,
    model: AVModel,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    metrics: list[dict[str, Any]],
) -> dict[str, Any]:
    """What ``fit`` saves after an epoch."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model_kind": config.model_kind,
        "num_classes": config.num_classes,
        "config": model_config.to_dict(),
        "train_config": config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "metrics": metrics,
    }


def save_checkpoint(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (a reader sees the old or the new file, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(dict(payload), handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by ``fit`` (weights_only=True: plain values and tensors only)."""
    data = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not an avlabel model checkpoint")
    return data


def model_from_checkpoint(checkpoint: Mapping[str, Any]) -> AVModel:
    """Rebuild the model a checkpoint describes and load its weights (on CPU)."""
    config = ModelConfig.from_dict(checkpoint["config"])
    model = build_model(config, num_classes=int(checkpoint["num_classes"]), kind=str(checkpoint["model_kind"]))
    model.load_state_dict(checkpoint["model"])
    return model


def check_resumable(checkpoint: Mapping[str, Any], *, config: TrainConfig, model_config: ModelConfig) -> None:
    """Raise ValueError unless the checkpoint holds the very model ``config`` would build."""
    mismatch = []
    if checkpoint["model_kind"] != config.model_kind:
        mismatch.append(f"model kind {checkpoint['model_kind']} != {config.model_kind}")
    if ModelConfig.from_dict(checkpoint["config"]) != model_config:
        mismatch.append(f"config {checkpoint['config']['name']} differs from {model_config.name}")
    if int(checkpoint["num_classes"]) != config.num_classes:
        mismatch.append(f"{checkpoint['num_classes']} classes != {config.num_classes}")
    if mismatch:
        raise ValueError("cannot resume: " + "; ".join(mismatch))


def apply_init_state(model: AVModel, state: Mapping[str, torch.Tensor]) -> int:
    """Copy the entries of a (partial) state_dict whose names and shapes match; returns how many.

    Raises ValueError when none match, so a wrong initialisation never passes silently.
    """
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ValueError("the initial state shares no parameter with the model")
    skipped = len(state) - len(usable)
    if skipped:
        logger.info("init state: %d entries loaded, %d not matching the model", len(usable), skipped)
    model.load_state_dict(usable, strict=False)
    return len(usable)


def backbone_state(checkpoint_path: str | Path, prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a checkpoint's model state under ``prefix`` (e.g. "audio_backbone.")."""
    state = load_checkpoint(checkpoint_path)["model"]
    picked = {k: v for k, v in state.items() if k.startswith(prefix)}
    if not picked:
        raise ValueError(f"{checkpoint_path} has no {prefix!r} parameters")
    return picked
