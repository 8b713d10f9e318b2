"""The catalogue for researchers: the datasets they may use (own, shared with them, or all
for an admin), their clips and proposal sets, and sharing a dataset."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Clip, Dataset, ProposalSet
from annotator.selectors.catalog import label_is_category_id
from config.api import IdField, ResearcherApi, ResearcherListApi, error_response, validated
from config.converters import MAX_ID

DATASET_NOT_FOUND = error_response("No dataset with this id among yours.")
CLIP_NOT_FOUND = error_response("No clip with this id in your datasets.")

FLAGS_HELP = "Warnings on a usable clip: " + "; ".join(f"{code}: {text}" for code, text in MEDIA_FLAGS.items())


class DatasetListApi(ResearcherListApi):
    class OutputSerializer(serializers.ModelSerializer):
        taxonomy = serializers.CharField(source="taxonomy.name")
        clip_count = serializers.IntegerField()
        owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

        class Meta:
            model = Dataset
            fields = ["id", "name", "description", "taxonomy", "owner", "media_root", "clip_count", "created_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        return self.paginated(selectors.dataset_list(user=request.user), self.OutputSerializer)


class DatasetDetailApi(ResearcherApi):
    class OutputSerializer(DatasetListApi.OutputSerializer):
        clips_by_split = serializers.DictField(child=serializers.IntegerField())
        clips_by_media_status = serializers.DictField(child=serializers.IntegerField())
        clips_by_media_flag = serializers.DictField(
            child=serializers.IntegerField(), help_text="Clips carrying each media flag (every flag, 0 included)."
        )

        class Meta(DatasetListApi.OutputSerializer.Meta):
            fields = [
                *DatasetListApi.OutputSerializer.Meta.fields,
                "clips_by_split",
                "clips_by_media_status",
                "clips_by_media_flag",
            ]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer, status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND})
    def get(self, request, dataset_id: int):
        dataset = selectors.dataset_for_researcher(user=request.user, dataset_id=dataset_id)
        for key, value in selectors.dataset_summary(dataset=dataset).items():
            setattr(dataset, key, value)
        return Response(self.OutputSerializer(dataset).data, status=status.HTTP_200_OK)


class ClipListApi(ResearcherListApi):
    class FilterSerializer(serializers.Serializer):
        dataset = IdField(required=False)
        split = serializers.CharField(required=False, default="")
        media_status = serializers.ChoiceField(choices=Clip.MediaStatus.choices, required=False, default="")
        media_flag = serializers.ChoiceField(
            choices=list(MEDIA_FLAGS.items()), required=False, default="", help_text="Clips carrying this flag."
        )
        label = serializers.CharField(
            required=False, default="", help_text="Category id (ASCII digits) or exact name (anything else)."
        )

        def validate_label(self, value: str) -> str:
            digits = value.lstrip("0")  # compared by length first: int() of 5,000 digits raises
            if label_is_category_id(value) and (len(digits) > len(str(MAX_ID)) or int(digits or 0) > MAX_ID):
                raise serializers.ValidationError(f"A category id is at most {MAX_ID}.")
            return value

    class OutputSerializer(serializers.ModelSerializer):
        media_flags = serializers.ListField(
            child=serializers.ChoiceField(choices=list(MEDIA_FLAGS.items())),
            read_only=True,
            help_text=FLAGS_HELP,
        )

        class Meta:
            model = Clip
            fields = [
                "id", "dataset", "clip_id", "youtube_id", "start_seconds", "split", "media_path", "media_status",
                "media_error", "media_flags", "duration_seconds", "fps", "width", "height", "has_audio",
                "sample_rate",
            ]  # fmt: skip

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        clips = selectors.clip_list(
            user=request.user,
            dataset_id=filters.get("dataset"),
            split=filters["split"],
            media_status=filters["media_status"],
            media_flag=filters["media_flag"],
            label=filters["label"],
        )
        return self.paginated(clips, self.OutputSerializer)


class ClipDetailApi(ResearcherApi):
    class OutputSerializer(ClipListApi.OutputSerializer):
        labels = serializers.ListField(child=serializers.CharField(), source="label_names")

        class Meta(ClipListApi.OutputSerializer.Meta):
            fields = [*ClipListApi.OutputSerializer.Meta.fields, "labels", "media_probed_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer, status.HTTP_404_NOT_FOUND: CLIP_NOT_FOUND})
    def get(self, request, clip_id: int):
        clip = selectors.clip_for_researcher(user=request.user, clip_id=clip_id)
        clip.label_names = selectors.clip_label_names(clip=clip)
        return Response(self.OutputSerializer(clip).data, status=status.HTTP_200_OK)


class ProposalSetListApi(ResearcherListApi):
    class FilterSerializer(serializers.Serializer):
        dataset = IdField(required=False)

    class OutputSerializer(serializers.ModelSerializer):
        proposal_count = serializers.IntegerField()

        class Meta:
            model = ProposalSet
            fields = ["id", "dataset", "name", "source", "source_ref", "proposal_count", "created_at"]

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        sets = selectors.proposal_set_list(user=request.user, dataset_id=filters.get("dataset"))
        return self.paginated(sets, self.OutputSerializer)


class ShareInputSerializer(serializers.Serializer):
    """Whom to share an object with (datasets here, model runs in modelzoo): usernames."""

    researchers = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), many=True, allow_empty=False
    )


class DatasetShareApi(ResearcherApi):
    """Let named researchers use a dataset (its owner or an admin only): they see it, its clips
    and proposal sets, and may build studies and model runs on it."""

    InputSerializer = ShareInputSerializer

    class OutputSerializer(serializers.ModelSerializer):
        owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
        shared_with = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

        class Meta:
            model = Dataset
            fields = ["id", "name", "owner", "shared_with"]

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_400_BAD_REQUEST: error_response("Unknown users, or users who are not researchers."),
            status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
        },
    )
    def post(self, request, dataset_id: int):
        dataset = selectors.dataset_for_owner(user=request.user, dataset_id=dataset_id)
        researchers = validated(self.InputSerializer, request.data)["researchers"]
        services.dataset_share(dataset=dataset, researchers=researchers)
        return Response(self.OutputSerializer(dataset).data, status=status.HTTP_200_OK)
