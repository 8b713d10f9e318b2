"""REST API of the model zoo (researchers only): runs, starting and cancelling them, and the
predictions of a run. One APIView per operation; they call selectors and services only."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from annotator.models import Dataset
from annotator.roles import IsResearcher
from config.errors import NotFoundError
from modelzoo import selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn.config import CONFIGS


class BaseApi(APIView):
    permission_classes = [IsResearcher]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _dataset(dataset_id: int) -> Dataset:
    try:
        return Dataset.objects.get(pk=dataset_id)
    except Dataset.DoesNotExist:
        raise NotFoundError(f"dataset {dataset_id} does not exist") from None


class RunSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.name")
    dataset_id = serializers.IntegerField()
    source_run_id = serializers.IntegerField(allow_null=True)
    proposal_set_id = serializers.IntegerField(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    class Meta:
        model = ModelRun
        fields = [
            "id",
            "kind",
            "model_kind",
            "recipe",
            "config_name",
            "dataset",
            "dataset_id",
            "split",
            "status",
            "progress",
            "progress_message",
            "cancel_requested",
            "epochs",
            "batch_size",
            "learning_rate",
            "val_split",
            "source_run_id",
            "chunk_size",
            "make_proposals",
            "proposal_set_name",
            "proposal_set_id",
            "items_total",
            "num_classes",
            "device",
            "attempts",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class RunDetailSerializer(RunSerializer):
    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "metrics", "timings", "checkpoint_path", "clip_ids"]


class ModelRunListApi(BaseApi):
    """Model runs, newest first; filter with ?kind=, ?status=, ?dataset=<id>."""

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ModelRun.Kind.choices, required=False)
        status = serializers.ChoiceField(choices=ModelRun.Status.choices, required=False)
        dataset = serializers.IntegerField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=RunSerializer(many=True))
    def get(self, request):
        filters = _valid(self.FilterSerializer, request.query_params)
        dataset = _dataset(filters["dataset"]) if "dataset" in filters else None
        runs = selectors.runs_list(kind=filters.get("kind", ""), status=filters.get("status", ""), dataset=dataset)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunSerializer(page, many=True).data)


class ModelRunDetailApi(BaseApi):
    """One run with its live progress, metrics per epoch and timings (what the run page polls)."""

    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id: int):
        run = selectors.run_get(run_id=run_id)
        return Response(RunDetailSerializer(run).data)


class ModelRunTrainApi(BaseApi):
    """Start training: a queued run that a GPU worker picks up."""

    class InputSerializer(serializers.Serializer):
        dataset_id = serializers.IntegerField()
        model_kind = serializers.ChoiceField(choices=ModelRun.ModelKind.choices)
        recipe = serializers.BooleanField(default=False)
        config_name = serializers.ChoiceField(choices=[(name, name) for name in CONFIGS.names()], default="tiny")
        split = serializers.CharField(max_length=20, default="train")
        val_split = serializers.CharField(max_length=20, default="val", allow_blank=True)
        epochs = serializers.IntegerField(min_value=1, max_value=1000, default=10)
        batch_size = serializers.IntegerField(min_value=1, max_value=1024, default=8)
        learning_rate = serializers.FloatField(min_value=1e-8, max_value=10.0, default=1e-3)
        vision_weights = serializers.CharField(max_length=500, default="", allow_blank=True)

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: RunDetailSerializer})
    def post(self, request):
        data = _valid(self.InputSerializer, request.data)
        dataset = _dataset(data.pop("dataset_id"))
        run = services.model_run_start_training(dataset=dataset, created_by=request.user, **data)
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelRunPredictApi(BaseApi):
    """Start inference with a trained run's checkpoint, optionally storing its proposals."""

    class InputSerializer(serializers.Serializer):
        source_run_id = serializers.IntegerField()
        dataset_id = serializers.IntegerField(required=False)
        split = serializers.CharField(max_length=20, default="", allow_blank=True)
        clip_ids = serializers.ListField(child=serializers.CharField(max_length=200), default=list, max_length=100_000)
        chunk_size = serializers.IntegerField(min_value=1, max_value=100_000, default=64)
        make_proposals = serializers.BooleanField(default=True)
        proposal_set_name = serializers.CharField(max_length=200, default="", allow_blank=True)
        with_heatmaps = serializers.BooleanField(default=True)

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: RunDetailSerializer})
    def post(self, request):
        data = _valid(self.InputSerializer, request.data)
        source_run = selectors.run_get(run_id=data.pop("source_run_id"))
        dataset = _dataset(data.pop("dataset_id")) if "dataset_id" in data else None
        run = services.model_run_start_prediction(
            source_run=source_run, dataset=dataset, created_by=request.user, **data
        )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelRunCancelApi(BaseApi):
    """Cancel: a queued run ends at once, a running one at its worker's next check (409 if finished)."""

    @extend_schema(request=None, responses=RunDetailSerializer)
    def post(self, request, run_id: int):
        run = services.model_run_cancel(run=selectors.run_get(run_id=run_id))
        return Response(RunDetailSerializer(run).data)


class ModelRunPredictionsApi(BaseApi):
    """Per clip: top-5 of every head, vote, union set, event type, moments, heatmap path."""

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    class OutputSerializer(serializers.Serializer):
        clip = serializers.CharField(source="clip.clip_id")
        clip_pk = serializers.IntegerField(source="clip_id")
        heads = serializers.JSONField()
        vote_index = serializers.IntegerField(allow_null=True)
        union_indices = serializers.JSONField()
        event_type = serializers.CharField()
        instant_steps = serializers.JSONField()
        onset_steps = serializers.JSONField()
        modality_confidence = serializers.JSONField()
        heatmap_path = serializers.CharField()
        flags = serializers.JSONField()
        error = serializers.CharField()

    @extend_schema(parameters=[OpenApiParameter("page", int, required=False)], responses=OutputSerializer(many=True))
    def get(self, request, run_id: int):
        run = selectors.run_get(run_id=run_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.run_predictions(run=run), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
