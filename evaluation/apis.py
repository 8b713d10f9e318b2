"""REST API of evaluation: the same tables, plots and exports as the pages, for researchers
(their own studies and runs; admins all). One view per operation."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import Study
from annotator.roles import IsResearcher
from config.errors import NotFoundError
from evaluation import exporters, plots, selectors, services, tables
from evaluation.models import EvaluationReport
from modelzoo.models import ModelRun


class _AnyAccept(BaseContentNegotiation):
    """File endpoints answer their own content type whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --------------------------------------------------------------------------------------
# Bodies and parameters for the OpenAPI schema
# --------------------------------------------------------------------------------------


class EvaluationErrorSerializer(serializers.Serializer):
    """An error: a message safe to show, and details (the handler in ``config.errors``)."""

    detail = serializers.CharField()
    extra = serializers.DictField()


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True})
class CellField(serializers.JSONField):
    """One table cell: text, a number, or null (missing)."""


class EvaluationTableColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=tables.COLUMN_KINDS)
    digits = serializers.IntegerField(help_text="Decimals shown for float columns.")


class EvaluationTableSerializer(serializers.Serializer):
    """One table (``tables.Table.to_dict()``): each row holds one cell per column."""

    key = serializers.CharField()
    title = serializers.CharField()
    columns = EvaluationTableColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField(child=CellField()))
    notes = serializers.ListField(child=serializers.CharField())


class EvaluationResultSerializer(serializers.Serializer):
    """The tables a succeeded report computed (``services.Evaluation.to_result()``)."""

    title = serializers.CharField()
    tables = serializers.DictField(child=EvaluationTableSerializer(), help_text="Tables keyed by table key.")


_NOT_FOUND = OpenApiResponse(EvaluationErrorSerializer, description="Unknown or not yours.")
_NOT_COMPUTED = OpenApiResponse(
    EvaluationErrorSerializer,
    description="Unknown or not yours, unknown key or format, or not computed yet "
    "(POST /api/evaluation/reports/ to compute it).",
)
_INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: messages keyed by field.")
_ATTACHMENT = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[status.HTTP_200_OK],
    description='attachment; filename="..."',
)


def _fmt(formats: Iterable[str]) -> OpenApiParameter:
    return OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(formats))


