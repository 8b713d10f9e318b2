"""One pass of training and one of evaluation, as plain functions over a loader of ``ClipBatch``.

On CUDA the forward runs under bf16 autocast with channels_last_3d video; on CPU in float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch

from modelzoo.nn.model import AVModel, head_probabilities, multi_head_loss, vote

StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class EpochStats:
    loss: float
    steps: int
    clips: int
    stopped: bool


def autocast_for(device: torch.device) -> AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def prepare_model(model: AVModel, device: torch.device) -> AVModel:
    """Move to ``device``; channels_last_3d on CUDA."""
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]
    return model


def train_one_epoch(
    model: AVModel,
    loader: Any,
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device,
    on_step: Callable[[int, float], None] | None = None,
    should_stop: StopCallback | None = None,
    lr_at_step: Callable[[int], float] | None = None,
) -> EpochStats:
    """One pass over ``loader`` (of ``ClipBatch``) with the summed multi-head loss.

    ``on_step(step, running mean loss)`` after every step; ``should_stop`` is asked after every
    step, and a True ends the pass there (``stopped``). ``lr_at_step(step)``, where given, sets
    the learning rate of the step (counted from 1 within this pass) before it is taken.
    """
    model.train()
    channels_last = device.type == "cuda"
    total, clips, steps = 0.0, 0, 0
    for batch in loader:
        steps += 1
        if len(batch):
            video, mel, mask = batch.model_inputs(model.config, device, channels_last=channels_last)
            labels = batch.labels.to(device)
            with autocast_for(device):
                logits = model(video, mel, mask)
            loss = multi_head_loss(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if lr_at_step is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr_at_step(steps)
            optimizer.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"training loss became {value}")
            total += value * len(batch)
            clips += len(batch)
        if on_step is not None:
            on_step(steps, total / clips if clips else float("nan"))
        if should_stop is not None and should_stop():
            return EpochStats(loss=total / max(clips, 1), steps=steps, clips=clips, stopped=True)
    return EpochStats(loss=total / max(clips, 1), steps=steps, clips=clips, stopped=False)


def evaluate(model: AVModel, loader: Any, *, device: torch.device) -> dict[str, Any]:
    """Mean loss, accuracy per output and of the vote, over the clips that decoded."""
    model.eval()
    channels_last = device.type == "cuda"
    total, clips = 0.0, 0
    correct: dict[str, int] = {name: 0 for name in model.output_names}
    vote_correct = 0
    with torch.inference_mode():
        for batch in loader:
            if not len(batch):
                continue
            video, mel, mask = batch.model_inputs(model.config, device, channels_last=channels_last)
            labels = batch.labels.to(device)
            with autocast_for(device):
                logits = model(video, mel, mask)
            total += float(multi_head_loss(logits, labels)) * len(batch)
            clips += len(batch)
            probs = head_probabilities(logits)
            for name, p in probs.items():
                correct[name] += int((p.argmax(dim=-1) == labels).sum())
            vote_correct += int((vote(probs) == labels).sum())
    if clips == 0:
        return {"loss": float("nan"), "accuracy": {}, "vote_accuracy": float("nan"), "clips": 0}
    return {
        "loss": total / clips,
        "accuracy": {name: n / clips for name, n in correct.items()},
        "vote_accuracy": vote_correct / clips,
        "clips": clips,
    }
