"""Computing evaluations (synchronously for small inputs, as a Celery task for big ones)
and writing their tables, plots and datasets to files."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.selectors import judgments as annotator_judgments
from config.errors import ApplicationError, NotFoundError
from evaluation import exporters, plots, selectors, tables
from evaluation.dataset_exports import predict_runs_check
from evaluation.dataset_exports import run_retarget_export as run_retarget_export  # callers use services.*
from evaluation.dataset_exports import study_dataset_export as study_dataset_export
from evaluation.dataset_exports import study_label_studio_export as study_label_studio_export
from evaluation.models import EvaluationReport
from evaluation.tables import Table
from modelzoo import selectors as modelzoo_selectors
from modelzoo.models import ModelRun

if TYPE_CHECKING:
    from annotator.models import Study

logger = logging.getLogger(__name__)

#: Above this many judgments (study) or predictions (runs), pages offer the Celery task
#: instead of computing while the request waits.
SYNC_LIMIT = 60_000
DEFAULT_BOOT = 1000
MAX_BOOT = 20_000

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Evaluation:
    """The tables of one evaluation (a study, one run with its companions, or a set of runs)."""

    title: str
    tables: dict[str, Table]

    @property
    def plot_keys(self) -> list[str]:
        return plots.available_plots(self.tables)

    def to_result(self) -> dict:
        return {"title": self.title, "tables": {key: table.to_dict() for key, table in self.tables.items()}}

    @classmethod
    def from_result(cls, result: dict) -> Evaluation:
        return cls(
            title=result.get("title", ""),
            tables={key: Table.from_dict(value) for key, value in result.get("tables", {}).items()},
        )


def _no_progress(fraction: float, message: str) -> None:
    return None


def _check_boot(n_boot: int) -> None:
    if not 1 <= n_boot <= MAX_BOOT:
        raise ApplicationError(f"n_boot must lie between 1 and {MAX_BOOT} (got {n_boot}).")


# --------------------------------------------------------------------------------------
# Synchronous computations
# --------------------------------------------------------------------------------------


def study_evaluate(
    *, study: Study, n_boot: int = DEFAULT_BOOT, seed: int = 0, on_progress: Progress = _no_progress
) -> Evaluation:
    """All tables of a study. ApplicationError when nothing has been rated yet."""
    _check_boot(n_boot)
    on_progress(0.05, "loading judgments")
    data = selectors.study_data(study=study)
    on_progress(0.5, "computing tables")
    try:
        study_tables = tables.study_tables(data, n_boot=n_boot, seed=seed)
    except ValueError as error:
        raise ApplicationError(str(error)) from error
    return Evaluation(title=f"Study {study.pk}: {study.name}", tables=study_tables)


def runs_evaluate(*, runs: Sequence[ModelRun], on_progress: Progress = _no_progress) -> Evaluation:
    """The paper's Tables 1-4 over a set of succeeded predict runs (grouped by dataset)."""
    predict_runs_check(runs)
    datas = []
    for i, run in enumerate(runs):
        on_progress(0.05 + 0.8 * i / len(runs), f"loading predictions of run {run.pk}")
        datas.append(selectors.run_data(run=run))
    on_progress(0.9, "computing tables")
    names = ", ".join(str(run.pk) for run in runs)
    return Evaluation(title=f"Model runs {names}", tables=tables.runs_tables(datas))


def run_evaluate(*, run: ModelRun, user=None, on_progress: Progress = _no_progress) -> Evaluation:
    """One predict run with the newest runs of the other model kinds on its dataset and split
    (only runs the user may see, when a user is given)."""
    predict_runs_check([run])
    companions = [other for other in selectors.companion_runs(run=run, user=user).values() if other.pk != run.pk]
    on_progress(0.05, f"loading predictions of run {run.pk}")
    data = selectors.run_data(run=run)
    others = []
    for i, other in enumerate(companions):
        on_progress(0.3 + 0.5 * i / max(len(companions), 1), f"loading predictions of run {other.pk}")
        others.append(selectors.run_data(run=other))
    on_progress(0.9, "computing tables")
    return Evaluation(
        title=f"Predict run {run.pk} ({run.get_model_kind_display()}, {run.dataset.name})",
        tables=tables.run_tables(data, others),
    )


