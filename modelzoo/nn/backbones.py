"""Video and audio trunks. Each maps its input to per-step features with the same T.

Video trunks: (B, 3, T, H, W) -> map (B, D, T, h, w); the model averages the map over space for
z^V (B, T, D) and keeps it for localisation.
Audio trunks: log-mel (B, 1, n_mels, 10T) -> z^A (B, T, D).

Names are looked up in ``VIDEO_BACKBONES`` / ``AUDIO_BACKBONES``; each entry builds the trunk
from a ``ModelConfig``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torchvision.models.video import mc3_18

from modelzoo.nn.config import ModelConfig, Registry

logger = logging.getLogger(__name__)

VIDEO_BACKBONES: Registry[Callable[[ModelConfig], nn.Module]] = Registry("video backbone")
AUDIO_BACKBONES: Registry[Callable[[ModelConfig], nn.Module]] = Registry("audio backbone")


def _conv_bn_relu3d(
    cin: int,
    cout: int,
    kernel: tuple[int, int, int],
    stride: tuple[int, int, int],
    padding: tuple[int, int, int],
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
    )


def _conv_bn_relu2d(
    cin: int,
    cout: int,
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _check_time_kept(video: torch.Tensor, out: torch.Tensor, name: str) -> None:
    if out.shape[2] != video.shape[2]:
        raise RuntimeError(f"{name} changed the time axis: {video.shape[2]} -> {out.shape[2]}")


class MC3Trunk(nn.Module):
    """torchvision's ``mc3_18`` without pooling and fc: stem + layer1..layer4.

    (B, 3, T, 112, 112) -> (B, 512, T, 7, 7). Only layer1 is 3D; torchvision gives every layer a
    time stride of 1, which ``keep_time_axis`` checks (and would force) so the T axis is never
    shortened. Parameter names match torchvision's (``stem.0.weight``, ``layer1.0.conv1.0.weight``
    ...), so its state_dict loads directly.
    """

    out_dim = 512
    spatial_stride = 16

    def __init__(self) -> None:
        super().__init__()
        net = mc3_18(weights=None)
        self.stem = net.stem
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        keep_time_axis(self)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, 512, T, H/16, W/16)."""
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(video)))))
        _check_time_kept(video, out, "mc3_18")
        return out


def keep_time_axis(module: nn.Module) -> int:
    """Set the time stride of every 3D conv/pool in ``module`` to 1; returns how many changed."""
    changed = 0
    for name, layer in module.named_modules():
        if isinstance(layer, nn.Conv3d) and layer.stride[0] != 1:
            layer.stride = (1, *layer.stride[1:])
            changed += 1
            logger.info("time stride of %s set to 1", name)
        elif isinstance(layer, nn.MaxPool3d | nn.AvgPool3d):
            stride = layer.stride if isinstance(layer.stride, tuple) else (layer.stride,) * 3
            if stride[0] != 1:
                layer.stride = (1, *stride[1:])
                changed += 1
    assert all(m.stride[0] == 1 for m in module.modules() if isinstance(m, nn.Conv3d))
    return changed


def load_mc3_18_weights(trunk: MC3Trunk, path: str | Path) -> None:
    """Load a local torchvision ``mc3_18`` state_dict (e.g. Kinetics-400) into ``trunk``; fc is ignored."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state_dict")
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    try:
        trunk.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path} is not a torchvision mc3_18 state_dict: {exc}") from exc


def mc3_18_init_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A local mc3_18 weights file as a (partial) model state: keys prefixed ``video_backbone.``."""
    trunk = MC3Trunk()
    load_mc3_18_weights(trunk, path)
    return {f"video_backbone.{k}": v for k, v in trunk.state_dict().items()}


