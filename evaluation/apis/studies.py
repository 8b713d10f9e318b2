"""A study's evaluation: its tables, plots and multi-labelled dataset, and the study as a
Label Studio project."""

from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors as annotator_selectors
from annotator.models import Study
from config.api import ResearcherApi, ResearcherListApi, error_response
from config.errors import NotFoundError
from evaluation import dataset_exports, dataset_files, exporters, label_studio, services
from evaluation.apis.files import FileApi, computed, file_response, media_urls, plot_file, table_file
from evaluation.apis.schema import (
    NOT_FOUND,
    EvaluationOutputSerializer,
    current_payload,
    file_schema,
    fmt_parameter,
    plot_schema,
    table_schema,
)


class StudyListApi(ResearcherListApi):
    """The studies the user may evaluate, newest first."""

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
        return self.paginated(annotator_selectors.studies_for_researcher(user=request.user), self.OutputSerializer)


class StudyEvaluationApi(ResearcherApi):
    """Every table of a study (computed now when small, else the newest background result)."""

    @extend_schema(
        operation_id="evaluation_studies_retrieve",
        responses={status.HTTP_200_OK: EvaluationOutputSerializer, status.HTTP_404_NOT_FOUND: NOT_FOUND},
    )
    def get(self, request, study_id: int):
        study = annotator_selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(current_payload(services.study_current(study=study)))


class StudyTableApi(FileApi):
    """One table of a study as a file."""

    @table_schema("evaluation_studies_tables_retrieve")
    def get(self, request, study_id: int, key: str, fmt: str):
        study = annotator_selectors.study_for_researcher(user=request.user, study_id=study_id)
        return table_file(computed(services.study_current(study=study)), key, fmt, f"study-{study.pk}")


class StudyPlotApi(FileApi):
    """One plot of a study as an image."""

    @plot_schema("evaluation_studies_plots_retrieve")
    def get(self, request, study_id: int, key: str, fmt: str):
        study = annotator_selectors.study_for_researcher(user=request.user, study_id=study_id)
        return plot_file(computed(services.study_current(study=study)), key, fmt, f"study-{study.pk}")


class StudyDatasetApi(FileApi):
    """The multi-labelled dataset (``?all=1`` lists rejected labels too; ``?licence=`` names
    the licence the Hugging Face card declares)."""

    @file_schema(
        "evaluation_studies_dataset_retrieve",
        exporters.STUDY_DATASET_FORMATS.values(),
        "The dataset as CSV, JSON, JSON Lines, Parquet or a zipped Hugging Face folder (hf).",
        parameters=[
            fmt_parameter(exporters.STUDY_DATASET_FORMATS),
            OpenApiParameter("all", OpenApiTypes.STR, enum=["1"], description="1: list rejected labels too."),
            OpenApiParameter(
                "licence",
                OpenApiTypes.STR,
                pattern=dataset_files.LICENCE_PATTERN.pattern,
                description="The licence id the dataset card declares (format hf), e.g. cc-by-4.0; default unknown.",
            ),
        ],
        errors={status.HTTP_400_BAD_REQUEST: error_response("A licence that is not a licence id.")},
    )
    def get(self, request, study_id: int, fmt: str):
        study = annotator_selectors.study_for_researcher(user=request.user, study_id=study_id)
        if fmt not in exporters.STUDY_DATASET_FORMATS:
            raise NotFoundError(f"Unknown dataset format {fmt!r}; use {', '.join(exporters.STUDY_DATASET_FORMATS)}.")
        body = services.study_dataset_export(
            study=study,
            fmt=fmt,
            include_rejected=request.query_params.get("all") == "1",
            licence=request.query_params.get("licence", "unknown"),
        )
        return file_response(body, exporters.dataset_content_type(fmt), exporters.study_dataset_filename(study.pk, fmt))


class StudyLabelStudioApi(FileApi):
    """The study as a Label Studio project: `tasks` (the JSON Label Studio imports: clips with
    their media URLs, predictions from the proposal set, annotations from the ratings) or
    `config` (its labelling config, XML)."""

    @file_schema(
        "evaluation_studies_label_studio_retrieve",
        label_studio.FORMATS.values(),
        "Label Studio tasks (JSON) or labelling config (XML).",
        json_body=build_array_type(build_basic_type(OpenApiTypes.OBJECT)),
        parameters=[
            OpenApiParameter(
                "part", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(dataset_exports.LABEL_STUDIO_FILES)
            )
        ],
    )
    def get(self, request, study_id: int, part: str):
        study = annotator_selectors.study_for_researcher(user=request.user, study_id=study_id)
        if part not in dataset_exports.LABEL_STUDIO_FILES:
            raise NotFoundError(f"No Label Studio file {part!r}; use {', '.join(dataset_exports.LABEL_STUDIO_FILES)}.")
        body = services.study_label_studio_export(study=study, part=part, media_url=media_urls(request))
        fmt = dataset_exports.LABEL_STUDIO_FILES[part]
        return file_response(
            body, f"{label_studio.FORMATS[fmt]}; charset=utf-8", dataset_exports.label_studio_filename(study.pk, part)
        )
