"""Bodies, parameters and error responses the evaluation APIs document, and the payload of
an evaluation (``EvaluationOutputSerializer``)."""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status

from config.api import error_response
from evaluation import exporters, plots, services, tables
from evaluation.models import EvaluationReport


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
    (built by ``current_payload``)."""

    title = serializers.CharField()
    live = serializers.BooleanField(help_text="Computed for this request rather than read from a report.")
    error = serializers.CharField(help_text="Why there are no tables (too large to compute now, or failed).")
    report = ReportOutputSerializer(allow_null=True, help_text="The report the tables come from, if any.")
    tables = serializers.DictField(
        child=EvaluationTableSerializer(), allow_null=True, help_text="Tables keyed by table key; null until computed."
    )
    plots = serializers.ListField(child=serializers.CharField(), help_text="Keys of the plots available.")


def current_payload(current: services.Current) -> dict:
    """An ``EvaluationOutputSerializer`` body."""
    evaluation = current.evaluation
    return {
        "title": evaluation.title if evaluation else "",
        "live": current.live,
        "error": current.error,
        "report": ReportOutputSerializer(current.report).data if current.report else None,
        "tables": {key: table.to_dict() for key, table in evaluation.tables.items()} if evaluation else None,
        "plots": evaluation.plot_keys if evaluation else [],
    }


# --------------------------------------------------------------------------------------
# Errors (the one envelope of ``config.errors``) and file downloads
# --------------------------------------------------------------------------------------

NOT_FOUND = error_response("Unknown or not yours.")
NOT_COMPUTED = error_response(
    "Unknown or not yours, unknown key or format, or not computed yet (POST /api/evaluation/reports/ to compute it)."
)
INVALID = error_response("Invalid input: each field's messages under `extra.fields`.")

_ATTACHMENT = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[status.HTTP_200_OK],
    description='attachment; filename="..."',
)
_TABLE_KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A table key: one of the evaluation's `tables`."
)
_PLOT_KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A plot key: one of the evaluation's `plots`."
)


def fmt_parameter(formats: Iterable[str]) -> OpenApiParameter:
    return OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(formats))


def file_schema(
    operation_id: str,
    media_types: Iterable[str],
    description: str,
    *,
    parameters: list,
    json_body=OpenApiTypes.OBJECT,
    errors: dict | None = None,
):
    """A download: the body in one of ``media_types`` (JSON as ``json_body``, any other as
    bytes), or a JSON error (404 and ``errors``). Explicit operation ids: the generated ones
    would carry the ``.`` between ``{key}`` and ``{fmt}``."""
    media_types = list(dict.fromkeys(media_types))
    files = [media_type for media_type in media_types if media_type != "application/json"]
    responses = {(status.HTTP_200_OK, *files): OpenApiResponse(OpenApiTypes.BINARY, description=description)}
    if "application/json" in media_types:
        responses[(status.HTTP_200_OK, "application/json")] = OpenApiResponse(json_body, description=description)
    return extend_schema(
        operation_id=operation_id,
        parameters=[*parameters, _ATTACHMENT],
        responses={**responses, status.HTTP_404_NOT_FOUND: NOT_COMPUTED, **(errors or {})},
    )


def table_schema(operation_id: str):
    return file_schema(
        operation_id,
        exporters.TABLE_FORMATS.values(),
        "The table as CSV, JSON, Markdown or LaTeX.",
        parameters=[_TABLE_KEY, fmt_parameter(exporters.TABLE_FORMATS)],
        json_body=EvaluationTableSerializer,
    )


def plot_schema(operation_id: str):
    return file_schema(
        operation_id,
        plots.PLOT_FORMATS.values(),
        "The plot as PNG or SVG.",
        parameters=[_PLOT_KEY, fmt_parameter(plots.PLOT_FORMATS)],
    )
