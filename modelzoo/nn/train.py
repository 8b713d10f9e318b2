"""Training as plain functions: ``fit`` one model and the paper's three-stage ``train_recipe``.

``fit`` checkpoints after every epoch to ``<checkpoint_dir>/last.pt`` (see ``checkpoint``);
``resume=True`` continues after the last completed epoch; a stop request (``should_stop``) is
honoured after the current step and leaves the last completed epoch's checkpoint as it was.
Progress goes to ``on_progress`` as typed events (``events.StepProgress``, ``events.EpochEnd``).
The passes themselves (``train_one_epoch``, ``evaluate``) live in ``loop``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from modelzoo.nn.backbones import mc3_18_init_state
from modelzoo.nn.checkpoint import (
    CHECKPOINT_NAME,
    apply_init_state,
    backbone_state,
    check_resumable,
    checkpoint_payload,
    load_checkpoint,
    save_checkpoint,
)
from modelzoo.nn.config import ModelConfig, TrainConfig
from modelzoo.nn.data import ClipTensorDataset, make_loader
from modelzoo.nn.events import EpochEnd, StepProgress, TrainEvent
from modelzoo.nn.loop import StopCallback, evaluate, prepare_model, train_one_epoch
from modelzoo.nn.model import build_model

logger = logging.getLogger(__name__)

RECIPE_MODEL_KIND = "event_heads"
RECIPE_STAGES: tuple[str, ...] = ("audio_only", "vision_only", RECIPE_MODEL_KIND)

Items = Sequence[tuple[str, int]]
ProgressCallback = Callable[[TrainEvent], None]


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
        final = self.stages.get(RECIPE_MODEL_KIND)
        return final.checkpoint_path if final else None


def fit(
    *,
    config: TrainConfig,
    model_config: ModelConfig,
    train_items: Items,
    val_items: Items,
    checkpoint_dir: Path,
    cache_dir: Path | None = None,
    resume: bool = False,
    init_state: Mapping[str, torch.Tensor] | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> FitResult:
    """Train ``config.model_kind`` for ``config.epochs`` epochs, checkpointing after each; see
    module doc.

    items: (media_path, label_index). cache_dir: decoded-feature cache (default
    ``<checkpoint_dir>/features``). init_state: a (partial) state_dict to start from. Clips
    that fail to decode are skipped with a warning.
    """
    if not train_items:
        raise ValueError("no training items")
    _check_labels(train_items, config.num_classes, "train")
    _check_labels(val_items, config.num_classes, "val")
    device = torch.device(config.device)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_path = checkpoint_dir / CHECKPOINT_NAME
    cache_dir = cache_dir if cache_dir is not None else checkpoint_dir / "features"

    torch.manual_seed(config.seed)
    model = build_model(model_config, num_classes=config.num_classes, kind=config.model_kind)
    if init_state is not None:
        apply_init_state(model, init_state)
    model = prepare_model(model, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    start_epoch, metrics = 0, []
    if resume and checkpoint_path.exists():
        checkpoint = load_checkpoint(checkpoint_path)
        check_resumable(checkpoint, config=config, model_config=model_config)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_epoch, metrics = int(checkpoint["epoch"]), list(checkpoint["metrics"])
        logger.info("resuming %s from epoch %d of %d", config.model_kind, start_epoch, config.epochs)

    train_data = ClipTensorDataset(train_items, model_config, cache_dir=cache_dir)
    val_data = ClipTensorDataset(val_items, model_config, cache_dir=cache_dir)
    epochs, steps = config.epochs, math.ceil(len(train_data) / config.batch_size)
    done_path = checkpoint_path if start_epoch > 0 else None
    for epoch in range(start_epoch + 1, epochs + 1):
        started = time.monotonic()
        loader = make_loader(
            train_data,
            batch_size=config.batch_size,
            shuffle=True,
            num_workers=config.num_workers,
            device=device,
            seed=config.seed * 100_003 + epoch,
        )

        def on_step(step: int, loss: float, epoch: int = epoch) -> None:
            if on_progress is not None:
                fraction = min(((epoch - 1) * steps + step) / (epochs * steps), 1.0)
                on_progress(
                    StepProgress(epoch=epoch, epochs=epochs, step=step, steps=steps, fraction=fraction, loss=loss)
                )

        stats = train_one_epoch(
            model,
            loader,
            optimizer,
            device=device,
            on_step=on_step,
            should_stop=should_stop,
            lr_at_step=functools.partial(_epoch_lr, config.lr, (epoch - 1) * steps, epochs * steps),
        )
        if stats.stopped:
            logger.info("%s stopped during epoch %d", config.model_kind, epoch)
            return FitResult(checkpoint_path=done_path, metrics_per_epoch=metrics, stopped=True)
        if stats.clips == 0:
            raise ValueError(f"none of the {len(train_data)} training clips could be decoded")
        row: dict[str, Any] = {"epoch": epoch, "train_loss": stats.loss, "train_clips": stats.clips}
        if len(val_data):
            val_loader = make_loader(
                val_data, batch_size=config.batch_size, shuffle=False, num_workers=config.num_workers, device=device
            )
            row["val"] = evaluate(model, val_loader, device=device)
        row["seconds"] = time.monotonic() - started
        metrics.append(row)
        save_checkpoint(
            checkpoint_path,
            checkpoint_payload(
                config=config, model_config=model_config, model=model, optimizer=optimizer, epoch=epoch, metrics=metrics
            ),
        )
        done_path = checkpoint_path
        if on_progress is not None:
            on_progress(
                EpochEnd(
                    epoch=epoch,
                    epochs=epochs,
                    step=steps,
                    steps=steps,
                    fraction=epoch / epochs,
                    loss=stats.loss,
                    metrics=row,
                )
            )
    return FitResult(checkpoint_path=done_path, metrics_per_epoch=metrics)


def _epoch_lr(base: float, steps_before: int, total: int, step: int) -> float:
    return cosine_lr(base, steps_before + step, total)


def cosine_lr(base: float, step: int, total: int) -> float:
    """The learning rate of step ``step`` of ``total`` (from 1): a half cosine from ``base`` down
    to 0. The last epochs take small steps, so the weights stored and served are not those of one
    late large update (at a constant rate the demo's last epoch could lose half its accuracy).
    A function of the step alone, so a resumed run continues the same schedule."""
    return base * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / max(total, 1)))


def _check_labels(items: Items, num_classes: int, what: str) -> None:
    for path, label in items:
        if not 0 <= int(label) < num_classes:
            raise ValueError(f"{what} item {path}: label {label} outside [0, {num_classes})")


def train_recipe(
    *,
    config: TrainConfig,
    model_config: ModelConfig,
    train_items: Items,
    val_items: Items,
    work_dir: Path,
    cache_dir: Path | None = None,
    resume: bool = True,
    stage_epochs: tuple[int, int, int] | None = None,
    video_weights_path: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> RecipeResult:
    """Section 4.1: (1) audio_only from scratch, (2) vision_only from mc3_18 (local weights file
    when given, else scratch), (3) event_heads initialised from both trunks, end to end.

    ``config`` is the event-head model's; each stage trains with it, its own model kind and
    ``config.epochs`` epochs (``stage_epochs``: one number per stage instead). Stages live in
    ``work_dir/<stage>/``; with resume=True a finished stage is not trained again. Events carry
    the ``stage`` and an overall ``fraction`` across the three stages.
    """
    if config.model_kind != RECIPE_MODEL_KIND:
        raise ValueError(f"the recipe trains the {RECIPE_MODEL_KIND} model, not {config.model_kind}")
    per_stage = stage_epochs if stage_epochs is not None else (config.epochs,) * len(RECIPE_STAGES)
    if len(per_stage) != len(RECIPE_STAGES):
        raise ValueError(f"stage_epochs needs {len(RECIPE_STAGES)} numbers, got {per_stage}")
    work_dir = Path(work_dir)
    cache_dir = cache_dir if cache_dir is not None else work_dir / "features"
    results: dict[str, FitResult] = {}
    for position, stage in enumerate(RECIPE_STAGES):

        def progress(event: TrainEvent, position: int = position, stage: str = stage) -> None:
            if on_progress is not None:
                overall = (position + event.fraction) / len(RECIPE_STAGES)
                on_progress(dataclasses.replace(event, stage=stage, fraction=overall))

        result = fit(
            config=dataclasses.replace(config, model_kind=stage, epochs=per_stage[position]),
            model_config=model_config,
            train_items=train_items,
            val_items=val_items,
            checkpoint_dir=work_dir / stage,
            cache_dir=cache_dir,
            resume=resume,
            init_state=_stage_init_state(stage, results, video_weights_path),
            on_progress=progress,
            should_stop=should_stop,
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