def study_is_small(*, study: Study) -> bool:
    return annotator_judgments.study_judgment_count(study=study) <= SYNC_LIMIT


def run_is_small(*, run: ModelRun) -> bool:
    return modelzoo_selectors.run_prediction_count(run_id=run.pk) <= SYNC_LIMIT


def evaluation_files_write(
    *,
    evaluation: Evaluation,
    folder: Path,
    formats: Sequence[str] = tuple(exporters.TABLE_FORMATS),
    plot_formats: Sequence[str] = tuple(plots.PLOT_FORMATS),
) -> dict[str, str]:
    """Write every table in ``formats`` and every plot in ``plot_formats`` under ``folder``.
    Returns file name -> path relative to ``folder``."""
    unknown = [fmt for fmt in formats if fmt not in exporters.TABLE_FORMATS]
    unknown += [fmt for fmt in plot_formats if fmt not in plots.PLOT_FORMATS]
    if unknown:
        raise ApplicationError(f"Unknown formats: {', '.join(unknown)}.")
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for key, table in evaluation.tables.items():
        for fmt in formats:
            name = f"{key}.{fmt}"
            (folder / name).write_text(exporters.table_render(table, fmt), encoding="utf-8")
            written[name] = name
    for key in evaluation.plot_keys:
        for fmt in plot_formats:
            name = f"{key}.{fmt}"
            (folder / name).write_bytes(plots.plot_render(evaluation.tables, key, fmt))
            written[name] = name
    return written


def _report_folder(report: EvaluationReport) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "evaluation" / f"report-{report.pk}"


def report_artifact_path(*, report: EvaluationReport, name: str) -> Path:
    """The file of a finished report's artefact; ApplicationError (404) for unknown names."""
    relative = (report.artifacts or {}).get(name)
    if relative is None:
        raise NotFoundError(f"Report {report.pk} has no file {name!r}.")
    path = (_report_folder(report) / relative).resolve()
    if _report_folder(report).resolve() not in path.parents or not path.is_file():
        raise NotFoundError(f"Report {report.pk} has no file {name!r}.")
    return path


# --------------------------------------------------------------------------------------
# Reports (the Celery path)
# --------------------------------------------------------------------------------------


def report_create(
    *,
    created_by,
    study: Study | None = None,
    runs: Sequence[ModelRun] = (),
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
) -> EvaluationReport:
    """Record an evaluation to compute and enqueue ``evaluation.compute`` after commit."""
    from evaluation.tasks import evaluation_compute

    if (study is None) == (not runs):
        raise ApplicationError("Evaluate either a study or a set of predict runs.")
    _check_boot(n_boot)
    if runs:
        predict_runs_check(runs)
    with transaction.atomic():
        report = EvaluationReport.objects.create(study=study, created_by=created_by, n_boot=n_boot, seed=seed)
        if runs:
            report.runs.set(runs)
        evaluation_compute.delay_on_commit(report.pk)
    logger.info("evaluation report %s queued", report.pk)
    return report


def _report_progress(report_pk: int) -> Progress:
    def update(fraction: float, message: str) -> None:
        EvaluationReport.objects.filter(pk=report_pk, status=EvaluationReport.Status.RUNNING).update(
            progress=min(max(fraction, 0.0), 1.0), progress_message=message[:300]
        )

    return update


