"""REST API of the model zoo (researchers only): runs, starting, cancelling and sharing them,
and the predictions of a run. A researcher reaches their own runs and those shared with them
(an admin every run); any other id is a 404. One APIView per operation; they call selectors
and services only. Errors answer the project's envelope (``config.errors``)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator.apis.catalog import ShareInputSerializer
from annotator.selectors import dataset_for_researcher
from config.api import IdField, ResearcherApi, ResearcherListApi, error_response, validated
from modelzoo import selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn.config import CONFIGS

INVALID = error_response(
    "Invalid input (each field's messages under `extra.fields`), or a request the service refuses (why in `message`)."
)
RUN_NOT_FOUND = error_response("No model run with this id among yours.")
DATASET_NOT_FOUND = error_response("No dataset with this id among yours.")


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


class ModelRunListApi(ResearcherListApi):
    """Model runs, newest first; filter with ?kind=, ?status=, ?dataset=<id>."""

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ModelRun.Kind.choices, required=False)
        status = serializers.ChoiceField(choices=ModelRun.Status.choices, required=False)
        dataset = IdField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            status.HTTP_200_OK: RunSerializer(many=True),
            status.HTTP_400_BAD_REQUEST: INVALID,
            status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
        },
    )
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        user = request.user
        dataset = dataset_for_researcher(user=user, dataset_id=filters["dataset"]) if "dataset" in filters else None
        runs = selectors.runs_for_researcher(
            user=user, kind=filters.get("kind", ""), status=filters.get("status", ""), dataset=dataset
        )
        return self.paginated(runs, RunSerializer)


class ModelRunDetailApi(ResearcherApi):
    """One run with its live progress, metrics per epoch and timings (what the run page polls)."""

    @extend_schema(responses={status.HTTP_200_OK: RunDetailSerializer, status.HTTP_404_NOT_FOUND: RUN_NOT_FOUND})
    def get(self, request, run_id: int):
        run = selectors.run_for_researcher(user=request.user, run_id=run_id)
        return Response(RunDetailSerializer(run).data)


class ModelRunTrainApi(ResearcherApi):
    """Start training: a queued run that a GPU worker picks up."""

    class InputSerializer(serializers.Serializer):
        dataset_id = IdField()
        model_kind = serializers.ChoiceField(choices=ModelRun.ModelKind.choices)
        recipe = serializers.BooleanField(default=False)
        config_name = serializers.ChoiceField(choices=[(name, name) for name in CONFIGS.names()], default="tiny")
        split = serializers.CharField(max_length=20, default="train")
        val_split = serializers.CharField(max_length=20, default="val", allow_blank=True)
        epochs = serializers.IntegerField(min_value=1, max_value=1000, default=10)
        batch_size = serializers.IntegerField(min_value=1, max_value=1024, default=8)
        learning_rate = serializers.FloatField(min_value=1e-8, max_value=10.0, default=1e-3)
        vision_weights = serializers.CharField(max_length=500, default="", allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_201_CREATED: RunDetailSerializer,
            status.HTTP_400_BAD_REQUEST: INVALID,
            status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
        },
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        dataset = dataset_for_researcher(user=request.user, dataset_id=data.pop("dataset_id"))
        run = services.model_run_start_training(dataset=dataset, created_by=request.user, **data)
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelRunPredictApi(ResearcherApi):
    """Start inference with a trained run's checkpoint, optionally storing its proposals."""

    class InputSerializer(serializers.Serializer):
        source_run_id = IdField()
        dataset_id = IdField(required=False)
        split = serializers.CharField(max_length=20, default="", allow_blank=True)
        clip_ids = serializers.ListField(
            child=serializers.CharField(max_length=200),
            default=list,
            max_length=100_000,
            help_text="Clips to predict (default: the split's). The whole body is at most AVLABEL_API_MAX_BODY_BYTES "
            "(1 MiB by default: some 45,000 VGGSound ids); name a split for more.",
        )
        chunk_size = serializers.IntegerField(min_value=1, max_value=100_000, default=64)
        make_proposals = serializers.BooleanField(default=True)
        proposal_set_name = serializers.CharField(max_length=200, default="", allow_blank=True)
        with_heatmaps = serializers.BooleanField(default=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_201_CREATED: RunDetailSerializer,
            status.HTTP_400_BAD_REQUEST: INVALID,
            status.HTTP_404_NOT_FOUND: error_response("No model run (source_run_id) or dataset with this id."),
        },
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        user = request.user
        source_run = selectors.run_for_researcher(user=user, run_id=data.pop("source_run_id"))
        dataset = dataset_for_researcher(user=user, dataset_id=data.pop("dataset_id")) if "dataset_id" in data else None
        run = services.model_run_start_prediction(
            source_run=source_run, dataset=dataset, created_by=request.user, **data
        )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class ModelRunCancelApi(ResearcherApi):
    """Cancel: a queued run ends at once, a running one at its worker's next check (409 if finished)."""

    @extend_schema(
        request=None,
        responses={
            status.HTTP_200_OK: RunDetailSerializer,
            status.HTTP_404_NOT_FOUND: RUN_NOT_FOUND,
            status.HTTP_409_CONFLICT: error_response("The run has already finished."),
        },
    )
    def post(self, request, run_id: int):
        run = services.model_run_cancel(run=selectors.run_for_owner(user=request.user, run_id=run_id))
        return Response(RunDetailSerializer(run).data)


class ModelRunShareApi(ResearcherApi):
    """Let named researchers use a run (its creator or an admin only): they see it, its
    checkpoint path and predictions, evaluate it and predict with its model."""

    InputSerializer = ShareInputSerializer

    class OutputSerializer(serializers.ModelSerializer):
        created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
        shared_with = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

        class Meta:
            model = ModelRun
            fields = ["id", "created_by", "shared_with"]

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_400_BAD_REQUEST: error_response("Unknown users, or users who are not researchers."),
            status.HTTP_404_NOT_FOUND: RUN_NOT_FOUND,
        },
    )
    def post(self, request, run_id: int):
        run = selectors.run_for_owner(user=request.user, run_id=run_id)
        services.model_run_share(run=run, researchers=validated(self.InputSerializer, request.data)["researchers"])
        return Response(self.OutputSerializer(run).data)


class ModelRunPredictionsApi(ResearcherListApi):
    """Per clip: top-5 of every head, vote, union set, event type, moments, heatmap path."""

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

    @extend_schema(
        parameters=[OpenApiParameter("page", int, required=False)],
        responses={status.HTTP_200_OK: OutputSerializer(many=True), status.HTTP_404_NOT_FOUND: RUN_NOT_FOUND},
    )
    def get(self, request, run_id: int):
        run = selectors.run_for_researcher(user=request.user, run_id=run_id)
        return self.paginated(selectors.run_predictions(run=run), self.OutputSerializer)
