"""A compact log-mel spectrogram and onset times per clip, for the rater page's strip.

Computed once per clip from its audio track (decoded with PyAV, analysed with librosa) and
cached as JSON under ``ARTIFACTS_DIR/spectrograms/<clip pk>.json``. The cache is keyed by the
media file's size and modification time, so a replaced file is analysed again.

The JSON carries the spectrogram as base64 of uint8 values, column by column
(``n_columns`` x ``n_mels``, low frequencies first), 0 = quiet (-80 dB) and 255 = loudest.
"""

import base64
import json
import logging
import os
import tempfile
from pathlib import Path

import av
import numpy as np
from django.conf import settings

from annotator.models import Clip

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
SAMPLE_RATE = 16000
N_MELS = 64
COLUMNS_PER_SECOND = 10
N_FFT = 2048
DB_RANGE = 80.0


class SpectrogramError(Exception):
    """The clip's media file cannot be read; the message says why."""


def spectrogram_cache_path(*, clip: Clip) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "spectrograms" / f"{clip.pk}.json"


def spectrogram_for_clip(*, clip: Clip, media_path: Path) -> dict:
    """The clip's spectrogram document, from the cache when the file has not changed."""
    try:
        stat = media_path.stat()
    except OSError as exc:
        raise SpectrogramError(f"cannot read {media_path.name}: {exc.strerror}") from exc
    source = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache_path = spectrogram_cache_path(clip=clip)
    cached = _read_cache(cache_path)
    if cached is not None and cached.get("source") == source and cached.get("version") == FORMAT_VERSION:
        return cached
    document = spectrogram_compute(media_path=media_path)
    document["source"] = source
    _write_cache(cache_path, document)
    return document


def spectrogram_compute(*, media_path: Path) -> dict:
    """Analyse one media file: log-mel columns and onset times (seconds)."""
    wave = audio_decode(media_path=media_path, sample_rate=SAMPLE_RATE)
    if wave is None or wave.size == 0:
        return _document(has_audio=False, duration=0.0, columns=np.zeros((0, N_MELS), np.uint8), onsets=[])
    import librosa  # heavy import (numba): only where the analysis runs

    hop_length = SAMPLE_RATE // COLUMNS_PER_SECOND
    mel = librosa.feature.melspectrogram(
        y=wave, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=hop_length, n_mels=N_MELS, fmax=SAMPLE_RATE / 2
    )
    columns = quantise_db(librosa.power_to_db(mel, ref=np.max, top_db=DB_RANGE)).T
    onsets = librosa.onset.onset_detect(y=wave, sr=SAMPLE_RATE, units="time", backtrack=False)
    return _document(
        has_audio=True,
        duration=wave.size / SAMPLE_RATE,
        columns=columns,
        onsets=[round(float(t), 3) for t in onsets],
    )


def quantise_db(db: np.ndarray) -> np.ndarray:
    """Decibels relative to the maximum (-DB_RANGE..0) to uint8 (0..255)."""
    scaled = (np.clip(db, -DB_RANGE, 0.0) + DB_RANGE) * (255.0 / DB_RANGE)
    return np.rint(scaled).astype(np.uint8)


def audio_decode(*, media_path: Path, sample_rate: int) -> np.ndarray | None:
    """The first audio stream as mono float32 at `sample_rate`; None when there is none."""
    try:
        container = av.open(str(media_path))
    except (av.FFmpegError, OSError) as exc:
        raise SpectrogramError(f"cannot open {media_path.name}: {exc}") from exc
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            raise SpectrogramError(f"cannot decode the audio of {media_path.name}: {exc}") from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def spectrogram_columns(document: dict) -> np.ndarray:
    """Decode a document's columns back to an (n_columns, n_mels) uint8 array."""
    raw = base64.b64decode(document["data"])
    return np.frombuffer(raw, dtype=np.uint8).reshape(document["n_columns"], document["n_mels"])


def _document(*, has_audio: bool, duration: float, columns: np.ndarray, onsets: list[float]) -> dict:
    return {
        "version": FORMAT_VERSION,
        "has_audio": has_audio,
        "sample_rate": SAMPLE_RATE,
        "n_mels": N_MELS,
        "columns_per_second": COLUMNS_PER_SECOND,
        "n_columns": int(columns.shape[0]),
        "duration": round(float(duration), 3),
        "db_range": DB_RANGE,
        "data": base64.b64encode(np.ascontiguousarray(columns, dtype=np.uint8).tobytes()).decode("ascii"),
        "onsets": onsets,
    }


def _read_cache(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        logger.warning("ignoring unreadable spectrogram cache %s", path)
        return None


def _write_cache(path: Path, document: dict) -> None:
    """Write atomically, so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, separators=(",", ":"))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
