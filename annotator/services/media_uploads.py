"""Media files into a dataset's upload folder: many at once, or one large file in chunks.

Uploaded media go to MEDIA_ROOT/uploads/dataset-<id>/ under their own (cleaned) names; a
media import job then matches them to the clips and probes them, as for a server folder.
A file is written beside its final name (a dot-name the importer skips) and renamed into
place when complete, so a half-sent file is never probed. A chunked upload appends each chunk
at the offset the client names, which must be where the part file ends: a client that lost
its connection asks where that is (`media_chunk_received`) and resumes from there; offset 0
starts the file again. Sending a file again replaces it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from annotator.importers.clip_formats import MEDIA_SUFFIXES
from annotator.models import Clip, Dataset
from config.errors import ApplicationError, ConflictError, TooLargeError

logger = logging.getLogger(__name__)

NAME_MAX = 200
STORED, PARTIAL, REFUSED = "stored", "partial", "refused"
MEDIA_FILE_STATUSES = (STORED, PARTIAL, REFUSED)


@dataclass(frozen=True)
class MediaFileResult:
    """What became of one uploaded file: `stored` (with the clip it matches, if any),
    `partial` (a chunked file still growing: `received` of `size` bytes) or `refused`."""

    name: str
    status: str
    size: int = 0
    received: int = 0
    clip_id: str | None = None
    message: str = ""


def upload_name_clean(name: str, *, suffixes: Iterable[str] | None = None) -> str:
    """The file name an upload is kept under: its last path component, which must be a
    plain name (no control characters, not hidden, at most NAME_MAX characters) and, with
    `suffixes`, end in one of them; ApplicationError says what is wrong."""
    name = unicodedata.normalize("NFC", str(name or ""))
    base = PureWindowsPath(PurePosixPath(name.replace("\\", "/")).name).name.strip()
    if not base or base in {".", ".."}:
        raise ApplicationError(f"{name!r} is not a file name.")
    if any(unicodedata.category(char)[0] == "C" for char in base):
        raise ApplicationError(f"{base!r}: a file name may not hold control characters.")
    if base.startswith("."):
        raise ApplicationError(f"{base!r}: a file name may not start with a dot.")
    if len(base) > NAME_MAX:
        raise ApplicationError(f"{base[:40]!r}...: a file name has at most {NAME_MAX} characters.")
    if suffixes is not None and Path(base).suffix.lower() not in suffixes:
        raise ApplicationError(f"{base!r} is not a media file: use one of {', '.join(suffixes)}.")
    return base


def media_upload_folder(*, dataset: Dataset) -> Path:
    """Where a dataset's uploaded media are kept (its media root once imported)."""
    return Path(settings.MEDIA_ROOT).resolve() / "uploads" / f"dataset-{dataset.pk}"


def media_upload_has_files(*, dataset: Dataset) -> bool:
    folder = media_upload_folder(dataset=dataset)
    return folder.is_dir() and any(not path.name.startswith(".") for path in folder.rglob("*") if path.is_file())


def media_files_store(*, dataset: Dataset, files: Sequence[UploadedFile]) -> list[MediaFileResult]:
    """Store uploaded media files in the dataset's upload folder; one result per file, in
    order. A refused file (a bad name, not a media type, too large) leaves the others stored."""
    folder = media_upload_folder(dataset=dataset)
    folder.mkdir(parents=True, exist_ok=True)
    clip_ids = _clip_ids(dataset, files)
    results = []
    for upload in files:
        try:
            name = upload_name_clean(upload.name, suffixes=MEDIA_SUFFIXES)
            if upload.size > settings.AVLABEL_UPLOAD_MAX_FILE_BYTES:
                raise TooLargeError(f"{name} is larger than {settings.AVLABEL_UPLOAD_MAX_FILE_BYTES} bytes.")
            if not upload.size:
                raise ApplicationError(f"{name} is empty.")
            _write_whole(folder, name, upload)
        except ApplicationError as exc:
            results.append(MediaFileResult(name=str(upload.name)[:NAME_MAX], status=REFUSED, message=exc.message))
            continue
        results.append(_stored(name, upload.size, clip_ids))
    logger.info(
        "dataset %s: %d media files uploaded, %d refused",
        dataset.name,
        sum(result.status == STORED for result in results),
        sum(result.status == REFUSED for result in results),
    )
    return results