def report_compute(*, report_id: int, task_id: str = "") -> EvaluationReport | None:
    """Compute a report: claim it (queued, or running after a lost worker), compute, write
    its files, store the tables. Idempotent: a finished report is left as it is. A failure
    marks the report failed with the reason. None when no such report exists."""
    claimed = EvaluationReport.objects.filter(
        pk=report_id, status__in=[EvaluationReport.Status.QUEUED, EvaluationReport.Status.RUNNING]
    ).update(
        status=EvaluationReport.Status.RUNNING,
        started_at=timezone.now(),
        progress=0.0,
        progress_message="starting",
        task_id=task_id[:64],
        error="",
    )
    report = EvaluationReport.objects.filter(pk=report_id).select_related("study").first()
    if report is None or not claimed:
        return report
    progress = _report_progress(report.pk)
    try:
        evaluation = _report_evaluation(report, progress)
        progress(0.95, "writing files")
        folder = _report_folder(report)
        shutil.rmtree(folder, ignore_errors=True)
        artifacts = evaluation_files_write(evaluation=evaluation, folder=folder)
        if report.study is not None:
            for fmt in exporters.DATASET_FORMATS:
                name = f"dataset.{fmt}"
                (folder / name).write_text(study_dataset_export(study=report.study, fmt=fmt), encoding="utf-8")
                artifacts[name] = name
    except ApplicationError as error:  # bad input (e.g. nothing rated yet): recorded, not retried
        report_fail(report=report, error=error)
        report.refresh_from_db()
        return report
    except Exception as error:  # a bug or a lost database: recorded on the report, then re-raised
        report_fail(report=report, error=error)
        raise
    EvaluationReport.objects.filter(pk=report.pk).update(
        status=EvaluationReport.Status.SUCCEEDED,
        progress=1.0,
        progress_message="done",
        result=evaluation.to_result(),
        artifacts=artifacts,
        finished_at=timezone.now(),
    )
    report.refresh_from_db()
    logger.info(
        "evaluation report %s succeeded: %d tables, %d files", report.pk, len(evaluation.tables), len(artifacts)
    )
    return report


def _report_evaluation(report: EvaluationReport, progress: Progress) -> Evaluation:
    if report.study is not None:
        return study_evaluate(study=report.study, n_boot=report.n_boot, seed=report.seed, on_progress=progress)
    runs = list(report.runs.select_related("dataset").order_by("pk"))
    if len(runs) == 1:
        return run_evaluate(run=runs[0], user=report.created_by, on_progress=progress)
    return runs_evaluate(runs=runs, on_progress=progress)


def report_fail(*, report: EvaluationReport, error: BaseException | str) -> None:
    message = error.message if isinstance(error, ApplicationError) else str(error) or type(error).__name__
    logger.warning("evaluation report %s failed: %s", report.pk, message)
    EvaluationReport.objects.filter(pk=report.pk).update(
        status=EvaluationReport.Status.FAILED, error=message, finished_at=timezone.now()
    )


# --------------------------------------------------------------------------------------
# What a page or an API call shows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Current:
    """An evaluation to show: computed now (small inputs) or the newest succeeded report's.

    evaluation is None when it must be computed as a task first (or failed: see error).
    """

    evaluation: Evaluation | None
    report: EvaluationReport | None
    live: bool
    error: str = ""


def _stored(report: EvaluationReport | None) -> Evaluation | None:
    if report is not None and report.status == EvaluationReport.Status.SUCCEEDED and report.result:
        return Evaluation.from_result(report.result)
    return None


def study_current(*, study: Study, n_boot: int = DEFAULT_BOOT, seed: int = 0) -> Current:
    report = selectors.report_latest(study=study)
    if not study_is_small(study=study):
        return Current(_stored(report), report, live=False)
    try:
        return Current(study_evaluate(study=study, n_boot=n_boot, seed=seed), report, live=True)
    except ApplicationError as error:
        return Current(None, report, live=True, error=error.message)


def run_current(*, run: ModelRun, user=None) -> Current:
    report = selectors.report_latest(runs=[run])
    if run.kind != ModelRun.Kind.PREDICT or run.status != ModelRun.Status.SUCCEEDED:
        return Current(None, report, live=False, error=f"Run {run.pk} is {run.status}; evaluate it once it succeeded.")
    if not run_is_small(run=run):
        return Current(_stored(report), report, live=False)
    return Current(run_evaluate(run=run, user=user), report, live=True)


def runs_current(*, runs: Sequence[ModelRun]) -> Current:
    report = selectors.report_latest(runs=runs)
    try:
        predict_runs_check(runs)
    except ApplicationError as error:
        return Current(None, report, live=False, error=error.message)
    if modelzoo_selectors.runs_prediction_count(runs=runs) > SYNC_LIMIT:
        return Current(_stored(report), report, live=False)
    return Current(runs_evaluate(runs=runs), report, live=True)
