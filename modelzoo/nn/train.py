"""Training as plain functions: ``train_one_epoch``, ``evaluate``, ``fit`` and the paper's recipe.

Checkpoints are dicts of plain values and state_dicts (model, optimizer) plus the config, saved
atomically (temp file + rename) after every epoch to ``<checkpoint_dir>/last.pt`` and loaded with
``weights_only=True``. ``fit(resume=True)`` continues after the last completed epoch; a stop
request (``should_stop``) is honoured after the current step and leaves the last completed
epoch's checkpoint as it was. On CUDA the forward runs under bf16 autocast with channels_last_3d
video; on CPU in float32.
"""

from __future__ import annotations

import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from modelzoo.nn.backbones import mc3_18_init_state
from modelzoo.nn.config import ModelConfig
from modelzoo.nn.data import ClipTensorDataset, make_loader
from modelzoo.nn.model import AVModel, build_model, head_probabilities, multi_head_loss, vote

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
CHECKPOINT_NAME = "last.pt"
RECIPE_STAGES: tuple[str, ...] = ("audio_only", "vision_only", "event_heads")

Items = Sequence[tuple[str, int]]
ProgressCallback = Callable[[dict[str, Any]], None]
StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class FitResult:
    """checkpoint_path: the last completed epoch's checkpoint (None if none completed)."""

    checkpoint_path: Path | None
    metrics_per_epoch: list[dict[str, Any]]
    stopped: bool = False


@dataclass(frozen=True)
class RecipeResult:
    stages: dict[str, FitResult] = field(default_factory=dict)
    stopped: bool = False

    @property
    def checkpoint_path(self) -> Path | None:
        """The event-head model's checkpoint (None until the last stage completed an epoch)."""
        final = self.stages.get("event_heads")
        return final.checkpoint_path if final else None


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
) -> EpochStats:
    """One pass over ``loader`` (of ``ClipBatch``) with the summed multi-head loss."""
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