class Tiny3DTrunk(nn.Module):
    """A small 3D-conv trunk for the ``tiny`` config: (B, 3, T, H, W) -> (B, D, T, H/8, W/8).

    stem 16ch (3x5x5, space stride 2), a 3D layer 32ch (3x3x3, space stride 2), then two
    space-only layers (1x3x3) to 64ch (space stride 2) and D channels. Time stride 1 throughout.
    """

    spatial_stride = 8

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.out_dim = embed_dim
        self.stem = _conv_bn_relu3d(3, 16, (3, 5, 5), (1, 2, 2), (1, 2, 2))
        self.layer1 = _conv_bn_relu3d(16, 32, (3, 3, 3), (1, 2, 2), (1, 1, 1))
        self.layer2 = _conv_bn_relu3d(32, 64, (1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.layer3 = _conv_bn_relu3d(64, embed_dim, (1, 3, 3), (1, 1, 1), (0, 1, 1))

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, D, T, H/8, W/8)."""
        out = self.layer3(self.layer2(self.layer1(self.stem(video))))
        _check_time_kept(video, out, "tiny3d")
        return out


def _pool_time(stride: int) -> tuple[int, int]:
    """(kernel, padding) in time for a max-pool that divides the length by exactly ``stride``.

    kernel = stride rounded up to odd (overlapping by one frame for even strides), padding = 1
    for even strides, 0 for odd: floor((L + 2p - k) / s) + 1 == L / s whenever s divides L.
    """
    kernel = 2 * (stride // 2) + 1
    return kernel, (kernel - stride + 1) // 2


class AfourasAudioNet(nn.Module):
    """The audio net of Afouras et al. (ECCV 2020), made to keep exactly T steps.

    Input log-mel (B, 1, F=80, L=10T) -> z^A (B, T, D). Layers as (freq, time), each
    conv -> BN -> ReLU:

    ============  ==========================  ======================================
    layer         published                   here (time changes only)
    ============  ==========================  ======================================
    conv1         3x3, stride (2,1), pad 1    same (time stride 1)
    pool1         max (3,1)/(2,1)             same (time stride 1)
    conv2         3x3, pad 1                  same
    pool2         max (3,3)/(2,2)             max (3,k)/(2,s2), time pad p (s2=2: k=3, p=1)
    conv3..conv5  3x3, pad 1                  same
    pool5         max (2,3)/(2,2)             max (2,k)/(2,s5), time pad p (s5=5: k=5, p=0)
    fc6           4x4, no pad                 (4,3), time pad 1 (time kept)
    fc7           1x1                         same, D channels
    ============  ==========================  ======================================

    Time strides (``config.audio_time_strides``): paper (2, 5) -> 1000 / 10 = 100 steps;
    tiny (5, 10) -> 1000 / 50 = 20 steps. Their product must equal L / T, which ``forward``
    checks. The freq kernel of fc6 is whatever frequency size remains (4 for 80 mels).
    """

    def __init__(
        self,
        *,
        n_mels: int,
        channels: tuple[int, int, int, int, int, int],
        time_strides: tuple[int, int],
        embed_dim: int,
    ) -> None:
        super().__init__()
        c1, c2, c3, c4, c5, c6 = channels
        s2, s5 = time_strides
        k2, p2 = _pool_time(s2)
        k5, p5 = _pool_time(s5)
        self.time_stride = s2 * s5
        self.conv1 = _conv_bn_relu2d(1, c1, 3, stride=(2, 1), padding=1)
        self.pool1 = nn.MaxPool2d((3, 1), stride=(2, 1))
        self.conv2 = _conv_bn_relu2d(c1, c2, 3, padding=1)
        self.pool2 = nn.MaxPool2d((3, k2), stride=(2, s2), padding=(0, p2))
        self.conv3 = _conv_bn_relu2d(c2, c3, 3, padding=1)
        self.conv4 = _conv_bn_relu2d(c3, c4, 3, padding=1)
        self.conv5 = _conv_bn_relu2d(c4, c5, 3, padding=1)
        self.pool5 = nn.MaxPool2d((2, k5), stride=(2, s5), padding=(0, p5))
        freq = _freq_after_pools(n_mels)
        self.fc6 = _conv_bn_relu2d(c5, c6, (freq, 3), padding=(0, 1))
        self.fc7 = _conv_bn_relu2d(c6, embed_dim, 1)
        self.out_dim = embed_dim

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, L) -> (B, L / time_stride, D)."""
        length = mel.shape[-1]
        if length % self.time_stride:
            raise ValueError(f"{length} log-mel frames are not a multiple of the time stride {self.time_stride}")
        x = self.pool1(self.conv1(mel))
        x = self.pool2(self.conv2(x))
        x = self.pool5(self.conv5(self.conv4(self.conv3(x))))
        x = self.fc7(self.fc6(x))  # (B, D, 1, T)
        if x.shape[2] != 1 or x.shape[3] != length // self.time_stride:
            raise RuntimeError(
                f"audio net gave {tuple(x.shape)} for {length} frames; expected T={length // self.time_stride}"
            )
        return x.squeeze(2).transpose(1, 2)


def _freq_after_pools(n_mels: int) -> int:
    freq = (n_mels + 2 - 3) // 2 + 1  # conv1
    freq = (freq - 3) // 2 + 1  # pool1
    freq = (freq - 3) // 2 + 1  # pool2
    freq = (freq - 2) // 2 + 1  # pool5
    if freq < 1:
        raise ValueError(f"{n_mels} mel bands are too few for the audio net")
    return freq


@VIDEO_BACKBONES.register("mc3_18")
def _build_mc3_18(config: ModelConfig) -> nn.Module:
    if config.embed_dim != MC3Trunk.out_dim:
        raise ValueError(f"mc3_18 gives D={MC3Trunk.out_dim}; config {config.name} asks for {config.embed_dim}")
    return MC3Trunk()


@VIDEO_BACKBONES.register("tiny3d")
def _build_tiny3d(config: ModelConfig) -> nn.Module:
    return Tiny3DTrunk(config.embed_dim)


@AUDIO_BACKBONES.register("afouras")
def _build_afouras(config: ModelConfig) -> nn.Module:
    return AfourasAudioNet(
        n_mels=config.n_mels,
        channels=(64, 192, 384, 256, 256, 512),
        time_strides=config.audio_time_strides,
        embed_dim=config.embed_dim,
    )


@AUDIO_BACKBONES.register("afouras_tiny")
def _build_afouras_tiny(config: ModelConfig) -> nn.Module:
    return AfourasAudioNet(
        n_mels=config.n_mels,
        channels=(16, 32, 64, 64, 64, 128),
        time_strides=config.audio_time_strides,
        embed_dim=config.embed_dim,
    )


def build_video_backbone(config: ModelConfig) -> nn.Module:
    return VIDEO_BACKBONES[config.video_backbone](config)


def build_audio_backbone(config: ModelConfig) -> nn.Module:
    net = AUDIO_BACKBONES[config.audio_backbone](config)
    if math.prod(config.audio_time_strides) * config.num_frames != config.mel_frames:
        raise ValueError(f"config {config.name}: audio time strides do not map {config.mel_frames} frames to T")
    return net
