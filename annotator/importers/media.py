"""A folder of media files onto a dataset's clips: match by clip id, probe, record.

A file matches the clip whose id is its name without a media extension (`<clip_id>.mp4`,
`.webm`, `.mkv`, `.avi`, `.mov`, `.m4a`, `.wav`), or its whole name or stem for other
files. Files are probed in a small thread pool; results are written in batches, each in
its own transaction, so a crash keeps what was recorded and a rerun goes on. A file that
cannot be read is recorded on its clip (status `unusable`, with the reason) and the
import goes on; a usable file gets its media flags (annotator/importers/probe.py). A
path that leads outside the folder (a symlink to elsewhere) is unusable: the same rule
(annotator.media_serving.path_inside) refuses it when served and in training or
inference. The folder becomes the dataset's media root; clips with no file in it are
marked missing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from annotator.importers.clip_formats import MEDIA_SUFFIXES
from annotator.importers.probe import MediaProbe, frame_size_error, media_flags, media_probe
from annotator.importers.report import ImportInputError, ImportReport
from annotator.media_serving import MediaPathError, dataset_media_root, path_inside
from annotator.models import Clip, Dataset
from annotator.selectors.catalog import media_flag_counts

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
RESULT_FIELDS = (
    "media_path",
    "media_status",
    "media_error",
    "duration_seconds",
    "fps",
    "width",
    "height",
    "has_audio",
    "sample_rate",
    "media_flags",
)
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class _Result:
    """A clip's media fields, in RESULT_FIELDS order."""

    media_path: str
    media_status: str
    media_error: str = ""
    duration_seconds: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    sample_rate: int | None = None
    media_flags: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, values: tuple) -> _Result:
        """From RESULT_FIELDS values as stored (flags a JSON list)."""
        *fields, flags = values
        return cls(*fields, media_flags=tuple(flags or ()))


MISSING = _Result(media_path="", media_status=Clip.MediaStatus.MISSING)


@dataclass(frozen=True)
class _Stored:
    """A clip's media fields as stored before the import."""

    clip_id: str
    result: _Result
    probed_at: datetime | None


