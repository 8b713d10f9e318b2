"""The run's model in this process, loaded once, and the labels it proposes for a few clips.

Label Studio waits on /predict (100 s by default), so the checkpoint is read once per process
and kept, on the device ``services.device_choose`` picks, for the next request. Each clip goes
through the decode and feature pipeline training and prediction runs use
(``modelzoo.nn.data``); its labels are the union set of the model's outputs, scored as a
prediction run's proposals are (``services.proposals_from_predictions``): each label by the
best probability among the outputs whose top label it is. No Django here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from modelzoo.nn.checkpoint import load_checkpoint, model_from_checkpoint
from modelzoo.nn.data import ClipTensorDataset, make_loader
from modelzoo.nn.loop import autocast_for, prepare_model
from modelzoo.nn.model import AVModel, head_probabilities, union_labels

logger = logging.getLogger(__name__)

#: Models kept loaded (least recently used dropped first): each holds device memory.
MODELS_KEPT = 2


@dataclass(frozen=True)
class ClipLabels:
    """The union set of one clip, most confident first: (class index, score, outputs that
    predict it, in the model's output order)."""

    labels: tuple[tuple[int, float, tuple[str, ...]], ...]


@functools.lru_cache(maxsize=MODELS_KEPT)
def _model(checkpoint_path: str, stamp: tuple[int, int], device: str) -> AVModel:
    logger.info("ML backend: loading %s on %s", checkpoint_path, device)
    model = model_from_checkpoint(load_checkpoint(checkpoint_path))
    return prepare_model(model, torch.device(device)).eval()


def loaded_model(*, checkpoint_path: str | Path, device: str) -> AVModel:
    """The checkpoint's model, from this process's cache; a checkpoint rewritten since (its
    modification time or size changed) is read again."""
    stat = Path(checkpoint_path).stat()
    return _model(str(checkpoint_path), (stat.st_mtime_ns, stat.st_size), device)


def clips_labels(*, model: AVModel, paths: Sequence[str], batch_size: int) -> list[ClipLabels | None]:
    """The labels the model proposes for each media file, in order; None for a file that
    does not decode (logged by the dataset)."""
    device = next(model.parameters()).device
    dataset = ClipTensorDataset([(path, None) for path in paths], model.config)
    loader = make_loader(dataset, batch_size=batch_size, shuffle=False, num_workers=0, device=device)
    found: list[ClipLabels | None] = [None] * len(paths)
    with torch.inference_mode():
        for batch in loader:
            if not len(batch):
                continue
            video, mel, mask = batch.model_inputs(model.config, device, channels_last=device.type == "cuda")
            with autocast_for(device):
                logits = model(video if model.uses_video else None, mel if model.uses_audio else None, mask)
            probs = {name: p.cpu() for name, p in head_probabilities(logits).items()}
            for row, (index, union) in enumerate(zip(batch.indices, union_labels(probs), strict=True)):
                found[index] = _clip_labels({name: p[row] for name, p in probs.items()}, union)
    return found


def _clip_labels(probs: dict[str, torch.Tensor], union: list[int]) -> ClipLabels:
    """probs: {output: (C,)} of one clip; union: its labels in order (``union_labels``)."""
    tops = {name: (float(p.max()), int(p.argmax())) for name, p in probs.items()}
    labels = []
    for label in union:
        heads = tuple(name for name, (_, top) in tops.items() if top == label)
        labels.append((label, max(tops[name][0] for name in heads), heads))
    return ClipLabels(tuple(labels))
