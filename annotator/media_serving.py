"""Serve clip media files with HTTP Range support, and find them safely on disk.

Browsers fetch video in pieces (``Range: bytes=...``) to seek; this answers with 206 Partial
Content, streaming the file in chunks so a large clip is never held in memory. Who may fetch
which clip is decided by the caller (the views, through annotator's selectors); this module
only guarantees that a path never escapes its root folder, for serving, import and the
model code alike (`path_inside`).
"""

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

from annotator.models import Clip, ClipEvidence, Dataset, StudyClip

CHUNK_SIZE = 64 * 1024
# mimetypes misses a few media types on minimal systems.
EXTRA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".ogv": "video/ogg",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".png": "image/png",
}
# ASCII digits only (\d takes any script's digits). A position of more digits than
# POSITION_DIGITS lies past any file, so it is never converted: int() of thousands of digits
# costs time, and past 4,300 it raises.
_RANGE_RE = re.compile(r"^\s*([0-9]*)\s*-\s*([0-9]*)\s*$")
POSITION_DIGITS = 18
PAST_ANY_FILE = 10**POSITION_DIGITS


class MediaPathError(Exception):
    """The file is missing or lies outside the folder it must be in."""


class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def path_inside(root: Path, relative: str) -> Path:
    """`root/relative` with every link followed, refusing what leads outside root (``..``,
    an absolute path, a symlink to elsewhere) and what cannot be resolved (a link loop).

    The one rule for a clip's media file: at import (annotator.importers.media), in
    training and inference (modelzoo.selectors) and when served, so a file refused here
    is never read."""
    if not relative:
        raise MediaPathError("no file path recorded")
    try:
        root = root.resolve()
        path = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL byte
        raise MediaPathError(f"{relative!r} cannot be resolved: {exc}") from exc
    if not path.is_relative_to(root):
        raise MediaPathError(f"{relative!r} lies outside {root}")
    return path


def resolve_inside(root: Path, relative: str) -> Path:
    """`path_inside`, and it must be a file."""
    path = path_inside(root, relative)
    if not path.is_file():
        raise MediaPathError(f"{relative!r} is not a file")
    return path


def dataset_media_root(dataset: Dataset) -> Path:
    """The folder a dataset's media paths are relative to: its media_root (a relative one
    is under MEDIA_ROOT), or MEDIA_ROOT."""
    media_root = Path(settings.MEDIA_ROOT)
    if not dataset.media_root:
        return media_root
    root = Path(dataset.media_root)
    return root if root.is_absolute() else media_root / root


def dataset_media_path(*, dataset: Dataset, media_path: str) -> Path:
    """A clip's media file as training and inference read it: `path_inside` the dataset's
    media root. It may have gone since the import; decoding reports that clip by clip."""
    return path_inside(dataset_media_root(dataset), media_path)


def clip_media_file(clip: Clip) -> Path:
    return resolve_inside(dataset_media_root(clip.dataset), clip.media_path)


def media_file(relative: str) -> Path:
    """A generated artefact (e.g. a heatmap) under MEDIA_ROOT."""
    return resolve_inside(Path(settings.MEDIA_ROOT), relative)


def clip_heatmap_file(study_clip: StudyClip) -> Path:
    """The heatmap image the study's proposal set stores for the clip, under MEDIA_ROOT."""
    relative = (
        ClipEvidence.objects.filter(proposal_set_id=study_clip.study.proposal_set_id, clip_id=study_clip.clip_id)
        .values_list("heatmap_path", flat=True)
        .first()
    )
    return media_file(relative or "")


def content_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in EXTRA_TYPES:
        return EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def parse_range(header: str, size: int) -> ByteRange | None:
    """The one byte range a ``Range`` header asks for, clamped to the file.

    None means "send the whole file" (no header, another unit, or several ranges, which the
    standard lets a server answer with the full content). Raises RangeNotSatisfiable when the
    range lies beyond the end of the file or is malformed.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE_RE.match(spec)
    if not match or match.group(0).strip() == "-":
        raise RangeNotSatisfiable(header)
    first, last = (_position(digits) for digits in match.groups())
    if first is None:  # suffix: the last N bytes
        if last == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(size - last, 0), size - 1)
    start = first
    end = size - 1 if last is None else last
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, size - 1))


def _position(digits: str) -> int | None:
    """A byte position of a Range header; None when absent; PAST_ANY_FILE when longer than any file."""
    if not digits:
        return None
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= POSITION_DIGITS else PAST_ANY_FILE


def iter_file(path: Path, start: int, length: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def ranged_file_response(request: HttpRequest, path: Path, *, content_type: str | None = None) -> HttpResponse:
    """The file, whole (200) or the asked range (206), 416 when unsatisfiable, 304 when unchanged."""
    stat = path.stat()
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    last_modified = http_date(stat.st_mtime)
    if _not_modified(request, etag, int(stat.st_mtime)):
        response = HttpResponse(status=304)
        _common_headers(response, etag, last_modified)
        return response

    header = request.headers.get("Range", "")
    if header and request.headers.get("If-Range") not in (None, etag, last_modified):
        header = ""  # the file changed since the client's earlier piece: send it all
    try:
        byte_range = parse_range(header, size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        _common_headers(response, etag, last_modified)
        return response

    if byte_range is None:
        response = StreamingHttpResponse(iter_file(path, 0, size), status=200)
        response["Content-Length"] = str(size)
    else:
        response = StreamingHttpResponse(iter_file(path, byte_range.start, byte_range.length), status=206)
        response["Content-Length"] = str(byte_range.length)
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    response["Content-Type"] = content_type or content_type_for(path)
    _common_headers(response, etag, last_modified)
    return response


def _common_headers(response: HttpResponse, etag: str, last_modified: str) -> None:
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    # Media is per-user (access checked per request): browsers may cache, shared caches not.
    response["Cache-Control"] = "private, max-age=3600"


def _not_modified(request: HttpRequest, etag: str, mtime: int) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and mtime <= since
