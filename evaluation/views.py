"""Researcher pages: the evaluation index, a dashboard per study, per predict run and per
set of runs, a report page, and downloads (tables, plots, datasets). Researchers see
their own studies and runs only (admins all); raters get 403, anonymous users the login.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from annotator import selectors as annotator_selectors
from annotator.roles import ResearcherRequiredMixin
from config.errors import ApplicationError, NotFoundError
from evaluation import dataset_exports, exporters, label_studio, plots, selectors, services
from evaluation.apis.files import media_urls
from evaluation.models import EvaluationReport

TABLE_FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "md": "Markdown", "tex": "LaTeX"}


def _display(table) -> dict:
    aligns = ["left" if column.kind == "text" else "right" for column in table.columns]
    return {
        "key": table.key,
        "title": table.title,
        "headers": list(zip([c.name for c in table.columns], aligns, strict=True)),
        "rows": [
            list(
                zip([exporters.format_cell(v, c) for v, c in zip(row, table.columns, strict=True)], aligns, strict=True)
            )
            for row in table.rows
        ],
        "notes": table.notes,
    }


def _download(body: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(
        body, content_type=f"{content_type}; charset=utf-8" if isinstance(body, str) else content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def parse_ids(values: list[str]) -> list[int]:
    """Run ids from ``?ids=1,2`` or ``?ids=1&ids=2``; Http404 when none or not numbers."""
    try:
        ids = [int(part) for value in values for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise Http404("ids must be a comma-separated list of run ids") from None
    if not ids:
        raise Http404("name the runs to compare with ?ids=1,2,3")
    return list(dict.fromkeys(ids))


@dataclass
class Target:
    """What a dashboard is about: a study, a predict run, or a set of predict runs."""

    kind: str
    title: str
    url: str
    query: str
    study: object = None
    runs: tuple = ()
    user: object = None

    def current(self) -> services.Current:
        if self.kind == "study":
            return services.study_current(study=self.study)
        if self.kind == "run":
            return services.run_current(run=self.runs[0], user=self.user)
        return services.runs_current(runs=self.runs)


class TargetMixin(ResearcherRequiredMixin):
    target_kind = "study"

    def get_target(self) -> Target:
        user = self.request.user
        try:
            if self.target_kind == "study":
                study = annotator_selectors.study_for_researcher(user=user, study_id=self.kwargs["study_id"])
                url = reverse("evaluation:study", args=[study.pk])
                return Target("study", f"Study: {study.name}", url, "", study=study)
            if self.target_kind == "run":
                run = selectors.run_for_user(user=user, run_id=self.kwargs["run_id"])
                url = reverse("evaluation:run", args=[run.pk])
                title = f"Predict run {run.pk}: {run.get_model_kind_display()}"
                return Target("run", title, url, "", runs=(run,), user=user)
            ids = parse_ids(self.request.GET.getlist("ids"))
            runs = selectors.runs_by_ids(run_ids=ids, user=user)
            query = "?ids=" + ",".join(map(str, ids))
            return Target(
                "compare",
                f"Predict runs {', '.join(map(str, ids))}",
                reverse("evaluation:compare"),
                query,
                runs=tuple(runs),
            )
        except NotFoundError as error:
            raise Http404(error.message) from error

    def evaluation_or_404(self, target: Target) -> services.Evaluation:
        current = target.current()
        if current.evaluation is None:
            raise Http404(current.error or "Not computed yet: start the evaluation task from the dashboard.")
        return current.evaluation


class IndexView(ResearcherRequiredMixin, TemplateView):
    template_name = "evaluation/index.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "studies": annotator_selectors.studies_for_researcher(user=user),
            "runs": selectors.runs_for_user(user=user).filter(status="succeeded"),
            "reports": selectors.reports_for_user(user=user)[:20],
        }


class DashboardView(TargetMixin, TemplateView):
    template_name = "evaluation/dashboard.html"

    def get_context_data(self, **kwargs):
        target = self.get_target()
        current = target.current()
        evaluation = current.evaluation
        context = {
            **super().get_context_data(**kwargs),
            "target": target,
            "current": current,
            "report": current.report,
            "table_formats": TABLE_FORMAT_LABELS,
            "plot_formats": list(plots.PLOT_FORMATS),
            "tables": [_display(table) for table in evaluation.tables.values()] if evaluation else [],
            "plot_keys": evaluation.plot_keys if evaluation else [],
            "retargets": list(exporters.RETARGET_GROUPS),
        }
        if target.kind == "run":
            context["is_event_heads"] = target.runs[0].model_kind == "event_heads"
        return context


class TableDownloadView(TargetMixin, View):
    def get(self, request: HttpRequest, key: str, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in exporters.TABLE_FORMATS:
            raise Http404(f"Unknown format {fmt}")
        target = self.get_target()
        evaluation = self.evaluation_or_404(target)
        if key not in evaluation.tables:
            raise Http404(f"No table {key}")
        body = exporters.table_render(evaluation.tables[key], fmt)
        return _download(body, exporters.TABLE_FORMATS[fmt], f"{target.kind}-{key}.{fmt}")


class PlotView(TargetMixin, View):
    def get(self, request: HttpRequest, key: str, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in plots.PLOT_FORMATS:
            raise Http404(f"Unknown format {fmt}")
        target = self.get_target()
        evaluation = self.evaluation_or_404(target)
        try:
            body = plots.plot_render(evaluation.tables, key, fmt)
        except KeyError:
            raise Http404(f"No plot {key}") from None
        response = HttpResponse(body, content_type=plots.PLOT_FORMATS[fmt])
        if request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="{target.kind}-{key}.{fmt}"'
        return response


class StudyDatasetView(TargetMixin, View):
    target_kind = "study"

    def get(self, request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in exporters.STUDY_DATASET_FORMATS:
            raise Http404(f"Unknown format {fmt}")
        target = self.get_target()
        try:
            body = services.study_dataset_export(
                study=target.study,
                fmt=fmt,
                include_rejected=request.GET.get("all") == "1",
                licence=request.GET.get("licence", "unknown"),
            )
        except ApplicationError as error:  # a licence that is no licence id
            return HttpResponseBadRequest(error.message, content_type="text/plain; charset=utf-8")
        return _download(
            body, exporters.STUDY_DATASET_FORMATS[fmt], exporters.study_dataset_filename(target.study.pk, fmt)
        )


class StudyLabelStudioView(TargetMixin, View):
    """The study's Label Studio tasks (JSON) or labelling config (XML), as a download."""

    target_kind = "study"

    def get(self, request: HttpRequest, part: str, **kwargs) -> HttpResponse:
        if part not in dataset_exports.LABEL_STUDIO_FILES:
            raise Http404(f"No Label Studio file {part}")
        target = self.get_target()
        body = services.study_label_studio_export(study=target.study, part=part, media_url=media_urls(request))
        content_type = label_studio.FORMATS[dataset_exports.LABEL_STUDIO_FILES[part]]
        return _download(body, content_type, dataset_exports.label_studio_filename(target.study.pk, part))


