"""Datasets created and filled through the API: a dataset, then import jobs for a taxonomy, a
clip list, media (uploaded beforehand, annotator.apis.media_uploads, or a server folder),
proposals, gold labels and Label Studio exports; each job's progress and its row-error report.
Researchers only, into datasets they own; the pages (annotator.import_views) validate with the
same serializers."""

from __future__ import annotations

import csv
import io
import re
from abc import ABCMeta, abstractmethod

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from annotator import selectors, services
from annotator.importers.clip_formats import CLIP_READERS
from annotator.importers.label_studio_tasks import MAX_CONFIG_CHARS
from annotator.importers.proposal_files import PROPOSAL_FORMATS
from annotator.importers.taxonomy import BUILTIN_TAXONOMIES, CATEGORY_READERS
from annotator.models import Dataset, ImportJob, Study, Taxonomy
from config.api import IdField, ResearcherApi, ResearcherListApi, error_response, validated

DATASET_NOT_FOUND = error_response("No dataset with this id among those you own.")
JOB_NOT_FOUND = error_response("No import with this id among yours.")
INVALID_UPLOAD = error_response("Invalid input (each field's messages under `extra.fields`), or unusable input.")
TOO_LARGE = error_response("The body or a file is larger than AVLABEL_UPLOAD_MAX_BYTES / _FILE_BYTES.")
SHOWN_ERRORS = 20
UPLOAD_PARSERS = [MultiPartParser, FormParser]
_FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")


class UploadApi(ResearcherApi):
    """An endpoint that takes files: multipart bodies up to AVLABEL_UPLOAD_MAX_BYTES
    (config.middleware reads `max_body_setting`)."""

    parser_classes = UPLOAD_PARSERS
    max_body_setting = "AVLABEL_UPLOAD_MAX_BYTES"


class ImportJobOutputSerializer(serializers.ModelSerializer):
    class ErrorRowSerializer(serializers.Serializer):
        line = serializers.IntegerField(allow_null=True, help_text="Line in the file; null: not tied to a line.")
        message = serializers.CharField()

    owner = serializers.CharField(source="owner.username")
    dataset_name = serializers.CharField(source="dataset.name", allow_null=True, default=None)
    progress = serializers.FloatField(help_text="0..1")
    is_finished = serializers.BooleanField()
    result = serializers.DictField(help_text="Counts: created, updated, unchanged and the importer's own.")
    options = serializers.DictField()
    errors_preview = ErrorRowSerializer(many=True, required=False, help_text=f"The first {SHOWN_ERRORS} row errors.")
    errors_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "status", "is_finished", "owner", "dataset", "dataset_name", "options", "file_name",
            "progress", "progress_done", "progress_total", "message", "result", "error_count", "errors_preview",
            "errors_url", "page_url", "created_at", "started_at", "finished_at",
        ]  # fmt: skip

    def get_errors_url(self, job: ImportJob) -> str:
        return reverse("annotator-api:import-job-errors", args=[job.pk])

    def get_page_url(self, job: ImportJob) -> str:
        return reverse("annotator:import-job-detail", args=[job.pk])


def job_payload(job: ImportJob) -> dict:
    """A job as the API answers it (and the job page starts from), its first row errors included."""
    job.errors_preview = [
        {"line": line, "message": message} for line, message in selectors.import_job_errors(job=job, limit=SHOWN_ERRORS)
    ]
    return ImportJobOutputSerializer(job).data


def _accepted(job: ImportJob) -> Response:
    body = job_payload(job)
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["page_url"]})


# --- datasets and taxonomies -------------------------------------------------------------------


