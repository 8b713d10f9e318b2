"""Configs, registries, trunk and model shapes, gradients, loss."""

import dataclasses

import pytest
import torch
from torch import nn
from torchvision.models.video import mc3_18

from modelzoo.nn.backbones import (
    AUDIO_BACKBONES,
    VIDEO_BACKBONES,
    AfourasAudioNet,
    MC3Trunk,
    keep_time_axis,
    mc3_18_init_state,
)
from modelzoo.nn.config import CONFIGS, ModelConfig, Registry, get_config
from modelzoo.nn.model import BASELINE_KINDS, HEAD_NAMES, MODEL_KINDS, MODELS, build_model, multi_head_loss

TINY = get_config("tiny")


def tiny_inputs(config: ModelConfig, batch: int = 2, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    video = torch.randn(batch, 3, config.num_frames, config.frame_size, config.frame_size, generator=gen)
    mel = torch.randn(batch, 1, config.n_mels, config.mel_frames, generator=gen)
    onsets = torch.zeros(batch, config.num_frames, dtype=torch.bool)
    onsets[0, [1, 4]] = True  # the second clip has none: the onset head falls back
    return video, mel, onsets


def test_registry_refuses_duplicate_names_and_lists_known_ones():
    registry: Registry[int] = Registry("thing")
    registry.add("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.add("a", 2)
    with pytest.raises(KeyError, match="known: a"):
        registry["b"]


@pytest.mark.parametrize(
    "registry", [CONFIGS, VIDEO_BACKBONES, AUDIO_BACKBONES, MODELS], ids=["configs", "video", "audio", "models"]
)
def test_shipped_registries_refuse_re_registration(registry):
    name = registry.names()[0]
    with pytest.raises(ValueError):
        registry.add(name, registry[name])


def test_paper_config_maps_1000_mel_frames_to_100_steps():
    paper = get_config("paper")
    assert (paper.num_frames, paper.frame_size, paper.resize_short, paper.top_k, paper.embed_dim) == (
        100,
        112,
        128,
        10,
        512,
    )
    assert paper.mel_frames == 1000 and paper.frames_per_step == 10
    assert paper.audio_time_strides == (2, 5)
    assert TINY.mel_frames == 1000 and TINY.frames_per_step * TINY.num_frames == 1000


def test_config_rejects_time_strides_that_do_not_give_t_steps():
    with pytest.raises(ValueError, match="multiply to"):
        dataclasses.replace(TINY, audio_time_strides=(2, 5))
    with pytest.raises(ValueError, match="top_k"):
        dataclasses.replace(TINY, top_k=TINY.num_frames + 1)


def test_config_round_trips_through_a_plain_dict():
    assert ModelConfig.from_dict(get_config("paper").to_dict()) == get_config("paper")
    with pytest.raises(ValueError, match="unknown config fields"):
        ModelConfig.from_dict({**TINY.to_dict(), "extra": 1})


def test_mc3_18_from_torchvision_keeps_time_and_the_trunk_checks_it():
    assert keep_time_axis(mc3_18()) == 0
    trunk = MC3Trunk()
    assert all(m.stride[0] == 1 for m in trunk.modules() if isinstance(m, nn.Conv3d))


def test_keep_time_axis_overrides_a_time_stride():
    module = nn.Sequential(nn.Conv3d(3, 4, 3, stride=(2, 2, 2), padding=1))
    assert keep_time_axis(module) == 1
    assert module(torch.zeros(1, 3, 6, 8, 8)).shape == (1, 4, 6, 4, 4)


def test_mc3_18_weights_file_loads_without_its_fc(tmp_path):
    source = mc3_18()
    path = tmp_path / "mc3_18.pth"
    torch.save(source.state_dict(), path)
    state = mc3_18_init_state(path)
    assert "video_backbone.fc.weight" not in state
    assert torch.equal(state["video_backbone.layer4.1.conv2.0.weight"], source.layer4[1].conv2[0].weight)
    torch.save({"something": torch.zeros(1)}, tmp_path / "wrong.pth")
    with pytest.raises(ValueError, match="not a torchvision mc3_18"):
        mc3_18_init_state(tmp_path / "wrong.pth")


def test_audio_net_with_paper_strides_gives_exactly_t_steps():
    net = AfourasAudioNet(n_mels=80, channels=(4, 4, 4, 4, 4, 4), time_strides=(2, 5), embed_dim=8)
    assert net(torch.zeros(1, 1, 80, 1000)).shape == (1, 100, 8)
    assert net(torch.zeros(1, 1, 80, 200)).shape == (1, 20, 8)
    with pytest.raises(ValueError, match="not a multiple"):
        net(torch.zeros(1, 1, 80, 995))


@pytest.mark.parametrize("video_name", VIDEO_BACKBONES.names())
@pytest.mark.parametrize("audio_name", AUDIO_BACKBONES.names())
def test_every_backbone_pair_gives_t_steps_of_d(video_name, audio_name):
    dim = 512 if video_name == "mc3_18" else 32
    config = dataclasses.replace(
        TINY, video_backbone=video_name, audio_backbone=audio_name, embed_dim=dim, frame_size=32, resize_short=32
    )
    model = build_model(config, num_classes=3).eval()
    video, mel, _ = tiny_inputs(config, batch=1)
    with torch.no_grad():
        features = model.forward_features(video, mel)
    assert features.z_v.shape == (1, config.num_frames, dim)
    assert features.z_a.shape == (1, config.num_frames, dim)
    assert features.v_map.shape[:3] == (1, dim, config.num_frames)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_tiny_model_outputs_logits_per_head_without_nan(kind):
    model = build_model(TINY, num_classes=7, kind=kind)
    video, mel, onsets = tiny_inputs(TINY)
    logits = model(video, mel, onsets)
    expected = HEAD_NAMES if kind == "event_heads" else (kind,)
    assert tuple(logits) == expected
    for out in logits.values():
        assert out.shape == (2, 7)
        assert torch.isfinite(out).all()


def test_event_head_model_features_have_the_documented_shapes():
    model = build_model(TINY, num_classes=3)
    video, mel, _ = tiny_inputs(TINY)
    features = model.forward_features(video, mel)
    assert features.z_v.shape == (2, 20, 64)
    assert features.z_a.shape == (2, 20, 64)
    assert features.v_map.shape == (2, 64, 20, 6, 6)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_parameter_gets_a_gradient(kind):
    model = build_model(TINY, num_classes=4, kind=kind).train()
    video, mel, onsets = tiny_inputs(TINY, batch=3)
    onsets[1, 7] = True
    loss = multi_head_loss(model(video, mel, onsets), torch.tensor([0, 1, 3]))
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_baselines_use_only_their_modality():
    assert not hasattr(build_model(TINY, num_classes=3, kind="audio_only"), "video_backbone")
    assert not hasattr(build_model(TINY, num_classes=3, kind="vision_only"), "audio_backbone")
    assert set(BASELINE_KINDS) | {"event_heads"} == set(MODELS.names())


def test_loss_is_the_sum_of_the_heads_cross_entropies():
    logits = {"a": torch.tensor([[2.0, 0.0]]), "b": torch.tensor([[0.0, 1.0]])}
    labels = torch.tensor([0])
    expected = torch.nn.functional.cross_entropy(logits["a"], labels) + torch.nn.functional.cross_entropy(
        logits["b"], labels
    )
    assert multi_head_loss(logits, labels).item() == pytest.approx(expected.item())


def test_unknown_model_kind_names_the_known_kinds():
    with pytest.raises(KeyError, match="naive_av"):
        build_model(TINY, num_classes=3, kind="nope")


@pytest.mark.slow
def test_paper_model_single_forward_shapes():
    paper = get_config("paper")
    model = build_model(paper, num_classes=5).eval()
    video = torch.randn(1, 3, 100, 112, 112)
    mel = torch.randn(1, 1, 80, 1000)
    onsets = torch.zeros(1, 100, dtype=torch.bool)
    onsets[0, [3, 50]] = True
    with torch.inference_mode():
        features = model.forward_features(video, mel)
        logits = model.classify(features, onsets)
    assert features.v_map.shape == (1, 512, 100, 7, 7)
    assert features.z_v.shape == (1, 100, 512)
    assert features.z_a.shape == (1, 100, 512)
    assert {name: tuple(out.shape) for name, out in logits.items()} == {name: (1, 5) for name in HEAD_NAMES}
    assert all(torch.isfinite(out).all() for out in logits.values())
