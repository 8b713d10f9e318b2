"""A tiny fit on generated clips: checkpoint, stop, resume, the three-stage recipe, predict."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from modelzoo.nn.checkpoint import load_checkpoint
from modelzoo.nn.config import TrainConfig, get_config
from modelzoo.nn.events import EpochEnd, StepProgress, TrainEvent
from modelzoo.nn.infer import predict
from modelzoo.nn.model import HEAD_NAMES
from modelzoo.nn.train import cosine_lr, fit, train_recipe

from .conftest import clicks, tone, write_clip

TINY = get_config("tiny")
COLOURS = [(220, 40, 40), (40, 220, 40), (40, 40, 220)]
PITCHES = [300.0, 700.0, 1500.0]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[tuple[str, int]]:
    """Six 10 s clips, two per class: class c shows colour c and sounds pitch c (with two clicks)."""
    root = tmp_path_factory.mktemp("clips")
    items = []
    for number in range(6):
        label = number % 3
        colour = np.array(COLOURS[label], dtype=np.uint8)

        def frame(i, colour=colour, number=number):
            img = np.full((48, 64, 3), 30, dtype=np.uint8)
            x = (4 * i + 7 * number) % 40
            img[12:36, x : x + 20] = colour
            return img

        audio = tone(PITCHES[label], amplitude=0.2) + clicks([1.3 + number, 6.2])
        path = write_clip(root / f"c{number}.mp4", fps=4, frame_fn=frame, audio=audio)
        items.append((str(path), label))
    return items


@pytest.fixture(scope="module")
def feature_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("features")


def _train_config(**overrides) -> TrainConfig:
    values = {"model_kind": "event_heads", "num_classes": 3, "epochs": 1, "batch_size": 3, "lr": 1e-3} | overrides
    return TrainConfig(**values)


def test_fit_checkpoints_each_epoch_stops_on_request_and_resumes_at_epoch_two(clips, feature_cache, tmp_path):
    events: list[TrainEvent] = []

    def stop_once_epoch_two_starts() -> bool:
        return any(isinstance(e, StepProgress) and e.epoch == 2 for e in events)

    config = _train_config(epochs=2, batch_size=2)
    common = dict(
        config=config,
        model_config=TINY,
        train_items=clips[:4],
        val_items=clips[4:],
        checkpoint_dir=tmp_path / "run",
        cache_dir=feature_cache,
    )
    first = fit(**common, resume=False, on_progress=events.append, should_stop=stop_once_epoch_two_starts)
    assert first.stopped
    assert [row["epoch"] for row in first.metrics_per_epoch] == [1]
    assert first.checkpoint_path == tmp_path / "run" / "last.pt"
    saved = load_checkpoint(first.checkpoint_path)
    assert saved["epoch"] == 1 and saved["model_kind"] == "event_heads"
    assert set(saved) >= {"model", "optimizer", "config", "train_config", "num_classes", "metrics"}
    assert TrainConfig.from_dict(saved["train_config"]) == config
    # 2 steps an epoch, 4 in all: the schedule is at step 2 of 4 when epoch one is saved
    assert saved["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cosine_lr(1e-3, 2, 4))
    epoch_one = [e for e in events if e.epoch == 1]
    assert [e.step for e in epoch_one if isinstance(e, StepProgress)] == [1, 2]
    assert isinstance(epoch_one[-1], EpochEnd) and epoch_one[-1].fraction == pytest.approx(0.5)
    assert set(epoch_one[-1].metrics["val"]["accuracy"]) == set(HEAD_NAMES)

    resumed_events: list[TrainEvent] = []
    second = fit(**common, resume=True, on_progress=resumed_events.append)
    assert not second.stopped
    assert {e.epoch for e in resumed_events} == {2}
    assert [row["epoch"] for row in second.metrics_per_epoch] == [1, 2]
    assert resumed_events[-1].fraction == pytest.approx(1.0)
    resumed = load_checkpoint(second.checkpoint_path)
    assert resumed["epoch"] == 2
    assert resumed["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cosine_lr(1e-3, 4, 4))
    for row in second.metrics_per_epoch:
        assert np.isfinite(row["train_loss"])

    with pytest.raises(ValueError, match="cannot resume"):
        fit(**{**common, "config": dataclasses.replace(config, num_classes=4)}, resume=True)

    predictions = predict(
        checkpoint_path=second.checkpoint_path,
        items=[clips[0][0], str(tmp_path / "missing.mp4"), clips[4][0]],
        device="cpu",
        label_indices=[clips[0][1], None, clips[4][1]],
        batch_size=2,
        with_heatmaps=True,
    )
    assert len(predictions) == 3
    ok, failed, other = predictions
    assert failed.error and failed.vote is None and failed.heads == {}
    for prediction in (ok, other):
        assert prediction.error is None
        assert set(prediction.heads) == set(HEAD_NAMES)
        for top in prediction.heads.values():
            assert len(top) == 3
            assert sum(p for _, p in top) == pytest.approx(1.0, abs=1e-4)
        assert prediction.vote in range(3)
        assert 1 <= len(prediction.union) <= 5
        assert prediction.event_type in HEAD_NAMES
        assert set(prediction.label_probs) == set(HEAD_NAMES)
        assert len(prediction.instant_steps) == TINY.top_k
        assert prediction.onset_steps and all(0 <= s < TINY.num_frames for s in prediction.onset_steps)
        assert set(prediction.modality_confidence) == {"visual", "audio", "audio_visual"}
        assert prediction.heatmap.shape == (20, 6, 6)
        assert prediction.flags == []
    assert ok.path == clips[0][0]


def test_recipe_trains_three_stages_and_initialises_the_last_from_both_trunks(clips, feature_cache, tmp_path):
    stages_seen: list[str] = []
    result = train_recipe(
        config=_train_config(),
        model_config=TINY,
        train_items=clips,
        val_items=[],
        work_dir=tmp_path / "recipe",
        cache_dir=feature_cache,
        on_progress=lambda e: stages_seen.append(e.stage),
    )
    assert not result.stopped
    assert list(result.stages) == ["audio_only", "vision_only", "event_heads"]
    assert list(dict.fromkeys(stages_seen)) == ["audio_only", "vision_only", "event_heads"]
    assert load_checkpoint(result.checkpoint_path)["model_kind"] == "event_heads"

    predictions = predict(
        checkpoint_path=result.stages["audio_only"].checkpoint_path, items=[clips[1][0]], device="cpu"
    )
    assert set(predictions[0].heads) == {"audio_only"}
    assert predictions[0].heatmap is None and predictions[0].instant_steps == []
    assert set(predictions[0].modality_confidence) == {"audio"}


def test_recipe_stage_three_starts_from_the_trained_trunks(clips, feature_cache, tmp_path, monkeypatch):
    from modelzoo.nn import train

    seen: dict[str, dict] = {}
    real_fit = train.fit

    def recording_fit(**kwargs):
        seen[kwargs["config"].model_kind] = kwargs["init_state"]
        return real_fit(**kwargs)

    monkeypatch.setattr(train, "fit", recording_fit)
    result = train_recipe(
        config=_train_config(),
        model_config=TINY,
        train_items=clips[:3],
        val_items=[],
        work_dir=tmp_path / "recipe",
        cache_dir=feature_cache,
    )
    assert seen["audio_only"] is None and seen["vision_only"] is None
    audio_state = load_checkpoint(result.stages["audio_only"].checkpoint_path)["model"]
    video_state = load_checkpoint(result.stages["vision_only"].checkpoint_path)["model"]
    init = seen["event_heads"]
    assert {k.split(".")[0] for k in init} == {"audio_backbone", "video_backbone"}
    assert torch.equal(init["audio_backbone.fc7.0.weight"], audio_state["audio_backbone.fc7.0.weight"])
    assert torch.equal(init["video_backbone.layer3.0.weight"], video_state["video_backbone.layer3.0.weight"])


def test_the_learning_rate_decays_on_a_half_cosine_from_the_base_to_near_zero():
    rates = [cosine_lr(3e-3, step, 100) for step in range(1, 101)]
    assert rates[0] == 3e-3
    assert rates[49] == pytest.approx(1.5e-3, rel=0.05)
    assert all(later < earlier for earlier, later in zip(rates, rates[1:], strict=False))
    assert 0 < rates[-1] < 1e-5


def test_train_config_round_trips_through_a_plain_dict():
    config = _train_config(weight_decay=0.0, seed=4, device="cuda:1", num_workers=2)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown config fields"):
        TrainConfig.from_dict({**config.to_dict(), "momentum": 0.9})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"num_classes": 0}, "num_classes must be at least 1"),
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"num_workers": -1}, "num_workers"),
        ({"device": "gpu"}, "not one of cpu"),
        ({"model_kind": ""}, "model_kind"),
    ],
)
def test_train_config_refuses_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        _train_config(**overrides)


def test_recipe_trains_the_event_head_model_only(tmp_path):
    with pytest.raises(ValueError, match="recipe trains the event_heads model"):
        train_recipe(
            config=_train_config(model_kind="naive_av"),
            model_config=TINY,
            train_items=[("a.mp4", 0)],
            val_items=[],
            work_dir=tmp_path,
        )
