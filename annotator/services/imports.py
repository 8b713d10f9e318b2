"""Imports started from the pages and the API: a dataset created, then files imported into it
by Celery jobs that call the importers the management commands call.

`*_import_start` checks what was asked (the researcher owns the dataset; a server folder lies
under AVLABEL_MEDIA_IMPORT_ROOTS), keeps the uploaded file under AVLABEL_IMPORT_DIR/job-<id>/,
stores a queued ImportJob and enqueues `annotator.import_run` once the transaction commits.
`import_job_run` (the task's body) claims the job with a conditional UPDATE, runs the importer
with a progress callback and records its counts and row errors. The importers are idempotent,
so a job run twice (a redelivered message, a rerun of the same file) stores nothing twice.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotator import roles
from annotator.importers.clips import clips_import
from annotator.importers.gold import gold_labels_import
from annotator.importers.label_studio import label_studio_import
from annotator.importers.media import media_import
from annotator.importers.proposal_files import proposals_import
from annotator.importers.report import ImportReport
from annotator.importers.taxonomy import taxonomy_import, taxonomy_import_builtin
from annotator.models import Dataset, ImportJob, Taxonomy
from annotator.services.media_uploads import media_upload_folder, media_upload_has_files, upload_name_clean
from config.errors import ApplicationError, NotFoundError, TooLargeError

logger = logging.getLogger(__name__)

#: The job's row is written at most this often while the importer reports progress.
PROGRESS_INTERVAL_SECONDS = 0.5


# --- datasets ------------------------------------------------------------------------------


def dataset_create(*, owner, name: str, taxonomy: Taxonomy, description: str = "") -> Dataset:
    """A new, empty dataset of `taxonomy` owned by `owner` (a researcher)."""
    roles.require_researchers([owner])
    name = name.strip()
    if not name:
        raise ApplicationError("A dataset needs a name.")
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(name=name, taxonomy=taxonomy, description=description, owner=owner)
    except IntegrityError:
        raise ApplicationError(f"A dataset named {name!r} exists already.", extra={"field": "name"}) from None
    logger.info("dataset %s (taxonomy %s) created by %s", dataset.name, taxonomy.name, owner)
    return dataset


# --- starting jobs -------------------------------------------------------------------------


def taxonomy_import_start(
    *, owner, name: str, upload: UploadedFile | None = None, file_format: str = "", builtin: str = ""
) -> ImportJob:
    """Import a class-list file, or a built-in class list, as taxonomy `name`. A taxonomy that
    datasets of other researchers use is theirs too: it is refused here (import under a new
    name), since new classes would change what their models predict."""
    if bool(upload) == bool(builtin):
        raise ApplicationError("Upload a class-list file or name a built-in class list, not both.")
    name = name.strip() or builtin
    if not name:
        raise ApplicationError("A taxonomy needs a name.")
    _require_taxonomy_writable(owner=owner, name=name)
    options = {"name": name, "format": file_format, "builtin": builtin}
    return _job_create(owner=owner, kind=ImportJob.Kind.TAXONOMY, dataset=None, upload=upload, options=options)


def clips_import_start(
    *, owner, dataset: Dataset, upload: UploadedFile, file_format: str, split: str = ""
) -> ImportJob:
    _require_owner(owner=owner, dataset=dataset)
    options = {"format": file_format, "split": split}
    return _job_create(owner=owner, kind=ImportJob.Kind.CLIPS, dataset=dataset, upload=upload, options=options)


def proposals_import_start(
    *, owner, dataset: Dataset, upload: UploadedFile, name: str, file_format: str = ""
) -> ImportJob:
    """Import a proposal file as proposal set `name` (a rerun replaces the set's content)."""
    _require_owner(owner=owner, dataset=dataset)
    if not name.strip():
        raise ApplicationError("A proposal set needs a name.")
    options = {"name": name.strip(), "format": file_format}
    return _job_create(owner=owner, kind=ImportJob.Kind.PROPOSALS, dataset=dataset, upload=upload, options=options)


def gold_import_start(*, owner, dataset: Dataset, upload: UploadedFile) -> ImportJob:
    _require_owner(owner=owner, dataset=dataset)
    return _job_create(owner=owner, kind=ImportJob.Kind.GOLD, dataset=dataset, upload=upload, options={})


def label_studio_import_start(
    *, owner, dataset: Dataset, upload: UploadedFile, study_name: str = "", config: str = ""
) -> ImportJob:
    """Import a Label Studio JSON export: its clips, predictions and, as the ratings of a
    closed study `study_name` (default: after the file), its annotations. `config`: the
    project's labelling config (XML), which names the video's task.data key."""
    _require_owner(owner=owner, dataset=dataset)
    options = {"study": study_name.strip(), "config": config}
    return _job_create(owner=owner, kind=ImportJob.Kind.LABEL_STUDIO, dataset=dataset, upload=upload, options=options)


def media_import_start(*, owner, dataset: Dataset, folder: str = "", reprobe: bool = False) -> ImportJob:
    """Match and probe a dataset's media: the files uploaded to it (no `folder`), or the
    server folder `folder`, which must lie under one of AVLABEL_MEDIA_IMPORT_ROOTS."""
    _require_owner(owner=owner, dataset=dataset)
    if folder:
        root = str(media_folder_resolve(folder=folder))
    elif media_upload_has_files(dataset=dataset):
        root = str(media_upload_folder(dataset=dataset))
    else:
        raise ApplicationError(f"No media file has been uploaded to dataset {dataset.name} yet.")
    options = {"folder": root, "reprobe": reprobe, "uploaded": not folder}
    return _job_create(owner=owner, kind=ImportJob.Kind.MEDIA, dataset=dataset, upload=None, options=options)


def media_folder_resolve(*, folder: str) -> Path:
    """`folder` with every link and `..` resolved, refused (ApplicationError) unless it lies
    under one of AVLABEL_MEDIA_IMPORT_ROOTS and is a folder."""
    roots = [Path(root) for root in settings.AVLABEL_MEDIA_IMPORT_ROOTS]
    if not roots:
        raise ApplicationError(
            "No server folder may be imported from here (the operator lists them in AVLABEL_MEDIA_IMPORT_ROOTS): "
            "upload the media files instead."
        )
    allowed = {"allowed_roots": [str(root) for root in roots]}
    path = Path(folder)
    if "\x00" in folder or not path.is_absolute():
        raise ApplicationError(f"{folder!r} is not an absolute folder path.", extra=allowed)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop
        raise ApplicationError(f"{folder!r} cannot be resolved.", extra=allowed) from None
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        raise ApplicationError(f"{folder} lies outside the folders media may be imported from.", extra=allowed)
    if not resolved.is_dir():
        raise ApplicationError(f"{folder} is not a folder.", extra=allowed)
    return resolved


def _require_owner(*, owner, dataset: Dataset) -> None:
    """Imports go into the researcher's own datasets (any for an admin); others read as not found."""
    if not roles.user_is_researcher(owner) or (dataset.owner_id != owner.pk and not roles.user_is_admin(owner)):
        raise NotFoundError(f"Dataset {dataset.pk} does not exist or is not yours.")


def _require_taxonomy_writable(*, owner, name: str) -> None:
    roles.require_researchers([owner])
    taxonomy = Taxonomy.objects.filter(name=name).first()
    if taxonomy is None or roles.user_is_admin(owner):
        return
    if taxonomy.datasets.exclude(owner=owner).exists():
        raise ApplicationError(
            f"Taxonomy {name!r} is used by other researchers' datasets: import the class list under a new name, "
            "or choose the taxonomy as it is when creating a dataset.",
            extra={"field": "name"},
        )


def _job_create(*, owner, kind: str, dataset: Dataset | None, upload: UploadedFile | None, options: dict) -> ImportJob:
    file_name = ""
    if upload is not None:
        file_name = upload_name_clean(upload.name)
        if upload.size > settings.AVLABEL_UPLOAD_MAX_BYTES:
            raise TooLargeError(
                f"{file_name} is larger than {settings.AVLABEL_UPLOAD_MAX_BYTES} bytes.",
                extra={"max_upload_bytes": settings.AVLABEL_UPLOAD_MAX_BYTES},
            )
        if not upload.size:
            raise ApplicationError(f"{file_name} is empty.")
    with transaction.atomic():
        job = ImportJob.objects.create(
            owner=owner, dataset=dataset, kind=kind, options=options, file_name=file_name, message="queued"
        )
        if upload is not None:
            job.file_path = str(_job_file_store(job=job, upload=upload, name=file_name))
            job.save(update_fields=["file_path"])
        from annotator import tasks

        tasks.import_job_run.delay_on_commit(job.pk)
    logger.info("queued %s import %s for %s", kind, job.pk, dataset or options.get("name"))
    return job


def _job_file_store(*, job: ImportJob, upload: UploadedFile, name: str) -> Path:
    """The upload kept as AVLABEL_IMPORT_DIR/job-<id>/<name> (its name kept: an LLP file's
    split is read from it)."""
    folder = Path(settings.AVLABEL_IMPORT_DIR) / f"job-{job.pk}"
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            for piece in upload.chunks():
                handle.write(piece)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        logger.exception("storing the file of import %s failed", job.pk)
        raise ApplicationError(f"{name} could not be stored: {exc.strerror or exc}.") from exc
    return path


# --- running jobs (the task's body) ----------------------------------------------------------


def import_job_run(*, job_id: int, task_id: str) -> ImportJob | None:
    """Claim the job and run its importer; None when the job is not this task's to run (done,
    failed, or held by another task). A job still `running` under this very task id (the
    message delivered again after its worker died, or a retry) is taken again: the importers
    finish what a run left half-done."""
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING, task_id=task_id))
        .update(
            status=ImportJob.Status.RUNNING,
            task_id=task_id,
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
            message="running",
        )
    )
    if claimed != 1:
        logger.info("import %s: not claimed by task %s (finished or held elsewhere)", job_id, task_id)
        return None
    job = ImportJob.objects.select_related("dataset", "owner").get(pk=job_id)
    try:
        report = RUNNERS[job.kind](job, _ProgressWriter(job.pk))
    except ApplicationError as exc:  # unusable input (ImportInputError), a dataset gone, ...
        return _finish(job, status=ImportJob.Status.FAILED, message=exc.message)
    return _finish_with_report(job, report)


