"""Who may see which runs and reports, and which runs an evaluation compares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from annotator import roles
from config.errors import NotFoundError
from evaluation.models import EvaluationReport
from modelzoo import selectors as modelzoo_selectors
from modelzoo.models import ModelRun

if TYPE_CHECKING:
    from annotator.models import Study


def runs_for_user(*, user) -> QuerySet[ModelRun]:
    """Predict runs whose results the user may see: modelzoo's one rule
    (``modelzoo.selectors.runs_for_researcher``: the ones they started or that are shared with
    them; every run for an admin)."""
    return modelzoo_selectors.runs_for_researcher(user=user, kind=ModelRun.Kind.PREDICT)


def run_for_user(*, user, run_id: int) -> ModelRun:
    run = runs_for_user(user=user).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(f"Predict run {run_id} not found.")
    return run


def reports_for_user(*, user) -> QuerySet[EvaluationReport]:
    if not roles.user_is_researcher(user):
        return EvaluationReport.objects.none()
    reports = EvaluationReport.objects.select_related("study", "created_by").prefetch_related("runs")
    return reports if roles.user_is_admin(user) else reports.filter(created_by=user)


def report_for_user(*, user, report_id: int) -> EvaluationReport:
    report = reports_for_user(user=user).filter(pk=report_id).first()
    if report is None:
        raise NotFoundError(f"Evaluation report {report_id} not found.")
    return report


def report_latest(*, study: Study | None = None, runs: Sequence[ModelRun] = ()) -> EvaluationReport | None:
    """The newest report of a study, or of exactly this set of runs."""
    if study is not None:
        return EvaluationReport.objects.filter(study=study).order_by("-created_at", "-pk").first()
    wanted = sorted(run.pk for run in runs)
    for report in (
        EvaluationReport.objects.filter(study__isnull=True, runs__in=wanted).distinct().order_by("-created_at", "-pk")
    ):
        if sorted(report.runs.values_list("pk", flat=True)) == wanted:
            return report
    return None


def companion_runs(*, run: ModelRun, user=None) -> dict[str, ModelRun]:
    """The run and, for each other model kind, the newest succeeded predict run on the same
    dataset and split (among the user's runs when a user is given): Table 1's four columns."""
    chosen = {run.model_kind: run}
    for other in modelzoo_selectors.predict_runs_succeeded(dataset=run.dataset, split=run.split, user=user):
        chosen.setdefault(other.model_kind, other)
    return chosen


def runs_by_ids(*, run_ids: Sequence[int], user=None) -> list[ModelRun]:
    """Predict runs with these ids, in the given order (only the user's when a user is given);
    NotFoundError for any other."""
    base = runs_for_user(user=user) if user is not None else modelzoo_selectors.runs_list(kind=ModelRun.Kind.PREDICT)
    runs = {run.pk: run for run in base.filter(pk__in=list(run_ids))}
    missing = [pk for pk in run_ids if pk not in runs]
    if missing:
        raise NotFoundError(f"Predict runs not found: {', '.join(map(str, missing))}.")
    return [runs[pk] for pk in run_ids]