def _file_schema(operation_id: str, media_types: Iterable[str], description: str, *, parameters: list):
    """A download: the body in one of ``media_types``, or a JSON error. Explicit operation ids:
    the generated ones would carry the ``.`` between ``{key}`` and ``{fmt}``."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[*parameters, _ATTACHMENT],
        responses={
            (status.HTTP_200_OK, *dict.fromkeys(media_types)): OpenApiResponse(
                OpenApiTypes.BINARY, description=description
            ),
            status.HTTP_404_NOT_FOUND: _NOT_COMPUTED,
        },
    )


_TABLE_KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A table key: one of the evaluation's `tables`."
)
_PLOT_KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A plot key: one of the evaluation's `plots`."
)


def _table_schema(operation_id: str):
    return _file_schema(
        operation_id,
        exporters.TABLE_FORMATS.values(),
        "The table as CSV, JSON, Markdown or LaTeX.",
        parameters=[_TABLE_KEY, _fmt(exporters.TABLE_FORMATS)],
    )


def _plot_schema(operation_id: str):
    return _file_schema(
        operation_id,
        plots.PLOT_FORMATS.values(),
        "The plot as PNG or SVG.",
        parameters=[_PLOT_KEY, _fmt(plots.PLOT_FORMATS)],
    )


def _file(body: str | bytes, content_type: str, filename: str, *, attachment: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    if attachment:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _current_payload(current: services.Current) -> dict:
    evaluation = current.evaluation
    return {
        "title": evaluation.title if evaluation else "",
        "live": current.live,
        "error": current.error,
        "report": ReportOutputSerializer(current.report).data if current.report else None,
        "tables": {key: table.to_dict() for key, table in evaluation.tables.items()} if evaluation else None,
        "plots": evaluation.plot_keys if evaluation else [],
    }


def _evaluation(current: services.Current) -> services.Evaluation:
    if current.evaluation is None:
        raise NotFoundError(current.error or "Not computed yet: POST /api/evaluation/reports/ to compute it.")
    return current.evaluation


def _table_file(evaluation: services.Evaluation, key: str, fmt: str, stem: str) -> HttpResponse:
    if fmt not in exporters.TABLE_FORMATS:
        raise NotFoundError(f"Unknown table format {fmt!r}; use one of {', '.join(exporters.TABLE_FORMATS)}.")
    if key not in evaluation.tables:
        raise NotFoundError(f"No table {key!r}; tables: {', '.join(evaluation.tables)}.")
    body = exporters.table_render(evaluation.tables[key], fmt)
    return _file(body, f"{exporters.TABLE_FORMATS[fmt]}; charset=utf-8", f"{stem}-{key}.{fmt}")


def _plot_file(evaluation: services.Evaluation, key: str, fmt: str, stem: str) -> HttpResponse:
    if fmt not in plots.PLOT_FORMATS:
        raise NotFoundError(f"Unknown plot format {fmt!r}; use png or svg.")
    try:
        body = plots.plot_render(evaluation.tables, key, fmt)
    except KeyError:
        raise NotFoundError(f"No plot {key!r}; plots: {', '.join(evaluation.plot_keys)}.") from None
    return _file(body, plots.PLOT_FORMATS[fmt], f"{stem}-{key}.{fmt}")


class ReportOutputSerializer(serializers.ModelSerializer):
    runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    artifacts = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Files of a succeeded report: name to path."
    )

    class Meta:
        model = EvaluationReport
        fields = [
            "id",
            "study",
            "runs",
            "n_boot",
            "seed",
            "status",
            "progress",
            "progress_message",
            "error",
            "artifacts",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ReportDetailOutputSerializer(ReportOutputSerializer):
    result = EvaluationResultSerializer(allow_null=True, help_text="The tables, once the report succeeded.")

    class Meta(ReportOutputSerializer.Meta):
        fields = [*ReportOutputSerializer.Meta.fields, "result"]


class EvaluationOutputSerializer(serializers.Serializer):
    """The tables of a study, a run or a set of runs, and the report they come from
    (built by ``_current_payload``)."""

    title = serializers.CharField()
    live = serializers.BooleanField(help_text="Computed for this request rather than read from a report.")
    error = serializers.CharField(help_text="Why there are no tables (too large to compute now, or failed).")
    report = ReportOutputSerializer(allow_null=True, help_text="The report the tables come from, if any.")
    tables = serializers.DictField(
        child=EvaluationTableSerializer(), allow_null=True, help_text="Tables keyed by table key; null until computed."
    )
    plots = serializers.ListField(child=serializers.CharField(), help_text="Keys of the plots available.")


class _ResearcherApi(APIView):
    permission_classes = [IsResearcher]


class _FileApi(_ResearcherApi):
    content_negotiation_class = _AnyAccept


# --------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------


class StudyListApi(_ResearcherApi):
    """The studies the user may evaluate, newest first."""

    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        dataset = serializers.CharField(source="dataset.name")
        status = serializers.ChoiceField(choices=Study.Status.choices)
        sample_size = serializers.IntegerField()

        class Meta:
            ref_name = "EvaluationStudyListOutput"  # annotator has a StudyListApi too

    @extend_schema(operation_id="evaluation_studies_list", responses=OutputSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.studies_for_user(user=request.user).order_by("-created_at"), request
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class StudyEvaluationApi(_ResearcherApi):
    """Every table of a study (computed now when small, else the newest background result)."""

    @extend_schema(
        operation_id="evaluation_studies_retrieve",
        responses={status.HTTP_200_OK: EvaluationOutputSerializer, status.HTTP_404_NOT_FOUND: _NOT_FOUND},
    )
    def get(self, request, study_id: int):
        study = selectors.study_for_user(user=request.user, study_id=study_id)
        return Response(_current_payload(services.study_current(study=study)))


class StudyTableApi(_FileApi):
    """One table of a study as a file."""

    @_table_schema("evaluation_studies_tables_retrieve")
    def get(self, request, study_id: int, key: str, fmt: str):
        study = selectors.study_for_user(user=request.user, study_id=study_id)
        return _table_file(_evaluation(services.study_current(study=study)), key, fmt, f"study-{study.pk}")


class StudyPlotApi(_FileApi):
    """One plot of a study as an image."""

    @_plot_schema("evaluation_studies_plots_retrieve")
    def get(self, request, study_id: int, key: str, fmt: str):
        study = selectors.study_for_user(user=request.user, study_id=study_id)
        return _plot_file(_evaluation(services.study_current(study=study)), key, fmt, f"study-{study.pk}")


class StudyDatasetApi(_FileApi):
    """The multi-labelled dataset (``?all=1`` lists rejected labels too)."""

    @_file_schema(
        "evaluation_studies_dataset_retrieve",
        exporters.DATASET_FORMATS.values(),
        "The dataset as CSV or JSON.",
        parameters=[
            _fmt(exporters.DATASET_FORMATS),
            OpenApiParameter("all", OpenApiTypes.STR, enum=["1"], description="1: list rejected labels too."),
        ],
    )
    def get(self, request, study_id: int, fmt: str):
        study = selectors.study_for_user(user=request.user, study_id=study_id)
        if fmt not in exporters.DATASET_FORMATS:
            raise NotFoundError(f"Unknown dataset format {fmt!r}; use csv or json.")
        body = services.study_dataset_export(
            study=study, fmt=fmt, include_rejected=request.query_params.get("all") == "1"
        )
        return _file(body, f"{exporters.DATASET_FORMATS[fmt]}; charset=utf-8", f"study-{study.pk}-dataset.{fmt}")


# --------------------------------------------------------------------------------------
# Predict runs
# --------------------------------------------------------------------------------------


class RunListApi(_ResearcherApi):
    """The predict runs the user may evaluate."""

    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        model_kind = serializers.ChoiceField(choices=ModelRun.ModelKind.choices)
        dataset = serializers.CharField(source="dataset.name")
        split = serializers.CharField()
        status = serializers.ChoiceField(choices=ModelRun.Status.choices)
        finished_at = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "EvaluationRunListOutput"

    @extend_schema(operation_id="evaluation_runs_list", responses=OutputSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.runs_for_user(user=request.user), request)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class RunEvaluationApi(_ResearcherApi):
    """One predict run's tables, with the newest runs of the other kinds on its dataset."""

    @extend_schema(
        operation_id="evaluation_runs_retrieve",
        responses={status.HTTP_200_OK: EvaluationOutputSerializer, status.HTTP_404_NOT_FOUND: _NOT_FOUND},
    )
    def get(self, request, run_id: int):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return Response(_current_payload(services.run_current(run=run, user=request.user)))


