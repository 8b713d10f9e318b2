"""Inference: a checkpoint and media files -> one ``ClipPrediction`` per file, in order.

A file that cannot be decoded gives a prediction with ``error`` set (and nothing else); the
run goes on. See ``model`` for how vote, union and event type are decided.

modality_confidence: for each modality ("visual", "audio", "audio_visual") the highest
max-softmax among the model's outputs of that modality (visual head / vision_only; audio head /
audio_only; continuous, instant, onset heads / naive_av).
Flags: the decoder's ("short", "no_audio") plus "no_onset" when no audio onset was found (the
onset head then pooled like the continuous head).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from modelzoo.nn.checkpoint import load_checkpoint, model_from_checkpoint
from modelzoo.nn.data import ClipBatch, ClipTensorDataset, make_loader
from modelzoo.nn.events import PredictProgress
from modelzoo.nn.heads import instant_steps
from modelzoo.nn.loop import autocast_for, prepare_model
from modelzoo.nn.model import (
    AVModel,
    Features,
    event_types,
    head_probabilities,
    localisation_maps,
    union_labels,
    vote,
)

logger = logging.getLogger(__name__)

TOP_N = 5
FLAG_NO_ONSET = "no_onset"
OUTPUT_MODALITY: dict[str, str] = {
    "continuous": "audio_visual",
    "instant": "audio_visual",
    "onset": "audio_visual",
    "visual": "visual",
    "audio": "audio",
    "naive_av": "audio_visual",
    "vision_only": "visual",
    "audio_only": "audio",
}


@dataclass
class ClipPrediction:
    """What the model says about one clip.

    heads: output name -> top-5 [(class_index, probability)], best first.
    vote: the voted class (None only when ``error`` is set).  union: distinct head labels.
    event_type: dominant head for the given label (event-head model with a label, else None).
    label_probs: output name -> probability of the given label (None without a label).
    instant_steps: the top-k steps of S = z^V . z^A, ascending (models with both trunks).
    onset_steps: the audio onset steps.  heatmap: (T, h, w) float32 alpha_t = V_t . z^A_t, raw
    (not normalised), when asked and the model has both trunks.
    """

    path: str
    heads: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    vote: int | None = None
    union: list[int] = field(default_factory=list)
    event_type: str | None = None
    label_probs: dict[str, float] | None = None
    instant_steps: list[int] = field(default_factory=list)
    onset_steps: list[int] = field(default_factory=list)
    modality_confidence: dict[str, float] = field(default_factory=dict)
    heatmap: np.ndarray | None = None
    flags: list[str] = field(default_factory=list)
    error: str | None = None


def predict(
    *,
    checkpoint_path: str | Path,
    items: Sequence[str],
    device: str,
    label_indices: Sequence[int | None] | None = None,
    batch_size: int = 8,
    with_heatmaps: bool = False,
    on_progress: Callable[[PredictProgress], None] | None = None,
    num_workers: int = 0,
    cache_dir: Path | None = None,
) -> list[ClipPrediction]:
    """Predict every media path in ``items``; ``label_indices`` (same length) enables event types.

    on_progress gets a ``PredictProgress`` after every batch.
    """
    model = prepare_model(model_from_checkpoint(load_checkpoint(checkpoint_path)), torch.device(device)).eval()
    return predict_with_model(
        model=model,
        items=items,
        label_indices=label_indices,
        batch_size=batch_size,
        with_heatmaps=with_heatmaps,
        on_progress=on_progress,
        num_workers=num_workers,
        cache_dir=cache_dir,
    )


def predict_with_model(
    *,
    model: AVModel,
    items: Sequence[str],
    label_indices: Sequence[int | None] | None = None,
    batch_size: int = 8,
    with_heatmaps: bool = False,
    on_progress: Callable[[PredictProgress], None] | None = None,
    num_workers: int = 0,
    cache_dir: Path | None = None,
) -> list[ClipPrediction]:
    """``predict`` with a model already loaded and prepared on its device (``prepare_model``,
    in eval mode): what a process that keeps one model for many requests calls."""
    labels = list(label_indices) if label_indices is not None else [None] * len(items)
    if len(labels) != len(items):
        raise ValueError(f"{len(labels)} label indices for {len(items)} items")
    for label in labels:
        if label is not None and not 0 <= label < model.num_classes:
            raise ValueError(f"label {label} outside [0, {model.num_classes})")
    torch_device = next(model.parameters()).device
    dataset = ClipTensorDataset(list(zip(items, labels, strict=True)), model.config, cache_dir=cache_dir)
    loader = make_loader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, device=torch_device)
    results: list[ClipPrediction | None] = [None] * len(items)
    done = 0
    with torch.inference_mode():
        for batch in loader:
            for index, path, error in batch.failed:
                results[index] = ClipPrediction(path=path, error=error)
            if len(batch):
                for index, prediction in zip(batch.indices, _predict_batch(model, batch, with_heatmaps), strict=True):
                    results[index] = prediction
            done += len(batch) + len(batch.failed)
            if on_progress is not None:
                on_progress(PredictProgress(done=done, total=len(items), fraction=done / max(len(items), 1)))
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def _predict_batch(model: AVModel, batch: ClipBatch, with_heatmaps: bool) -> list[ClipPrediction]:
    device = next(model.parameters()).device
    video, mel, mask = batch.model_inputs(model.config, device, channels_last=device.type == "cuda")
    with autocast_for(device):
        features = model.forward_features(video if model.uses_video else None, mel if model.uses_audio else None)
        logits = model.classify(features, mask)
    probs = {name: p.cpu() for name, p in head_probabilities(logits).items()}
    votes = vote(probs).tolist()
    unions = union_labels(probs)
    known = batch.labels >= 0
    types: list[str | None] = [None] * len(batch)
    if model.kind == "event_heads" and bool(known.any()):
        found = event_types(probs, batch.labels.clamp(min=0))
        types = [t if k else None for t, k in zip(found, known.tolist(), strict=True)]
    steps = _instant_steps(features, model.config.top_k)
    heatmaps = _heatmaps(features) if with_heatmaps else None
    top = min(TOP_N, model.num_classes)
    tops = {name: p.topk(top, dim=-1) for name, p in probs.items()}
    predictions = []
    for b in range(len(batch)):
        label = int(batch.labels[b])
        flags = sorted(batch.flags[b]) + ([] if batch.onset_steps[b] else [FLAG_NO_ONSET])
        confidence: dict[str, float] = {}
        for name, p in probs.items():
            modality = OUTPUT_MODALITY[name]
            confidence[modality] = max(confidence.get(modality, 0.0), float(p[b].max()))
        predictions.append(
            ClipPrediction(
                path=batch.paths[b],
                heads={
                    name: list(zip(t.indices[b].tolist(), t.values[b].tolist(), strict=True))
                    for name, t in tops.items()
                },
                vote=votes[b],
                union=unions[b],
                event_type=types[b],
                label_probs={name: float(p[b, label]) for name, p in probs.items()} if label >= 0 else None,
                instant_steps=steps[b] if steps is not None else [],
                onset_steps=list(batch.onset_steps[b]),
                modality_confidence=confidence,
                heatmap=heatmaps[b].copy() if heatmaps is not None else None,
                flags=flags,
            )
        )
    return predictions


def _instant_steps(features: Features, k: int) -> list[list[int]] | None:
    if features.z_v is None or features.z_a is None:
        return None
    index = instant_steps(features.z_v.float(), features.z_a.float(), k)
    return [sorted(row) for row in index.cpu().tolist()]


def _heatmaps(features: Features) -> np.ndarray | None:
    """(B, T, h, w) float32 or None when the model lacks a trunk."""
    if features.v_map is None or features.z_a is None:
        return None
    return localisation_maps(features.v_map.float(), features.z_a.float()).cpu().numpy()


def head_logits(
    *,
    checkpoint_path: str | Path,
    items: Sequence[str],
    device: str,
    batch_size: int = 8,
    cache_dir: Path | None = None,
) -> dict[str, np.ndarray]:
    """Every output's raw logits (the paper's O_i) for every media path: {name: (N, C) float32}.

    For analyses that need more than ``predict``'s top-5 probabilities (e.g. the event type on
    logits). A file that fails to decode gets a row of NaN.
    """
    model = model_from_checkpoint(load_checkpoint(checkpoint_path))
    torch_device = next(model.parameters()).device
    dataset = ClipTensorDataset([(path, None) for path in items], model.config, cache_dir=cache_dir)
    loader = make_loader(dataset, batch_size=batch_size, shuffle=False, num_workers=0, device=torch_device)
    out = {name: np.full((len(items), model.num_classes), np.nan, dtype=np.float32) for name in model.output_names}
    with torch.inference_mode():
        for batch in loader:
            if not len(batch):
                continue
            video, mel, mask = batch.model_inputs(model.config, torch_device, channels_last=torch_device.type == "cuda")
            with autocast_for(torch_device):
                logits = model(video if model.uses_video else None, mel if model.uses_audio else None, mask)
            for name, values in logits.items():
                out[name][batch.indices] = values.float().cpu().numpy()
    return out