class TaxonomyListApi(ResearcherListApi):
    class OutputSerializer(serializers.ModelSerializer):
        category_count = serializers.IntegerField()

        class Meta:
            model = Taxonomy
            fields = ["id", "name", "source", "category_count", "created_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        return self.paginated(selectors.taxonomy_list(), self.OutputSerializer)


class DatasetCreateApi(ResearcherApi):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=Dataset._meta.get_field("name").max_length)
        taxonomy = serializers.PrimaryKeyRelatedField(queryset=Taxonomy.objects.all(), pk_field=IdField())
        description = serializers.CharField(required=False, default="", allow_blank=True, max_length=10_000)

        def validate_name(self, value: str) -> str:
            if Dataset.objects.filter(name=value.strip()).exists():
                raise serializers.ValidationError("A dataset with this name exists already.")
            return value.strip()

    class OutputSerializer(serializers.ModelSerializer):
        taxonomy = serializers.CharField(source="taxonomy.name")
        owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

        class Meta:
            model = Dataset
            fields = ["id", "name", "description", "taxonomy", "owner", "media_root", "created_at"]

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        dataset = services.dataset_create(owner=request.user, **data)
        return Response(self.OutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class TaxonomyImportApi(UploadApi):
    """A class-list file (VGGSound stat.csv, or one label a line) or a built-in class list as a
    taxonomy; answers the queued job."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(
            max_length=Taxonomy._meta.get_field("name").max_length,
            required=False,
            default="",
            allow_blank=True,
            help_text="Taxonomy name; default: the built-in's.",
        )
        file = serializers.FileField(required=False, help_text="A class-list file.")
        format = serializers.ChoiceField(
            choices=sorted(CATEGORY_READERS), required=False, default="", help_text="Default: by the file's suffix."
        )
        builtin = serializers.ChoiceField(choices=sorted(BUILTIN_TAXONOMIES), required=False, default="")

        def validate(self, attrs):
            if bool(attrs.get("file")) == bool(attrs["builtin"]):
                raise serializers.ValidationError("Upload a class-list file or name a built-in class list.")
            if attrs.get("file") and not attrs["name"].strip():
                raise serializers.ValidationError({"name": "Name the taxonomy of an uploaded class list."})
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={status.HTTP_202_ACCEPTED: ImportJobOutputSerializer, status.HTTP_400_BAD_REQUEST: INVALID_UPLOAD},
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        job = services.taxonomy_import_start(
            owner=request.user,
            name=data["name"],
            upload=data.get("file"),
            file_format=data["format"],
            builtin=data["builtin"],
        )
        return _accepted(job)


# --- imports into a dataset ----------------------------------------------------------------------


class ClipsImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The clip list.")
    format = serializers.ChoiceField(choices=sorted(CLIP_READERS), help_text="See docs/generic_csv.md.")
    split = serializers.CharField(
        max_length=20,
        required=False,
        default="",
        allow_blank=True,
        help_text="vggsound: import only this split; other formats: the split of clips the file gives none.",
    )


class ProposalsImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Proposals as CSV or JSON (docs/generic_csv.md).")
    name = serializers.CharField(max_length=200, help_text="Proposal set name; a rerun replaces its content.")
    format = serializers.ChoiceField(
        choices=["", *PROPOSAL_FORMATS], required=False, default="", help_text="Default: by the file's suffix."
    )


class GoldImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Gold CSV: clip_id,label,truth[,modality] (docs/gold_labels.md).")


class LabelStudioImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text='A Label Studio project export ("Export", format JSON).')
    study = serializers.CharField(
        max_length=Study._meta.get_field("name").max_length,
        required=False,
        default="",
        allow_blank=True,
        help_text="The study its annotations become; default 'Label Studio: <file name>'. A rerun updates it.",
    )
    config = serializers.CharField(
        max_length=MAX_CONFIG_CHARS,
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text='The labelling config (XML): its <Video value="$key"/> names the task.data key; default "video".',
    )


class MediaImportInputSerializer(serializers.Serializer):
    folder = serializers.CharField(
        max_length=1000,
        required=False,
        default="",
        allow_blank=True,
        help_text="A server folder under AVLABEL_MEDIA_IMPORT_ROOTS; empty: the files uploaded to the dataset.",
    )
    reprobe = serializers.BooleanField(default=False, help_text="Probe again files unchanged since the last import.")


def own_dataset(request, dataset_id: int) -> Dataset:
    """The researcher's own dataset (shared ones are not theirs to import into), else 404."""
    return selectors.dataset_for_owner(user=request.user, dataset_id=dataset_id)


_JOB_RESPONSES = {
    status.HTTP_202_ACCEPTED: ImportJobOutputSerializer,
    status.HTTP_400_BAD_REQUEST: INVALID_UPLOAD,
    status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: TOO_LARGE,
}


class DatasetImportApi(UploadApi, metaclass=ABCMeta):
    """An import into one of the researcher's own datasets: the body checked by the
    subclass's InputSerializer, handed to its `start` (an import service), answered 202
    with the job queued."""

    InputSerializer: type[serializers.Serializer]

    @abstractmethod
    def start(self, *, owner, dataset: Dataset, data: dict) -> ImportJob:
        """Start the import job through its service."""

    @extend_schema(responses=_JOB_RESPONSES)
    def post(self, request, dataset_id: int):
        dataset = own_dataset(request, dataset_id)
        data = validated(self.InputSerializer, request.data)
        return _accepted(self.start(owner=request.user, dataset=dataset, data=data))


class ClipsImportApi(DatasetImportApi):
    InputSerializer = ClipsImportInputSerializer

    def start(self, *, owner, dataset, data):
        return services.clips_import_start(
            owner=owner, dataset=dataset, upload=data["file"], file_format=data["format"], split=data["split"]
        )


class ProposalsImportApi(DatasetImportApi):
    InputSerializer = ProposalsImportInputSerializer

    def start(self, *, owner, dataset, data):
        return services.proposals_import_start(
            owner=owner, dataset=dataset, upload=data["file"], name=data["name"], file_format=data["format"]
        )


class GoldImportApi(DatasetImportApi):
    InputSerializer = GoldImportInputSerializer

    def start(self, *, owner, dataset, data):
        return services.gold_import_start(owner=owner, dataset=dataset, upload=data["file"])


class LabelStudioImportApi(DatasetImportApi):
    """A Label Studio JSON export: its tasks as clips, predictions as proposal sets (one per
    model_version) and annotations as the ratings of a closed study."""

    InputSerializer = LabelStudioImportInputSerializer

    def start(self, *, owner, dataset, data):
        return services.label_studio_import_start(
            owner=owner, dataset=dataset, upload=data["file"], study_name=data["study"], config=data["config"]
        )


class MediaImportApi(DatasetImportApi):
    """Match and probe the dataset's media: the files uploaded to it, or a server folder."""

    InputSerializer = MediaImportInputSerializer
    parser_classes = [JSONParser, *UPLOAD_PARSERS]
    max_body_setting = ""  # a JSON body or a folder name: the API's own body cap, not the upload one

    def start(self, *, owner, dataset, data):
        return services.media_import_start(owner=owner, dataset=dataset, folder=data["folder"], reprobe=data["reprobe"])


# --- jobs ------------------------------------------------------------------------------------------


class ImportJobListApi(ResearcherListApi):
    class FilterSerializer(serializers.Serializer):
        dataset = IdField(required=False)

    class OutputSerializer(ImportJobOutputSerializer):
        class Meta(ImportJobOutputSerializer.Meta):
            fields = [name for name in ImportJobOutputSerializer.Meta.fields if name != "errors_preview"]

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        jobs = selectors.import_jobs_for_researcher(user=request.user)
        if filters.get("dataset") is not None:
            jobs = jobs.filter(dataset_id=filters["dataset"])
        return self.paginated(jobs, self.OutputSerializer)


class ImportJobDetailApi(ResearcherApi):
    OutputSerializer = ImportJobOutputSerializer

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer, status.HTTP_404_NOT_FOUND: JOB_NOT_FOUND})
    def get(self, request, job_id: int):
        job = selectors.import_job_for_researcher(user=request.user, job_id=job_id)
        return Response(job_payload(job), status=status.HTTP_200_OK)


class _AnyAccept(BaseContentNegotiation):
    """The report answers CSV whatever the client accepts (errors: the JSON envelope)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ImportJobErrorsApi(ResearcherApi):
    """The job's row errors as CSV (line, message), every one of them."""

    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="import_job_errors_csv",
        responses={
            (status.HTTP_200_OK, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="line,message"),
            status.HTTP_404_NOT_FOUND: JOB_NOT_FOUND,
        },
    )
    def get(self, request, job_id: int):
        job = selectors.import_job_for_researcher(user=request.user, job_id=job_id)
        response = HttpResponse(
            errors_csv(selectors.import_job_errors(job=job)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


def errors_csv(errors) -> str:
    """`line,message` rows; text a spreadsheet would run as a formula gets a leading '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "message"])
    for line, message in errors:
        writer.writerow(["" if line is None else line, "'" + message if _FORMULA_START.match(message) else message])
    return out.getvalue()
