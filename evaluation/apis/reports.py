"""Background evaluations: queue one, follow its progress, download what it wrote."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors as annotator_selectors
from config.api import DB_INT_MAX, DB_INT_MIN, IdField, ResearcherApi, ResearcherListApi, validated
from evaluation import exporters, plots, selectors, services
from evaluation.apis.files import FileApi, file_response
from evaluation.apis.schema import (
    INVALID,
    NOT_FOUND,
    ReportDetailOutputSerializer,
    ReportOutputSerializer,
    file_schema,
)


class ReportListCreateApi(ResearcherListApi):
    """GET: the user's background evaluations. POST: queue ``evaluation.compute`` for a study
    or a set of predict runs; answers 202 with the report to poll."""

    class InputSerializer(serializers.Serializer):
        study = IdField(required=False)
        runs = serializers.ListField(child=IdField(), required=False, allow_empty=False, max_length=100)
        n_boot = serializers.IntegerField(default=services.DEFAULT_BOOT, min_value=1, max_value=services.MAX_BOOT)
        seed = serializers.IntegerField(default=0, min_value=DB_INT_MIN, max_value=DB_INT_MAX)

        def validate(self, attrs):
            if ("study" in attrs) == ("runs" in attrs):
                raise serializers.ValidationError("Give either study or runs.")
            return attrs

    @extend_schema(operation_id="evaluation_reports_list", responses=ReportOutputSerializer(many=True))
    def get(self, request):
        return self.paginated(selectors.reports_for_user(user=request.user), ReportOutputSerializer)

    @extend_schema(
        operation_id="evaluation_reports_create",
        request=InputSerializer,
        responses={
            status.HTTP_202_ACCEPTED: ReportOutputSerializer,
            status.HTTP_400_BAD_REQUEST: INVALID,
            status.HTTP_404_NOT_FOUND: NOT_FOUND,
        },
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        study = (
            annotator_selectors.study_for_researcher(user=request.user, study_id=data["study"])
            if "study" in data
            else None
        )
        runs = selectors.runs_by_ids(run_ids=data["runs"], user=request.user) if "runs" in data else []
        report = services.report_create(
            created_by=request.user, study=study, runs=runs, n_boot=data["n_boot"], seed=data["seed"]
        )
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(ResearcherApi):
    """Status and progress of a report, and its tables once it succeeded."""

    @extend_schema(
        operation_id="evaluation_reports_retrieve",
        responses={status.HTTP_200_OK: ReportDetailOutputSerializer, status.HTTP_404_NOT_FOUND: NOT_FOUND},
    )
    def get(self, request, report_id: int):
        report = selectors.report_for_user(user=request.user, report_id=report_id)
        return Response({**ReportOutputSerializer(report).data, "result": report.result or None})


class ReportFileApi(FileApi):
    """One file a succeeded report wrote (a table or a plot)."""

    @file_schema(
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
        return file_response(path.read_bytes(), content_type, f"report-{report.pk}-{name}")