class RunRetargetView(TargetMixin, View):
    target_kind = "run"

    def get(self, request: HttpRequest, target_name: str, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in exporters.DATASET_FORMATS:
            raise Http404(f"Unknown format {fmt}")
        target = self.get_target()
        run = target.runs[0]
        try:
            body = services.run_retarget_export(run=run, target=target_name, fmt=fmt)
        except ApplicationError as error:
            raise Http404(error.message) from error
        return _download(body, exporters.DATASET_FORMATS[fmt], f"run-{run.pk}-{target_name}.{fmt}")


class ComputeView(TargetMixin, View):
    """POST: start the ``evaluation.compute`` task for this target, then show its report."""

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        target = self.get_target()
        try:
            report = services.report_create(
                created_by=request.user,
                study=target.study if target.kind == "study" else None,
                runs=list(target.runs),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(target.url + target.query)
        messages.success(request, f"Evaluation {report.pk} queued.")
        return redirect("evaluation:report", report_id=report.pk)


class ReportView(ResearcherRequiredMixin, TemplateView):
    template_name = "evaluation/report.html"

    def get_context_data(self, **kwargs):
        try:
            report = selectors.report_for_user(user=self.request.user, report_id=self.kwargs["report_id"])
        except NotFoundError as error:
            raise Http404(error.message) from error
        evaluation = (
            services.Evaluation.from_result(report.result)
            if report.status == EvaluationReport.Status.SUCCEEDED and report.result
            else None
        )
        return {
            **super().get_context_data(**kwargs),
            "report": report,
            "tables": [_display(table) for table in evaluation.tables.values()] if evaluation else [],
            "files": sorted((report.artifacts or {}).keys()),
        }


class ReportFileView(ResearcherRequiredMixin, View):
    def get(self, request: HttpRequest, report_id: int, name: str) -> HttpResponse:
        try:
            report = selectors.report_for_user(user=request.user, report_id=report_id)
            path = services.report_artifact_path(report=report, name=name)
        except NotFoundError as error:
            raise Http404(error.message) from error
        suffix = path.suffix.lstrip(".")
        content_type = {**exporters.TABLE_FORMATS, **plots.PLOT_FORMATS}.get(suffix, "application/octet-stream")
        return _download(path.read_bytes(), content_type, f"report-{report.pk}-{name}")
