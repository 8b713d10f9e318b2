"""Audio features: the log-mel input of the audio net and the onset steps of the onset head.

Log-mel (Afouras et al.): a centred STFT with n_fft 512, a 320-sample periodic Hann window and
hop 160 (reflect padding); the magnitude (not the power) through an 80-band Slaney mel filterbank
from 0 to 8 kHz (librosa's default filters: Slaney scale and area normalisation); then
``log(mel + 1e-20)``. The centred STFT of 10 s gives 1001 frames; the last is dropped so the clip
gives exactly ``config.mel_frames`` = 1000. Computed by torchaudio on whatever device the audio is
on, in float32 whatever autocast says.

Onsets: ``librosa.onset.onset_detect(y, sr, hop_length, units="frames")`` frames (of its
1001-frame envelope) -> time step ``frame // frames_per_step``, clipped to [0, T), unique, sorted.
librosa's peak picking is numba-compiled on first use (~25 s cold); ``warm_onset_detector``
compiles it once per process (numba keeps the result on disk where ``NUMBA_CACHE_DIR`` points,
which the caller sets).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch
import torchaudio

from modelzoo.nn.config import ModelConfig, get_config

LOG_OFFSET = 1e-20

_mel_transforms: dict[tuple[object, ...], torchaudio.transforms.MelSpectrogram] = {}
_mel_lock = threading.Lock()
_warm_lock = threading.Lock()
_warmed = False


def _mel_transform(config: ModelConfig, device: torch.device) -> torchaudio.transforms.MelSpectrogram:
    key: tuple[object, ...] = (config.sample_rate, config.n_fft, config.win_length, config.hop_length)
    key += (config.n_mels, config.f_min, config.f_max, str(device))
    with _mel_lock:
        transform = _mel_transforms.get(key)
        if transform is None:
            transform = torchaudio.transforms.MelSpectrogram(
                sample_rate=config.sample_rate,
                n_fft=config.n_fft,
                win_length=config.win_length,
                hop_length=config.hop_length,
                f_min=config.f_min,
                f_max=config.f_max,
                n_mels=config.n_mels,
                power=1.0,
                center=True,
                pad_mode="reflect",
                norm="slaney",
                mel_scale="slaney",
            ).to(device)
            _mel_transforms[key] = transform
    return transform


def log_mel(audio: torch.Tensor, config: ModelConfig | None = None) -> torch.Tensor:
    """(B, S) waveform -> (B, 1, n_mels, S // hop_length) log-mel, e.g. (B, 1, 80, 1000) for 10 s.

    ``config`` only supplies the STFT/mel parameters (the same in every shipped config; defaults to
    ``paper``).
    """
    config = config or get_config("paper")
    if audio.dim() != 2:
        raise ValueError(f"log_mel expects (B, S) audio, got shape {tuple(audio.shape)}")
    transform = _mel_transform(config, audio.device)
    with torch.autocast(device_type=audio.device.type, enabled=False):
        mel = transform(audio.float())  # (B, n_mels, S // hop + 1)
    mel = mel[..., : audio.shape[-1] // config.hop_length]
    return torch.log(mel + LOG_OFFSET).unsqueeze(1).contiguous()


def onset_steps(wave: np.ndarray, config: ModelConfig) -> list[int]:
    """Time steps (0..T-1, sorted, unique) holding an audio onset of the mono ``wave``."""
    import librosa  # imported lazily: it is slow to import and only data workers need it

    frames = librosa.onset.onset_detect(
        y=np.ascontiguousarray(wave, dtype=np.float32),
        sr=config.sample_rate,
        hop_length=config.hop_length,
        units="frames",
    )
    last = config.num_frames - 1
    return sorted({min(max(int(frame) // config.frames_per_step, 0), last) for frame in frames})


def onset_mask(steps: Sequence[int], num_frames: int) -> torch.Tensor:
    """(T,) bool, True at the given steps."""
    mask = torch.zeros(num_frames, dtype=torch.bool)
    if len(steps):
        index = torch.as_tensor(list(steps), dtype=torch.long)
        if index.min() < 0 or index.max() >= num_frames:
            raise ValueError(f"onset steps {list(steps)} outside [0, {num_frames})")
        mask[index] = True
    return mask


def warm_onset_detector() -> None:
    """Compile librosa's numba kernels once in this process (a no-op after the first call)."""
    global _warmed
    with _warm_lock:
        if _warmed:
            return
        rng = np.random.default_rng(0)
        config = get_config("paper")
        wave = (0.1 * rng.standard_normal(config.sample_rate)).astype(np.float32)
        wave[4000:4100] += 0.9
        import librosa

        librosa.onset.onset_detect(y=wave, sr=config.sample_rate, hop_length=config.hop_length, units="frames")
        _warmed = True
