"""MP4 files through PyAV: H.264 (yuv420p) video and, when there is a track, AAC mono audio."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

AUDIO_CHUNK = 1024  # samples per AAC input frame


def encode_mp4(path: Path, video: np.ndarray, audio: np.ndarray | None, *, fps: int, sample_rate: int) -> None:
    """Write (N, H, W, 3) uint8 frames and an (S,) float32 track to ``path`` atomically (temp
    file, then rename), so a reader never sees half a clip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with av.open(str(partial), mode="w", format="mp4") as container:
        video_stream = container.add_stream("libx264", rate=fps)
        video_stream.width = video.shape[2]
        video_stream.height = video.shape[1]
        video_stream.pix_fmt = "yuv420p"
        video_stream.options = {"preset": "ultrafast", "crf": "20"}
        video_stream.codec_context.thread_count = 1  # byte-identical output, parallel across clips
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream("aac", rate=sample_rate)
            audio_stream.layout = "mono"
        for image in video:
            video_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(video_stream.encode(video_frame))
        container.mux(video_stream.encode())
        if audio_stream is not None and audio is not None:
            for start in range(0, audio.shape[0], AUDIO_CHUNK):
                samples = np.ascontiguousarray(audio[None, start : start + AUDIO_CHUNK])
                audio_frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                audio_frame.sample_rate = sample_rate
                audio_frame.pts = start
                container.mux(audio_stream.encode(audio_frame))
            container.mux(audio_stream.encode())
    os.replace(partial, path)
