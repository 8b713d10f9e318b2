"""Log-mel against a direct numpy computation; onset steps from clicks at known times."""

import numpy as np
import pytest
import torch

from modelzoo.nn import features
from modelzoo.nn.config import get_config
from modelzoo.nn.features import log_mel, onset_mask, onset_steps

from .conftest import clicks

PAPER = get_config("paper")
TINY = get_config("tiny")


def slaney_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    logstep = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / logstep, linear)


def slaney_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(logstep * (mel - 15.0)), mel * 200.0 / 3)


def numpy_log_mel(wave, sr=16000, n_fft=512, win=320, hop=160, n_mels=80, fmax=8000.0):
    """Centred, reflect-padded STFT with a periodic Hann window centred in n_fft; |X|; Slaney
    triangles with area normalisation; log(x + 1e-20); last frame dropped."""
    padded = np.pad(wave.astype(np.float64), n_fft // 2, mode="reflect")
    window = np.zeros(n_fft)
    left = (n_fft - win) // 2
    window[left : left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    count = 1 + (padded.shape[0] - n_fft) // hop
    frames = np.stack([padded[i * hop : i * hop + n_fft] * window for i in range(count)])
    magnitude = np.abs(np.fft.rfft(frames, axis=1))  # (frames, n_fft/2+1)
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = slaney_hz(np.linspace(slaney_mel(0.0), slaney_mel(fmax), n_mels + 2))
    bank = np.zeros((n_mels, freqs.shape[0]))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        bank[m] = np.maximum(0, np.minimum(rising, falling)) * 2.0 / (hi - lo)
    mel = bank @ magnitude.T  # (n_mels, frames)
    return np.log(mel + 1e-20)[:, : wave.shape[0] // hop]


def test_log_mel_of_ten_seconds_has_1000_frames_of_80_bands():
    audio = torch.randn(2, PAPER.num_samples) * 0.1
    out = log_mel(audio, PAPER)
    assert out.shape == (2, 1, 80, 1000)
    assert torch.isfinite(out).all()


def test_log_mel_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(0)
    t = np.arange(3200) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(3200)).astype(np.float32)
    expected = numpy_log_mel(wave)
    got = log_mel(torch.from_numpy(wave)[None], PAPER)[0, 0].double().numpy()
    assert got.shape == expected.shape == (80, 20)
    np.testing.assert_allclose(got, expected, atol=2e-3, rtol=1e-3)


def test_log_mel_of_silence_is_log_of_the_offset():
    out = log_mel(torch.zeros(1, 1600), PAPER)
    assert torch.allclose(out, torch.full_like(out, float(np.log(np.float32(1e-20)))))


def test_log_mel_is_batched_elementwise():
    audio = torch.randn(3, 4800)
    batched = log_mel(audio, PAPER)
    single = log_mel(audio[1:2], PAPER)
    assert torch.allclose(batched[1:2], single, atol=1e-5)


def test_onset_frames_map_to_steps_clipped_and_unique(monkeypatch):
    import librosa

    monkeypatch.setattr(librosa.onset, "onset_detect", lambda **kwargs: np.array([0, 9, 10, 15, 999, 1000]))
    assert onset_steps(np.zeros(160000, dtype=np.float32), PAPER) == [0, 1, 99]
    assert onset_steps(np.zeros(160000, dtype=np.float32), TINY) == [0, 19]


@pytest.mark.parametrize(("config", "expected"), [(PAPER, [10, 30, 75]), (TINY, [2, 6, 15])])
def test_clicks_at_known_times_give_the_expected_steps(config, expected):
    wave = clicks([1.05, 3.05, 7.55])
    assert onset_steps(wave, config) == expected


def test_silence_has_no_onset():
    assert onset_steps(np.zeros(16000, dtype=np.float32), PAPER) == []


def test_onset_mask_marks_the_steps():
    assert onset_mask([0, 3], 5).tolist() == [True, False, False, True, False]
    assert not onset_mask([], 4).any()
    with pytest.raises(ValueError):
        onset_mask([5], 5)


def test_warm_onset_detector_runs_once(monkeypatch):
    calls = []
    import librosa

    monkeypatch.setattr(features, "_warmed", False)
    monkeypatch.setattr(librosa.onset, "onset_detect", lambda **kwargs: calls.append(1) or np.array([]))
    features.warm_onset_detector()
    features.warm_onset_detector()
    assert calls == [1]
