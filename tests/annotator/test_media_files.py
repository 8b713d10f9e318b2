"""tests.builders.write_mp4, the tiny generated clips (H.264 + AAC MP4) of the media,
spectrogram, page and browser tests, writes what those tests expect."""

import av

from tests.builders import write_mp4


def test_write_mp4_has_h264_video_and_aac_audio(tmp_path):
    path = write_mp4(tmp_path / "clip.mp4")

    with av.open(str(path)) as container:
        codecs = sorted((s.type, s.codec_context.name) for s in container.streams)
        duration = container.duration / av.time_base

    assert codecs == [("audio", "aac"), ("video", "h264")]
    assert 1.9 <= duration <= 2.2


def test_write_mp4_without_audio_has_only_video(tmp_path):
    path = write_mp4(tmp_path / "silent.mp4", audio=False)

    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["video"]
