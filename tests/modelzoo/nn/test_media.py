"""Decoding generated MP4 files (H.264 + AAC written by PyAV in the test)."""

import numpy as np
import pytest
import torch

from modelzoo.nn.config import get_config
from modelzoo.nn.media import MediaError, decode_clip, decode_clip_raw

from .conftest import tone

TINY = get_config("tiny")


def grey_levels(video: torch.Tensor) -> list[int]:
    """Mean value of each frame of a uint8 (3, T, H, W) clip."""
    return [round(float(v)) for v in video.float().mean(dim=(0, 2, 3))]


def test_frames_are_the_nearest_to_each_step_centre(clip_writer):
    # 8 fps: frame k shows grey 10 + 3k; step i of T=20 is centred at 0.25 + 0.5 i s = frame 2 + 4 i
    path = clip_writer(fps=8, audio=tone(440))
    clip = decode_clip_raw(path, TINY)
    assert clip.video.shape == (3, 20, 48, 48)
    assert clip.video.dtype == torch.uint8
    expected = [10 + 3 * (2 + 4 * i) for i in range(20)]
    assert np.allclose(grey_levels(clip.video), expected, atol=1.5)
    assert clip.flags == frozenset()


def test_audio_is_resampled_to_16k_mono_ten_seconds(clip_writer):
    path = clip_writer(audio=tone(440, sample_rate=44100), sample_rate=44100, layout="stereo")
    clip = decode_clip_raw(path, TINY)
    wave = clip.audio.numpy()
    assert wave.shape == (160000,) and wave.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(wave))
    assert np.argmax(spectrum) * 16000 / wave.shape[0] == pytest.approx(440, abs=1)
    assert np.abs(wave[-1600:]).max() > 0.1  # sound up to the end, not padding


def test_frames_are_resized_centre_cropped_and_normalised(clip_writer):
    # left third red, middle third green, right third blue on a 96x48 frame: the crop keeps green
    def frame(_):
        img = np.zeros((48, 96, 3), dtype=np.uint8)
        img[:, :32, 0] = 255
        img[:, 32:64, 1] = 255
        img[:, 64:, 2] = 255
        return img

    path = clip_writer(size=(96, 48), frame_fn=frame, audio=tone(300))
    raw = decode_clip_raw(path, TINY)
    centre = raw.video[:, 0, 24, 24].tolist()
    assert centre[1] > 200 and centre[0] < 60 and centre[2] < 60
    normalised = decode_clip(path, TINY).video
    expected = (raw.video.float() / 255 - torch.tensor(TINY.video_mean).view(3, 1, 1, 1)) / torch.tensor(
        TINY.video_std
    ).view(3, 1, 1, 1)
    assert torch.allclose(normalised, expected, atol=1e-5)


def test_short_clip_repeats_the_last_frame_pads_audio_with_zeros_and_is_flagged(clip_writer):
    path = clip_writer(seconds=4.0, fps=8, audio=tone(440, seconds=4.0))
    clip = decode_clip_raw(path, TINY)
    assert "short" in clip.flags
    levels = grey_levels(clip.video)
    last = 10 + 3 * 31  # the 32nd and last frame
    assert all(abs(level - last) <= 1.5 for level in levels[8:])
    assert clip.audio.shape == (160000,)
    assert np.abs(clip.audio.numpy()[: 3 * 16000]).max() > 0.1
    assert np.abs(clip.audio.numpy()[int(4.2 * 16000) :]).max() == 0


def test_clip_without_audio_track_gets_silence_and_a_flag(clip_writer):
    clip = decode_clip_raw(clip_writer(), TINY)
    assert clip.flags == frozenset({"no_audio"})
    assert clip.audio.shape == (160000,)
    assert float(clip.audio.abs().max()) == 0.0


def test_longer_clip_keeps_the_first_ten_seconds(clip_writer):
    path = clip_writer(seconds=12.0, fps=8, audio=tone(440, seconds=12.0))
    clip = decode_clip_raw(path, TINY)
    assert clip.flags == frozenset()
    assert grey_levels(clip.video)[-1] == pytest.approx(10 + 3 * 78, abs=1.5)


def test_corrupt_file_raises_media_error(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(MediaError, match="broken.mp4"):
        decode_clip(path, TINY)


def test_missing_file_raises_media_error(tmp_path):
    with pytest.raises(MediaError, match="cannot open"):
        decode_clip(tmp_path / "absent.mp4", TINY)


def test_audio_only_file_raises_media_error(tmp_path):
    import av

    path = tmp_path / "sound.m4a"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone(440, seconds=0.1)[None], format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(MediaError, match="no video stream"):
        decode_clip(path, TINY)
