"""Parsers for clip lists: each turns a file's text into ClipRow or RowError items.

| format          | file                                                       |
| --------------- | ---------------------------------------------------------- |
| `vggsound`      | VGGSound `vggsound.csv`: youtube_id,start,label,split       |
| `vggsound-test` | VGGSound `test.csv` / `AStest.csv`: <id>_<start:06d>.mp4,label |
| `llp`           | LLP/AVVP: header, filename<TAB>event_labels (comma-joined)  |
| `generic`       | documented in docs/generic_csv.md                           |

Parsers never touch the database; label names are resolved by the clips service.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from annotator.importers.readers import Record, csv_records
from annotator.importers.report import ImportInputError, RowError
from annotator.models import Category, Clip

MEDIA_SUFFIXES = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4a", ".wav")
LIMITS = {
    "clip_id": Clip._meta.get_field("clip_id").max_length,
    "youtube_id": Clip._meta.get_field("youtube_id").max_length,
    "split": Clip._meta.get_field("split").max_length,
    "media_path": Clip._meta.get_field("media_path").max_length,
    "label": Category._meta.get_field("name").max_length,
}
GENERIC_REQUIRED = ("clip_id", "labels")
GENERIC_OPTIONAL = ("youtube_id", "start_seconds", "split", "media_path")


@dataclass(frozen=True, slots=True)
class ClipRow:
    line: int
    clip_id: str
    labels: tuple[str, ...]
    youtube_id: str = ""
    start_seconds: float | None = None
    split: str = ""
    media_path: str = ""


ClipReader = Callable[..., Iterator[ClipRow | RowError]]


def _row(
    line: int,
    *,
    clip_id: str,
    labels: tuple[str, ...],
    youtube_id: str = "",
    start_seconds: float | None = None,
    split: str = "",
    media_path: str = "",
) -> ClipRow | RowError:
    if not clip_id:
        return RowError(line, "empty clip id")
    for name, value in (("clip_id", clip_id), ("youtube_id", youtube_id), ("split", split), ("media_path", media_path)):
        if len(value) > LIMITS[name]:
            return RowError(line, f"{name} is longer than {LIMITS[name]} characters")
    if any(len(label) > LIMITS["label"] for label in labels):
        return RowError(line, f"a label is longer than {LIMITS['label']} characters")
    return ClipRow(line, clip_id, labels, youtube_id, start_seconds, split, media_path)


def _records(text: str, *, delimiter: str = ",") -> Iterator[Record | RowError]:
    for record in csv_records(text, delimiter=delimiter):
        yield record if isinstance(record, Record) else RowError(*record)


def clip_rows_vggsound(text: str, *, default_split: str = "") -> Iterator[ClipRow | RowError]:
    """`youtube_id,start,label,split`, no header; clip id `<youtube_id>_<start:06d>`."""
    for record in _records(text):
        if isinstance(record, RowError):
            yield record
            continue
        line, fields = record.line, record.fields
        if len(fields) != 4:
            yield RowError(line, f"expected 4 columns (youtube_id,start,label,split), got {len(fields)}")
            continue
        youtube_id, raw_start, label, split = (value.strip() for value in fields)
        if not youtube_id:
            yield RowError(line, "empty youtube_id")
            continue
        start = _whole_seconds(raw_start)
        if start is None:
            yield RowError(line, f"start {raw_start!r} is not a whole number of seconds")
            continue
        if not label:
            yield RowError(line, "empty label")
            continue
        if not split:
            yield RowError(line, "empty split")
            continue
        yield _row(
            line,
            clip_id=f"{youtube_id}_{start:06d}",
            labels=(label,),
            youtube_id=youtube_id,
            start_seconds=start,
            split=split,
        )


def clip_rows_vggsound_test(text: str, *, default_split: str = "test") -> Iterator[ClipRow | RowError]:
    """`<youtube_id>_<start:06d>.mp4,label`, no header; the clip id is the file name
    without `.mp4`, the YouTube id everything before its last `_`."""
    for record in _records(text):
        if isinstance(record, RowError):
            yield record
            continue
        line, fields = record.line, record.fields
        if len(fields) != 2:
            yield RowError(line, f"expected 2 columns (file name,label), got {len(fields)}")
            continue
        filename, label = (value.strip() for value in fields)
        clip_id = media_suffix_strip(filename)
        parts = vggsound_id_parts(clip_id)
        if parts is None:
            yield RowError(line, f"file name {filename!r} is not <youtube_id>_<start>.mp4")
            continue
        youtube_id, start = parts
        if not label:
            yield RowError(line, "empty label")
            continue
        yield _row(
            line,
            clip_id=clip_id,
            labels=(label,),
            youtube_id=youtube_id,
            start_seconds=start,
            split=default_split,
        )


def clip_rows_llp(text: str, *, default_split: str = "") -> Iterator[ClipRow | RowError]:
    """LLP/AVVP: a `filename<TAB>event_labels` header, then one video a row with its labels
    joined by commas. The YouTube id is `filename[:11]`; the start comes from the
    `<id>_<start>_<end>` form (whole seconds, rounded down: a few LLP starts are fractional)."""
    records = _records(text, delimiter="\t")
    header = next(records, None)
    if header is None:
        return
    if isinstance(header, RowError) or [value.strip().lower() for value in header.fields] != [
        "filename",
        "event_labels",
    ]:
        shown = header.message if isinstance(header, RowError) else "\t".join(header.fields)
        raise ImportInputError(f"an LLP file starts with the header 'filename<TAB>event_labels', not {shown!r}")
    for record in records:
        if isinstance(record, RowError):
            yield record
            continue
        line, fields = record.line, record.fields
        if len(fields) != 2:
            yield RowError(line, f"expected 2 tab-separated columns (filename, event_labels), got {len(fields)}")
            continue
        filename = fields[0].strip()
        labels = tuple(_unique(label.strip() for label in fields[1].split(",") if label.strip()))
        if not labels:
            yield RowError(line, "no event label")
            continue
        yield _row(
            line,
            clip_id=filename,
            labels=labels,
            youtube_id=filename[:11],
            start_seconds=_llp_start(filename),
            split=default_split,
        )


def clip_rows_generic(text: str, *, default_split: str = "") -> Iterator[ClipRow | RowError]:
    """The generic CSV of docs/generic_csv.md."""
    records = _records(text)
    header = next(records, None)
    if header is None:
        return
    if isinstance(header, RowError):
        raise ImportInputError(f"the header row cannot be read: {header.message}")
    columns = [value.strip().lower() for value in header.fields]
    missing = [name for name in GENERIC_REQUIRED if name not in columns]
    if missing:
        raise ImportInputError(
            f"the header row lacks the required column(s) {', '.join(missing)}; it has {', '.join(columns)}"
        )
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise ImportInputError(f"the header row repeats the column(s) {', '.join(duplicated)}")
    for record in records:
        if isinstance(record, RowError):
            yield record
            continue
        if len(record.fields) != len(columns):
            yield RowError(record.line, f"expected {len(columns)} columns as in the header, got {len(record.fields)}")
            continue
        yield _generic_row(
            record.line, dict(zip(columns, (value.strip() for value in record.fields), strict=True)), default_split
        )


def _generic_row(line: int, cells: dict[str, str], default_split: str) -> ClipRow | RowError:
    labels = _generic_labels(cells["labels"])
    if isinstance(labels, str):
        return RowError(line, labels)
    start = None
    raw_start = cells.get("start_seconds", "")
    if raw_start:
        start = _seconds(raw_start)
        if start is None:
            return RowError(line, f"start_seconds {raw_start!r} is not a number of seconds of at least 0")
    media_path = cells.get("media_path", "")
    if media_path and (PurePosixPath(media_path).is_absolute() or PureWindowsPath(media_path).is_absolute()):
        return RowError(line, f"media_path {media_path!r} must be relative to the dataset's media folder")
    if ".." in PurePosixPath(media_path.replace("\\", "/")).parts:
        return RowError(line, f"media_path {media_path!r} must stay inside the dataset's media folder")
    return _row(
        line,
        clip_id=cells["clip_id"],
        labels=labels,
        youtube_id=cells.get("youtube_id", ""),
        start_seconds=start,
        split=cells.get("split", "") or default_split,
        media_path=media_path,
    )


def _generic_labels(raw: str) -> tuple[str, ...] | str:
    """Labels from `a;b` or a JSON list `["a", "b"]`; a string is an error message."""
    if raw.startswith("["):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"labels look like a JSON list but are not valid JSON: {exc.msg}"
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "labels as JSON must be a list of strings"
        names = value
    else:
        names = raw.split(";")
    return tuple(_unique(name.strip() for name in names if name.strip()))


def _seconds(raw: str) -> float | None:
    """A finite, non-negative number of seconds; None for anything else."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _whole_seconds(raw: str) -> int | None:
    value = _seconds(raw)
    return int(value) if value is not None and value.is_integer() else None


def _llp_start(filename: str) -> float | None:
    """The `<start>` of `<youtube_id>_<start>_<end>`, tenths kept (a few LLP clips start at
    e.g. 101.8 s)."""
    parts = filename.rsplit("_", 2)
    return _seconds(parts[1]) if len(parts) == 3 else None


def vggsound_id_parts(clip_id: str) -> tuple[str, int] | None:
    """(youtube_id, start) of a VGGSound clip id `<youtube_id>_<start>`, or None for another shape."""
    youtube_id, sep, digits = clip_id.rpartition("_")
    if not sep or not youtube_id or not digits.isascii() or not digits.isdigit():
        return None
    return youtube_id, int(digits)


def media_suffix_strip(filename: str) -> str:
    lowered = filename.lower()
    for suffix in MEDIA_SUFFIXES:
        if lowered.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def _unique(values) -> list[str]:
    return list(dict.fromkeys(values))


CLIP_READERS: dict[str, ClipReader] = {
    "vggsound": clip_rows_vggsound,
    "vggsound-test": clip_rows_vggsound_test,
    "llp": clip_rows_llp,
    "generic": clip_rows_generic,
}
