"""The run's model in this process, loaded once, and the labels it proposes for a few clips.

Label Studio waits on /predict (100 s by default), so the checkpoint is read once per process
and kept, on the device ``services.device_choose`` picks, for the next request. Each clip goes
through the decode and feature pipeline training and prediction runs use
(``modelzoo.nn.infer``, as prediction runs); its labels are the union set of the model's outputs, scored as a
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
from modelzoo.nn.infer import ClipPrediction, predict_with_model
from modelzoo.nn.loop import prepare_model
from modelzoo.nn.model import AVModel

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
    does not decode (logged by the dataset). Predicted as prediction runs predict
    (``modelzoo.nn.infer``)."""
    predictions = predict_with_model(model=model, items=paths, batch_size=batch_size)
    return [None if prediction.error else _clip_labels(prediction) for prediction in predictions]


def _clip_labels(prediction: ClipPrediction) -> ClipLabels:
    """Each label of the clip's union set, scored by the best top probability among the
    outputs whose top label it is."""
    tops = {name: ranked[0] for name, ranked in prediction.heads.items()}  # (class, probability)
    labels = []
    for label in prediction.union:
        heads = tuple(name for name, (top, _) in tops.items() if top == label)
        labels.append((label, max(tops[name][1] for name in heads), heads))
    return ClipLabels(tuple(labels))