def media_chunk_store(
    *, dataset: Dataset, name: str, offset: int, total_size: int, chunk: UploadedFile
) -> MediaFileResult:
    """Append `chunk` to the file `name` at `offset` (where it ends so far; 0 starts it
    again); the file is stored once it holds `total_size` bytes. ConflictError (409, with
    `received`) for any other offset, ApplicationError for a chunk past `total_size`."""
    name = upload_name_clean(name, suffixes=MEDIA_SUFFIXES)
    if total_size > settings.AVLABEL_UPLOAD_MAX_FILE_BYTES:
        raise TooLargeError(
            f"{name} is larger than {settings.AVLABEL_UPLOAD_MAX_FILE_BYTES} bytes.",
            extra={"max_file_bytes": settings.AVLABEL_UPLOAD_MAX_FILE_BYTES},
        )
    if total_size < 1 or offset < 0:
        raise ApplicationError("total_size must be at least 1 and offset at least 0.")
    folder = media_upload_folder(dataset=dataset)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{name}.part"
    with open(part, "ab+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two requests for one file append one after the other
        received = handle.seek(0, os.SEEK_END)
        if offset == 0 and received:
            handle.truncate(0)
            received = 0
        if offset != received:
            raise ConflictError(
                f"{name}: {received} bytes received so far; send the chunk at offset {received}.",
                extra={"received": received},
            )
        if offset + chunk.size > total_size:
            raise ApplicationError(f"{name}: the chunk ends past total_size ({offset + chunk.size} > {total_size}).")
        for piece in chunk.chunks():
            handle.write(piece)
        handle.flush()
        received = handle.tell()
        if received < total_size:
            return MediaFileResult(name=name, status=PARTIAL, size=total_size, received=received)
        os.replace(part, folder / name)
    return _stored(name, total_size, _clip_ids(dataset, [name]))


def media_chunk_received(*, dataset: Dataset, name: str) -> MediaFileResult:
    """How far a chunked upload of `name` got: where to resume (0 when none is under way)."""
    name = upload_name_clean(name, suffixes=MEDIA_SUFFIXES)
    folder = media_upload_folder(dataset=dataset)
    part = folder / f".{name}.part"
    if part.is_file():
        return MediaFileResult(name=name, status=PARTIAL, received=part.stat().st_size)
    final = folder / name
    if final.is_file():
        size = final.stat().st_size
        return _stored(name, size, _clip_ids(dataset, [name]), received=size)
    return MediaFileResult(name=name, status=PARTIAL, received=0)


def _write_whole(folder: Path, name: str, upload: UploadedFile) -> None:
    temporary = folder / f".{name}.upload-{os.getpid()}-{id(upload)}"
    try:
        with open(temporary, "wb") as handle:
            for piece in upload.chunks():
                handle.write(piece)
        os.replace(temporary, folder / name)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        logger.exception("storing uploaded media %s failed", name)
        raise ApplicationError(f"{name} could not be stored: {exc.strerror or exc}.") from exc


def _clip_ids(dataset: Dataset, files: Iterable[UploadedFile | str]) -> set[str]:
    """The dataset's clip ids among the files' stems."""
    stems = {Path(str(getattr(upload, "name", upload))).stem for upload in files}
    return set(Clip.objects.filter(dataset=dataset, clip_id__in=stems).values_list("clip_id", flat=True))


def _stored(name: str, size: int, clip_ids: set[str], *, received: int | None = None) -> MediaFileResult:
    stem = Path(name).stem
    if stem in clip_ids:
        return MediaFileResult(name=name, status=STORED, size=size, received=size, clip_id=stem)
    return MediaFileResult(
        name=name,
        status=STORED,
        size=size,
        received=size if received is None else received,
        message="no clip of the dataset has this id yet; a media import matches it once a clip list names it",
    )