def fit(
    *,
    model_kind: str,
    config: ModelConfig,
    train_items: Items,
    val_items: Items,
    num_classes: int,
    epochs: int,
    batch_size: int,
    lr: float,
    checkpoint_dir: Path,
    resume: bool,
    device: str,
    init_state: Mapping[str, torch.Tensor] | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    weight_decay: float = 1e-4,
    num_workers: int = 0,
    cache_dir: Path | None = None,
    seed: int = 0,
) -> FitResult:
    """Train ``model_kind`` for ``epochs`` epochs, checkpointing after each; see module doc.

    items: (media_path, label_index). cache_dir: decoded-feature cache (default
    ``<checkpoint_dir>/features``). ``on_progress`` gets {"epoch", "epochs", "step", "steps",
    "fraction", "loss", "phase"} after every step ("train") and after every epoch ("epoch", with
    "metrics"). Clips that fail to decode are skipped with a warning.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be at least 1")
    if not train_items:
        raise ValueError("no training items")
    _check_labels(train_items, num_classes, "train")
    _check_labels(val_items, num_classes, "val")
    torch_device = torch.device(device)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_path = checkpoint_dir / CHECKPOINT_NAME
    cache_dir = cache_dir if cache_dir is not None else checkpoint_dir / "features"

    torch.manual_seed(seed)
    model = build_model(config, num_classes=num_classes, kind=model_kind)
    if init_state is not None:
        apply_init_state(model, init_state)
    model = prepare_model(model, torch_device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    start_epoch, metrics = 0, []
    if resume and checkpoint_path.exists():
        checkpoint = load_checkpoint(checkpoint_path)
        _check_resumable(checkpoint, model_kind=model_kind, config=config, num_classes=num_classes)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_epoch, metrics = int(checkpoint["epoch"]), list(checkpoint["metrics"])
        logger.info("resuming %s from epoch %d of %d", model_kind, start_epoch, epochs)

    train_data = ClipTensorDataset(train_items, config, cache_dir=cache_dir)
    val_data = ClipTensorDataset(val_items, config, cache_dir=cache_dir)
    steps = math.ceil(len(train_data) / batch_size)
    done_path = checkpoint_path if start_epoch > 0 else None
    for epoch in range(start_epoch + 1, epochs + 1):
        started = time.monotonic()
        loader = make_loader(
            train_data,
            batch_size=batch_size,
            shuffle=True,
            num_workers=num_workers,
            device=torch_device,
            seed=seed * 100_003 + epoch,
        )

        def on_step(step: int, loss: float, epoch: int = epoch) -> None:
            if on_progress is not None:
                fraction = ((epoch - 1) * steps + step) / (epochs * steps)
                on_progress(
                    {"phase": "train", "epoch": epoch, "epochs": epochs, "step": step, "steps": steps}
                    | {"fraction": min(fraction, 1.0), "loss": loss}
                )

        stats = train_one_epoch(model, loader, optimizer, device=torch_device, on_step=on_step, should_stop=should_stop)
        if stats.stopped:
            logger.info("%s stopped during epoch %d", model_kind, epoch)
            return FitResult(checkpoint_path=done_path, metrics_per_epoch=metrics, stopped=True)
        if stats.clips == 0:
            raise ValueError(f"none of the {len(train_data)} training clips could be decoded")
        row: dict[str, Any] = {"epoch": epoch, "train_loss": stats.loss, "train_clips": stats.clips}
        if len(val_data):
            val_loader = make_loader(
                val_data, batch_size=batch_size, shuffle=False, num_workers=num_workers, device=torch_device
            )
            row["val"] = evaluate(model, val_loader, device=torch_device)
        row["seconds"] = time.monotonic() - started
        metrics.append(row)
        save_checkpoint(
            checkpoint_path,
            {
                "format": CHECKPOINT_FORMAT,
                "model_kind": model_kind,
                "num_classes": num_classes,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "metrics": metrics,
            },
        )
        done_path = checkpoint_path
        if on_progress is not None:
            on_progress(
                {"phase": "epoch", "epoch": epoch, "epochs": epochs, "step": steps, "steps": steps}
                | {"fraction": epoch / epochs, "loss": stats.loss, "metrics": row}
            )
    return FitResult(checkpoint_path=done_path, metrics_per_epoch=metrics)


def _check_labels(items: Items, num_classes: int, what: str) -> None:
    for path, label in items:
        if not 0 <= int(label) < num_classes:
            raise ValueError(f"{what} item {path}: label {label} outside [0, {num_classes})")


def _check_resumable(checkpoint: Mapping[str, Any], *, model_kind: str, config: ModelConfig, num_classes: int) -> None:
    mismatch = []
    if checkpoint["model_kind"] != model_kind:
        mismatch.append(f"model kind {checkpoint['model_kind']} != {model_kind}")
    if ModelConfig.from_dict(checkpoint["config"]) != config:
        mismatch.append(f"config {checkpoint['config']['name']} differs from {config.name}")
    if int(checkpoint["num_classes"]) != num_classes:
        mismatch.append(f"{checkpoint['num_classes']} classes != {num_classes}")
    if mismatch:
        raise ValueError("cannot resume: " + "; ".join(mismatch))


def train_recipe(
    *,
    config: ModelConfig,
    train_items: Items,
    val_items: Items,
    num_classes: int,
    epochs: int | tuple[int, int, int],
    batch_size: int,
    lr: float,
    work_dir: Path,
    device: str,
    resume: bool = True,
    video_weights_path: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    num_workers: int = 0,
    cache_dir: Path | None = None,
    seed: int = 0,
) -> RecipeResult:
    """Section 4.1: (1) audio_only from scratch, (2) vision_only from mc3_18 (local weights file
    when given, else scratch), (3) event_heads initialised from both trunks, end to end.

    Stages live in ``work_dir/<stage>/``; with resume=True a finished stage is not trained again.
    ``on_progress`` events carry "stage" and an overall "fraction" across the three stages.
    epochs: one number for all stages or one per stage.
    """
    per_stage = (epochs,) * 3 if isinstance(epochs, int) else tuple(epochs)
    if len(per_stage) != 3:
        raise ValueError("epochs must be an int or three ints")
    work_dir = Path(work_dir)
    cache_dir = cache_dir if cache_dir is not None else work_dir / "features"
    results: dict[str, FitResult] = {}
    for position, stage in enumerate(RECIPE_STAGES):
        init_state = _stage_init_state(stage, results, video_weights_path)

        def progress(event: dict[str, Any], position: int = position, stage: str = stage) -> None:
            if on_progress is not None:
                on_progress(event | {"stage": stage, "fraction": (position + event["fraction"]) / len(RECIPE_STAGES)})

        result = fit(
            model_kind=stage,
            config=config,
            train_items=train_items,
            val_items=val_items,
            num_classes=num_classes,
            epochs=per_stage[position],
            batch_size=batch_size,
            lr=lr,
            checkpoint_dir=work_dir / stage,
            resume=resume,
            device=device,
            init_state=init_state,
            on_progress=progress,
            should_stop=should_stop,
            num_workers=num_workers,
            cache_dir=cache_dir,
            seed=seed,
        )
        results[stage] = result
        if result.stopped or result.checkpoint_path is None:
            return RecipeResult(stages=results, stopped=True)
    return RecipeResult(stages=results)


def _stage_init_state(
    stage: str, results: Mapping[str, FitResult], video_weights_path: str | Path | None
) -> dict[str, torch.Tensor] | None:
    if stage == "audio_only":
        return None
    if stage == "vision_only":
        return mc3_18_init_state(video_weights_path) if video_weights_path else None
    audio_ckpt = results["audio_only"].checkpoint_path
    video_ckpt = results["vision_only"].checkpoint_path
    assert audio_ckpt is not None and video_ckpt is not None
    return backbone_state(audio_ckpt, "audio_backbone.") | backbone_state(video_ckpt, "video_backbone.")


def restrict_to_single_label(items: Sequence[tuple[str, Sequence[int]]], *, seed: int) -> list[tuple[str, int]]:
    """LLP protocol: keep one label per multi-label video, drawn at random (seeded).

    The draw for each video depends only on the seed, the video's position and its labels. A
    video without any label is an error.
    """
    restricted = []
    for position, (path, labels) in enumerate(items):
        choices = sorted({int(label) for label in labels})
        if not choices:
            raise ValueError(f"{path} has no label to keep")
        restricted.append((path, random.Random(f"{seed}:{position}").choice(choices)))
    return restricted