class RunTableApi(_FileApi):
    """One table of a predict run as a file."""

    @_table_schema("evaluation_runs_tables_retrieve")
    def get(self, request, run_id: int, key: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return _table_file(_evaluation(services.run_current(run=run, user=request.user)), key, fmt, f"run-{run.pk}")


class RunPlotApi(_FileApi):
    """One plot of a predict run as an image."""

    @_plot_schema("evaluation_runs_plots_retrieve")
    def get(self, request, run_id: int, key: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return _plot_file(_evaluation(services.run_current(run=run, user=request.user)), key, fmt, f"run-{run.pk}")


class RunRetargetApi(_FileApi):
    """Clips of one event type or modality group (audio-visual, visual-only, audio-only, or a type)."""

    @_file_schema(
        "evaluation_runs_retarget_retrieve",
        exporters.DATASET_FORMATS.values(),
        "The run's clips of that target as CSV or JSON.",
        parameters=[
            OpenApiParameter(
                "target_name", OpenApiTypes.STR, OpenApiParameter.PATH, description="An event type or modality group."
            ),
            _fmt(exporters.DATASET_FORMATS),
        ],
    )
    def get(self, request, run_id: int, target_name: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        if fmt not in exporters.DATASET_FORMATS:
            raise NotFoundError(f"Unknown format {fmt!r}; use csv or json.")
        body = services.run_retarget_export(run=run, target=target_name, fmt=fmt)
        return _file(body, f"{exporters.DATASET_FORMATS[fmt]}; charset=utf-8", f"run-{run.pk}-{target_name}.{fmt}")


class RunsCompareApi(_ResearcherApi):
    """The paper's tables over several predict runs: ``?ids=1,2,3,4``."""

    class InputSerializer(serializers.Serializer):
        ids = serializers.CharField()

        def validate_ids(self, value: str) -> list[int]:
            try:
                ids = [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise serializers.ValidationError("a comma-separated list of run ids") from None
            if not ids:
                raise serializers.ValidationError("name at least one run id")
            return list(dict.fromkeys(ids))

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            status.HTTP_200_OK: EvaluationOutputSerializer,
            status.HTTP_400_BAD_REQUEST: _INVALID,
            status.HTTP_404_NOT_FOUND: _NOT_FOUND,
        },
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        runs = selectors.runs_by_ids(run_ids=params.validated_data["ids"], user=request.user)
        return Response(_current_payload(services.runs_current(runs=runs)))


# --------------------------------------------------------------------------------------
# Background reports
# --------------------------------------------------------------------------------------


class ReportListCreateApi(_ResearcherApi):
    """GET: the user's background evaluations. POST: queue ``evaluation.compute`` for a study
    or a set of predict runs; answers 202 with the report to poll."""

    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        study = serializers.IntegerField(required=False)
        runs = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)
        n_boot = serializers.IntegerField(default=services.DEFAULT_BOOT, min_value=1, max_value=services.MAX_BOOT)
        seed = serializers.IntegerField(default=0)

        def validate(self, attrs):
            if ("study" in attrs) == ("runs" in attrs):
                raise serializers.ValidationError("Give either study or runs.")
            return attrs

    @extend_schema(operation_id="evaluation_reports_list", responses=ReportOutputSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.reports_for_user(user=request.user), request)
        return paginator.get_paginated_response(ReportOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="evaluation_reports_create",
        request=InputSerializer,
        responses={
            status.HTTP_202_ACCEPTED: ReportOutputSerializer,
            status.HTTP_400_BAD_REQUEST: _INVALID,
            status.HTTP_404_NOT_FOUND: _NOT_FOUND,
        },
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        study = selectors.study_for_user(user=request.user, study_id=data["study"]) if "study" in data else None
        runs = selectors.runs_by_ids(run_ids=data["runs"], user=request.user) if "runs" in data else []
        report = services.report_create(
            created_by=request.user, study=study, runs=runs, n_boot=data["n_boot"], seed=data["seed"]
        )
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(_ResearcherApi):
    """Status and progress of a report, and its tables once it succeeded."""

    @extend_schema(
        operation_id="evaluation_reports_retrieve",
        responses={status.HTTP_200_OK: ReportDetailOutputSerializer, status.HTTP_404_NOT_FOUND: _NOT_FOUND},
    )
    def get(self, request, report_id: int):
        report = selectors.report_for_user(user=request.user, report_id=report_id)
        return Response({**ReportOutputSerializer(report).data, "result": report.result or None})


class ReportFileApi(_FileApi):
    """One file a succeeded report wrote (a table or a plot)."""

    @_file_schema(
        "evaluation_reports_files_retrieve",
        [*exporters.TABLE_FORMATS.values(), *plots.PLOT_FORMATS.values(), "application/octet-stream"],
        "The file, typed by its suffix.",
        parameters=[
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="A file name: one of the report's `artifacts`.",
            )
        ],
    )
    def get(self, request, report_id: int, name: str):
        report = selectors.report_for_user(user=request.user, report_id=report_id)
        path = services.report_artifact_path(report=report, name=name)
        suffix = path.suffix.lstrip(".")
        content_type = {**exporters.TABLE_FORMATS, **plots.PLOT_FORMATS}.get(suffix, "application/octet-stream")
        return _file(path.read_bytes(), content_type, f"report-{report.pk}-{name}")