def import_job_fail(*, job_id: int, error: str) -> None:
    """Mark a job that is not finished failed (an unexpected error ended its task)."""
    ImportJob.objects.filter(pk=job_id).exclude(status__in=ImportJob.FINISHED_STATUSES).update(
        status=ImportJob.Status.FAILED, message=error[:2000], finished_at=timezone.now()
    )


class _ProgressWriter:
    """The importers' `on_progress(done, total)`: written to the job's row, throttled."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.written_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.written_at < PROGRESS_INTERVAL_SECONDS:
            return
        self.written_at = now
        ImportJob.objects.filter(pk=self.job_id).update(progress_done=done, progress_total=total)


def _finish(job: ImportJob, *, status: str, message: str, **fields) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=status, message=message, finished_at=timezone.now(), **fields
    )
    job.refresh_from_db()
    logger.info("import %s (%s): %s, %s", job.pk, job.kind, job.status, message)
    return job


def _finish_with_report(job: ImportJob, report: ImportReport) -> ImportJob:
    errors = [[error.line, error.message] for error in report.errors]
    result = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    result |= {name: count for name, count in sorted(report.extra.items())}
    if job.kind == ImportJob.Kind.TAXONOMY:
        taxonomy = Taxonomy.objects.filter(name=job.options["name"]).first()
        result["taxonomy_id"] = taxonomy.pk if taxonomy else None
    fields = {"result": result, "errors": errors, "error_count": len(errors)}
    if errors and report.stored == 0:
        message = f"nothing imported: every row of the input was rejected ({len(errors)} errors)"
        return _finish(job, status=ImportJob.Status.FAILED, message=message, **fields)
    job.refresh_from_db(fields=["progress_total"])  # as the importer's progress left it
    total = max(job.progress_total, 1)
    return _finish(
        job, status=ImportJob.Status.DONE, message=report.summary(), progress_done=total, progress_total=total, **fields
    )


def _run_taxonomy(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    options = job.options
    if options.get("builtin"):
        return taxonomy_import_builtin(builtin=options["builtin"], name=options["name"])
    file_format = options.get("format") or ("vggsound-stat" if job.file_name.lower().endswith(".csv") else "lines")
    return taxonomy_import(name=options["name"], path=job.file_path, file_format=file_format, source=job.file_name)


def _run_clips(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    return clips_import(
        dataset_name=job.dataset.name,
        path=job.file_path,
        file_format=job.options["format"],
        split=job.options.get("split", ""),
        on_progress=progress,
    )


def _run_media(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    return media_import(
        dataset=job.dataset,
        folder=job.options["folder"],
        reprobe=job.options.get("reprobe", False),
        on_progress=progress,
    )


def _run_proposals(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    return proposals_import(
        dataset=job.dataset, name=job.options["name"], path=job.file_path, file_format=job.options.get("format", "")
    )


def _run_gold(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    return gold_labels_import(dataset=job.dataset, path=job.file_path)


def _run_label_studio(job: ImportJob, progress: Callable[[int, int], None]) -> ImportReport:
    return label_studio_import(
        dataset=job.dataset,
        path=job.file_path,
        owner=job.owner,
        study_name=job.options.get("study", ""),
        config_text=job.options.get("config", ""),
        on_progress=progress,
    )


RUNNERS: dict[str, Callable[[ImportJob, Callable[[int, int], None]], ImportReport]] = {
    ImportJob.Kind.TAXONOMY: _run_taxonomy,
    ImportJob.Kind.CLIPS: _run_clips,
    ImportJob.Kind.MEDIA: _run_media,
    ImportJob.Kind.PROPOSALS: _run_proposals,
    ImportJob.Kind.GOLD: _run_gold,
    ImportJob.Kind.LABEL_STUDIO: _run_label_studio,
}
