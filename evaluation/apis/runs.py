"""Predict runs' evaluations: one run with its companions, or several compared."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api import IdListField, ResearcherApi, ResearcherListApi, error_response, validated
from config.errors import NotFoundError
from evaluation import exporters, selectors, services
from evaluation.apis.files import FileApi, computed, file_response, plot_file, table_file
from evaluation.apis.schema import (
    INVALID,
    NOT_FOUND,
    EvaluationOutputSerializer,
    current_payload,
    file_schema,
    fmt_parameter,
    plot_schema,
    table_schema,
)
from modelzoo.models import ModelRun


class RunListApi(ResearcherListApi):
    """The predict runs the user may evaluate."""

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
        return self.paginated(selectors.runs_for_user(user=request.user), self.OutputSerializer)


class RunEvaluationApi(ResearcherApi):
    """One predict run's tables, with the newest runs of the other kinds on its dataset."""

    @extend_schema(
        operation_id="evaluation_runs_retrieve",
        responses={status.HTTP_200_OK: EvaluationOutputSerializer, status.HTTP_404_NOT_FOUND: NOT_FOUND},
    )
    def get(self, request, run_id: int):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return Response(current_payload(services.run_current(run=run, user=request.user)))


class RunTableApi(FileApi):
    """One table of a predict run as a file."""

    @table_schema("evaluation_runs_tables_retrieve")
    def get(self, request, run_id: int, key: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return table_file(computed(services.run_current(run=run, user=request.user)), key, fmt, f"run-{run.pk}")


class RunPlotApi(FileApi):
    """One plot of a predict run as an image."""

    @plot_schema("evaluation_runs_plots_retrieve")
    def get(self, request, run_id: int, key: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        return plot_file(computed(services.run_current(run=run, user=request.user)), key, fmt, f"run-{run.pk}")


class RunRetargetApi(FileApi):
    """Clips of one event type or modality group (audio-visual, visual-only, audio-only, or a type)."""

    @file_schema(
        "evaluation_runs_retarget_retrieve",
        exporters.DATASET_FORMATS.values(),
        "The run's clips of that target as CSV or JSON.",
        parameters=[
            OpenApiParameter(
                "target_name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(exporters.RETARGET_GROUPS),
                description="An event type or modality group.",
            ),
            fmt_parameter(exporters.DATASET_FORMATS),
        ],
        errors={status.HTTP_400_BAD_REQUEST: error_response("Not a predict run of the event-head model.")},
    )
    def get(self, request, run_id: int, target_name: str, fmt: str):
        run = selectors.run_for_user(user=request.user, run_id=run_id)
        if fmt not in exporters.DATASET_FORMATS:
            raise NotFoundError(f"Unknown format {fmt!r}; use csv or json.")
        if target_name not in exporters.RETARGET_GROUPS:
            raise NotFoundError(f"No target {target_name!r}; targets: {', '.join(exporters.RETARGET_GROUPS)}.")
        body = services.run_retarget_export(run=run, target=target_name, fmt=fmt)
        return file_response(
            body, f"{exporters.DATASET_FORMATS[fmt]}; charset=utf-8", f"run-{run.pk}-{target_name}.{fmt}"
        )


class RunsCompareApi(ResearcherApi):
    """The paper's tables over several predict runs: ``?ids=1,2,3,4``."""

    class InputSerializer(serializers.Serializer):
        ids = IdListField(help_text="Predict run ids, comma-separated.")

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            status.HTTP_200_OK: EvaluationOutputSerializer,
            status.HTTP_400_BAD_REQUEST: INVALID,
            status.HTTP_404_NOT_FOUND: NOT_FOUND,
        },
    )
    def get(self, request):
        ids = validated(self.InputSerializer, request.query_params)["ids"]
        runs = selectors.runs_by_ids(run_ids=ids, user=request.user)
        return Response(current_payload(services.runs_current(runs=runs)))