def media_import(
    *,
    dataset: Dataset,
    folder: Path | str | None = None,
    reprobe: bool = False,
    workers: int = DEFAULT_WORKERS,
    batch_size: int = BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Match the files under `folder` to the dataset's clips and probe them; without a
    folder, probe again the media paths the clips already record under the dataset's media
    root. Files probed before, unchanged since and at the same path are skipped unless
    `reprobe`; their recorded measures still get today's rules (minimum frame size, flags)."""
    root = _media_root(dataset, folder)
    same_root = dataset.media_root == str(root)
    stored = {
        pk: _Stored(clip_id, _Result.from_row(values), probed_at)
        for pk, clip_id, *values, probed_at in Clip.objects.filter(dataset=dataset).values_list(
            "pk", "clip_id", *RESULT_FIELDS, "media_probed_at"
        )
    }
    report = ImportReport()
    if folder is None:
        matches = {pk: clip.result.media_path for pk, clip in stored.items() if clip.result.media_path}
        lost: list[int] = []
    else:
        matches = _match_folder(root, {clip.clip_id: pk for pk, clip in stored.items()}, report)
        lost = [pk for pk in stored if pk not in matches]
        if not same_root:
            dataset.media_root = str(root)
            dataset.save(update_fields=["media_root"])
    to_probe, rejudged = [], []
    for pk, relative in matches.items():
        if not reprobe and same_root and _still_fresh(root, relative, stored[pk]):
            report.extra["not_reprobed"] += 1
            result = _rejudged(stored[pk].result)
            if result == stored[pk].result:
                report.unchanged += 1
            else:
                rejudged.append((pk, result))
        else:
            to_probe.append((pk, relative))
    _clear(lost, stored, report)
    _report_errors(rejudged, report)
    _write(rejudged, stored, report, batch_size)
    _probe_and_write(root, to_probe, stored, report, workers, batch_size, on_progress)
    clips = Clip.objects.filter(dataset=dataset)
    for status, count in clips.order_by().values_list("media_status").annotate(Count("pk")):
        report.extra[f"clips_{status}"] = count
    for flag, count in media_flag_counts(clips=clips).items():
        report.extra[f"flagged_{flag}"] = count
    logger.info("media of %s from %s: %s", dataset.name, root, report.summary())
    return report


def _probe_and_write(
    root: Path,
    to_probe: list[tuple[int, str]],
    stored: dict[int, _Stored],
    report: ImportReport,
    workers: int,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> None:
    """Probe in a small thread pool, which overlaps the reading of files, and write the
    results every `batch_size` files."""
    pending: list[tuple[int, _Result]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        results = pool.map(lambda item: (item[0], _probe(root, item[1])), to_probe)
        for done, (pk, result) in enumerate(results, start=1):
            pending.append((pk, result))
            _report_errors([(pk, result)], report)
            if len(pending) >= batch_size:
                _write(pending, stored, report, batch_size)
                pending.clear()
            if on_progress is not None:
                on_progress(done, len(to_probe))
        _write(pending, stored, report, batch_size)
    finally:
        pool.shutdown(cancel_futures=True)
    report.extra["probed"] = len(to_probe)


def _report_errors(items: list[tuple[int, _Result]], report: ImportReport) -> None:
    for _pk, result in items:
        if result.media_error:
            report.add_error(None, f"{result.media_path}: {result.media_error}")


def _media_root(dataset: Dataset, folder: Path | str | None) -> Path:
    """The folder given (relative to the working directory), else the dataset's recorded
    one, found as serving and the model code find it."""
    if folder is None:
        if not dataset.media_root:
            raise ImportInputError(f"dataset {dataset.name!r} has no media folder yet; give one")
        folder = dataset_media_root(dataset)
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise ImportInputError(f"media folder not found: {root}")
    return root


def _match_folder(root: Path, clip_pks: dict[str, int], report: ImportReport) -> dict[int, str]:
    """clip pk -> file path relative to root (POSIX). One file a clip: the first media
    extension in MEDIA_SUFFIXES order wins, then the shorter path."""
    candidates: dict[int, list[str]] = {}
    unmatched = 0
    for relative in _files(root):
        pk = next((clip_pks[key] for key in _clip_keys(relative) if key in clip_pks), None)
        if pk is None:
            unmatched += 1
        else:
            candidates.setdefault(pk, []).append(relative)
    matches = {}
    for pk, paths in candidates.items():
        paths.sort(key=lambda path: (_suffix_rank(path), len(path), path))
        matches[pk] = paths[0]
        for other in paths[1:]:
            report.add_error(None, f"{other}: not used, {paths[0]} is the file of the same clip")
    report.extra["unmatched_files"] = unmatched
    return matches


def _files(root: Path) -> Iterable[str]:
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        base = Path(folder).relative_to(root)
        for name in sorted(names):
            if not name.startswith("."):
                yield (base / name).as_posix()


def _clip_keys(relative: str) -> tuple[str, ...]:
    name = relative.rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    if dot and f".{suffix.lower()}" in MEDIA_SUFFIXES:
        return (stem,)
    return (name, stem) if dot else (name,)


def _suffix_rank(relative: str) -> int:
    suffix = Path(relative).suffix.lower()
    return MEDIA_SUFFIXES.index(suffix) if suffix in MEDIA_SUFFIXES else len(MEDIA_SUFFIXES)


def _still_fresh(root: Path, relative: str, clip: _Stored) -> bool:
    if clip.result.media_path != relative or clip.probed_at is None:
        return False
    if clip.result.media_status == Clip.MediaStatus.MISSING:
        return False
    try:
        return path_inside(root, relative).stat().st_mtime < clip.probed_at.timestamp()
    except (MediaPathError, OSError):  # gone, or now a link to elsewhere: probe again
        return False


def _rejudged(result: _Result) -> _Result:
    """A usable result under today's rules, from its recorded measures, so files probed
    before a rule existed get it without being read again."""
    if result.media_status != Clip.MediaStatus.OK:
        return result
    error = frame_size_error(width=result.width, height=result.height)
    if error:
        return replace(result, media_status=Clip.MediaStatus.UNUSABLE, media_error=error, media_flags=())
    flags = media_flags(
        duration_seconds=result.duration_seconds, has_audio=result.has_audio, width=result.width, height=result.height
    )
    return replace(result, media_flags=flags)


def _probe(root: Path, relative: str) -> _Result:
    try:
        path = path_inside(root, relative)
    except MediaPathError as exc:
        return _Result(media_path=relative, media_status=Clip.MediaStatus.UNUSABLE, media_error=str(exc))
    if not path.is_file():
        return _Result(media_path=relative, media_status=Clip.MediaStatus.MISSING, media_error="file not found")
    try:
        probe = media_probe(path)
    except Exception as exc:  # an unreadable file must never stop the import
        logger.exception("probing %s failed", path)
        probe = MediaProbe(ok=False, error=f"probe failed: {type(exc).__name__}: {exc}")
    status = Clip.MediaStatus.OK if probe.ok else Clip.MediaStatus.UNUSABLE
    return _Result(
        media_path=relative,
        media_status=status,
        media_error=probe.error,
        duration_seconds=probe.duration_seconds,
        fps=probe.fps,
        width=probe.width,
        height=probe.height,
        has_audio=probe.has_audio,
        sample_rate=probe.sample_rate,
        media_flags=probe.flags,
    )


def _clear(pks: list[int], stored: dict[int, _Stored], report: ImportReport, chunk: int = 5000) -> None:
    """Mark clips with no file in the folder missing (counted in extra["now_missing"]);
    clips that are missing already are left alone."""
    lost = [pk for pk in pks if stored[pk].result != MISSING or stored[pk].probed_at is not None]
    for start in range(0, len(lost), chunk):
        with transaction.atomic():
            Clip.objects.filter(pk__in=lost[start : start + chunk]).update(**asdict(MISSING), media_probed_at=None)
    report.extra["now_missing"] += len(lost)


def _write(items: list[tuple[int, _Result]], stored: dict[int, _Stored], report: ImportReport, batch_size: int) -> None:
    """Record probe results, counted as updated or unchanged."""
    now = timezone.now()
    changed = []
    for pk, result in items:
        if stored[pk].result == result:
            report.unchanged += 1
        else:
            report.updated += 1
        changed.append(Clip(pk=pk, media_probed_at=now, **asdict(result)))
    with transaction.atomic():
        Clip.objects.bulk_update(changed, [*RESULT_FIELDS, "media_probed_at"], batch_size=batch_size)
