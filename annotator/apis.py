"""REST API of the annotator: one APIView per operation, translating requests into selector
and service calls. Raters reach only their own queue; researchers their own studies."""

from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import TokenScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from annotator import roles, selectors, services
from annotator.models import Clip, Dataset, Judgment, ProposalSet, Study
from annotator.roles import IsRater, IsResearcher
from config.errors import ApplicationError, NotFoundError

User = get_user_model()


class BaseApi(APIView):
    permission_classes = [IsAuthenticated]


class ListApi(BaseApi):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def paginated(self, items, serializer_class) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class QueueTokenAuthentication(TokenAuthentication):
    """Token authentication for the queue's hot endpoints: the token, its user and the
    user's roles in one statement instead of two (DRF's lookup, then the role check's)."""

    def authenticate_credentials(self, key):
        found = selectors.user_for_token(key=key)
        if found is None:
            raise AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, token


class QueueTokenScheme(TokenScheme):
    """The schema's name for QueueTokenAuthentication: the same token header as tokenAuth."""

    target_class = QueueTokenAuthentication
    name = "queueTokenAuth"
    match_subclasses = False
    priority = 0  # before TokenScheme, which matches subclasses of TokenAuthentication


class QueueApi(BaseApi):
    """The rating queue's endpoints that raters call on every click."""

    authentication_classes = [QueueTokenAuthentication, SessionAuthentication]
    permission_classes = [IsRater]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------


class AuthTokenObtainApi(BaseApi):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request):
        data = _valid(self.InputSerializer, request.data)
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            raise ApplicationError("Unable to log in with these credentials.")
        token, _ = Token.objects.get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data, status=status.HTTP_200_OK)


class MeApi(BaseApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request):
        user = request.user
        user_roles = [role for role in roles.ROLES if roles.user_has_role(user, role)]
        data = {"id": user.pk, "username": user.get_username(), "roles": user_roles}
        return Response(self.OutputSerializer(data).data, status=status.HTTP_200_OK)


# --------------------------------------------------------------------------------------
# Catalogue (researchers)
# --------------------------------------------------------------------------------------


class DatasetListApi(ListApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(serializers.ModelSerializer):
        taxonomy = serializers.CharField(source="taxonomy.name")
        clip_count = serializers.IntegerField()

        class Meta:
            model = Dataset
            fields = ["id", "name", "description", "taxonomy", "media_root", "clip_count", "created_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        return self.paginated(selectors.dataset_list(), self.OutputSerializer)


class DatasetDetailApi(BaseApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(DatasetListApi.OutputSerializer):
        clips_by_split = serializers.DictField(child=serializers.IntegerField())
        clips_by_media_status = serializers.DictField(child=serializers.IntegerField())

        class Meta(DatasetListApi.OutputSerializer.Meta):
            fields = [*DatasetListApi.OutputSerializer.Meta.fields, "clips_by_split", "clips_by_media_status"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, dataset_id: int):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        for key, value in selectors.dataset_summary(dataset=dataset).items():
            setattr(dataset, key, value)
        return Response(self.OutputSerializer(dataset).data, status=status.HTTP_200_OK)


class ClipListApi(ListApi):
    permission_classes = [IsResearcher]

    class FilterSerializer(serializers.Serializer):
        dataset = serializers.IntegerField(required=False, min_value=1)
        split = serializers.CharField(required=False, default="")
        media_status = serializers.ChoiceField(choices=Clip.MediaStatus.choices, required=False, default="")
        label = serializers.CharField(required=False, default="", help_text="Category id or exact name.")

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Clip
            fields = [
                "id", "dataset", "clip_id", "youtube_id", "start_seconds", "split", "media_path", "media_status",
                "media_error", "duration_seconds", "fps", "width", "height", "has_audio", "sample_rate",
            ]  # fmt: skip

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        filters = _valid(self.FilterSerializer, request.query_params)
        clips = selectors.clip_list(
            dataset_id=filters.get("dataset"),
            split=filters["split"],
            media_status=filters["media_status"],
            label=filters["label"],
        )
        return self.paginated(clips, self.OutputSerializer)


class ClipDetailApi(BaseApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(ClipListApi.OutputSerializer):
        labels = serializers.ListField(child=serializers.CharField(), source="label_names")

        class Meta(ClipListApi.OutputSerializer.Meta):
            fields = [*ClipListApi.OutputSerializer.Meta.fields, "labels", "media_probed_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, clip_id: int):
        clip = selectors.clip_get(clip_id=clip_id)
        clip.label_names = selectors.clip_label_names(clip=clip)
        return Response(self.OutputSerializer(clip).data, status=status.HTTP_200_OK)


class ProposalSetListApi(ListApi):
    permission_classes = [IsResearcher]

    class FilterSerializer(serializers.Serializer):
        dataset = serializers.IntegerField(required=False, min_value=1)

    class OutputSerializer(serializers.ModelSerializer):
        proposal_count = serializers.IntegerField()

        class Meta:
            model = ProposalSet
            fields = ["id", "dataset", "name", "source", "source_ref", "proposal_count", "created_at"]

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        filters = _valid(self.FilterSerializer, request.query_params)
        return self.paginated(selectors.proposal_set_list(dataset_id=filters.get("dataset")), self.OutputSerializer)


# --------------------------------------------------------------------------------------
# Studies (researchers: their own; admins: all)
# --------------------------------------------------------------------------------------


class StudyOutputSerializer(serializers.ModelSerializer):
    dataset_name = serializers.CharField(source="dataset.name")
    proposal_set_name = serializers.CharField(source="proposal_set.name")
    owner = serializers.CharField(source="owner.username")
    raters = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    clip_count = serializers.IntegerField()

    class Meta:
        model = Study
        fields = [
            "id", "name", "status", "dataset", "dataset_name", "proposal_set", "proposal_set_name", "owner",
            "raters", "instructions", "sample_size", "seed", "stratified", "split", "raters_per_clip",
            "decoys_per_clip", "gold_rate", "show_evidence", "reservation_timeout_seconds", "clip_count",
            "created_at",
        ]  # fmt: skip


class StudyListApi(ListApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        studies = selectors.studies_for_researcher(user=request.user).prefetch_related("raters")
        return self.paginated(studies, self.OutputSerializer)


class StudyCreateApi(BaseApi):
    permission_classes = [IsResearcher]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all())
        proposal_set = serializers.PrimaryKeyRelatedField(queryset=ProposalSet.objects.all())
        raters = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.all(), many=True, required=False, default=list
        )
        sample_size = serializers.IntegerField(min_value=1)
        seed = serializers.IntegerField(default=0)
        stratified = serializers.BooleanField(default=True)
        split = serializers.CharField(required=False, default="", allow_blank=True)
        raters_per_clip = serializers.IntegerField(min_value=1, default=3)
        decoys_per_clip = serializers.IntegerField(min_value=0, default=1)
        gold_rate = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.0)
        show_evidence = serializers.BooleanField(default=False)
        reservation_timeout_seconds = serializers.IntegerField(min_value=1, default=600)
        instructions = serializers.CharField(required=False, default="", allow_blank=True)

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request):
        data = _valid(self.InputSerializer, request.data)
        study = services.study_create(owner=request.user, **data)
        study = selectors.study_for_researcher(user=request.user, study_id=study.pk)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetailApi(BaseApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyCloseApi(BaseApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=None, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        services.study_close(study=study)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyRatersAddApi(BaseApi):
    permission_classes = [IsResearcher]

    class InputSerializer(serializers.Serializer):
        raters = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), many=True)

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        services.study_add_raters(study=study, raters=_valid(self.InputSerializer, request.data)["raters"])
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyProgressApi(BaseApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(serializers.Serializer):
        class TotalsSerializer(serializers.Serializer):
            clips = serializers.IntegerField()
            gold_clips = serializers.IntegerField()
            raters = serializers.IntegerField()
            raters_per_clip = serializers.IntegerField()
            ratings_needed = serializers.IntegerField()
            ratings_completed = serializers.IntegerField()
            ratings_skipped = serializers.IntegerField()
            reserved = serializers.IntegerField()
            clips_complete = serializers.IntegerField()
            fraction_complete = serializers.FloatField()

        class RaterSerializer(serializers.Serializer):
            rater_id = serializers.IntegerField()
            username = serializers.CharField()
            done = serializers.IntegerField()
            skipped = serializers.IntegerField()
            reserved = serializers.IntegerField()
            median_seconds = serializers.FloatField(allow_null=True)

        class ClipSerializer(serializers.Serializer):
            study_clip_id = serializers.IntegerField()
            clip_id = serializers.CharField()
            position = serializers.IntegerField()
            is_gold = serializers.BooleanField()
            completed = serializers.IntegerField()
            skipped = serializers.IntegerField()
            reserved = serializers.IntegerField()
            needed = serializers.IntegerField()

        study_id = serializers.IntegerField()
        status = serializers.CharField()
        totals = TotalsSerializer()
        raters = RaterSerializer(many=True)
        clips = ClipSerializer(many=True)

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(selectors.study_progress(study=study)).data, status=status.HTTP_200_OK)


class StudyJudgmentListApi(ListApi):
    permission_classes = [IsResearcher]

    class OutputSerializer(serializers.Serializer):
        rating_id = serializers.IntegerField()
        study_clip_id = serializers.IntegerField()
        clip_id = serializers.IntegerField()
        clip_name = serializers.CharField()
        rater_id = serializers.IntegerField()
        category_id = serializers.IntegerField(allow_null=True)
        category_name = serializers.CharField(allow_null=True)
        answer = serializers.ChoiceField(choices=Judgment.Answer.choices, allow_null=True)
        added_by_rater = serializers.BooleanField()
        is_decoy = serializers.BooleanField()
        is_gold = serializers.BooleanField()
        skipped = serializers.BooleanField()
        seconds_spent = serializers.FloatField(allow_null=True)

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return self.paginated(selectors.study_judgments(study=study), self.OutputSerializer)


# --------------------------------------------------------------------------------------
# The rating queue (raters)
# --------------------------------------------------------------------------------------


class RaterStudyListApi(ListApi):
    permission_classes = [IsRater]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Study
            fields = ["id", "name", "instructions", "show_evidence", "created_at"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        return self.paginated(selectors.rater_studies(rater=request.user), self.OutputSerializer)


class ClipPayloadSerializer(serializers.Serializer):
    """The rater's view of a clip: shown labels in their fixed order, media, and evidence
    when the study shows it. No reference labels, no decoy flags, no other answers."""

    class LabelSerializer(serializers.Serializer):
        category_id = serializers.IntegerField()
        name = serializers.CharField()
        position = serializers.IntegerField()
        heads = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="Only when evidence.label_heads is true."
        )

    class EvidenceSerializer(serializers.Serializer):
        label_heads = serializers.BooleanField(
            help_text="Whether each label carries the heads that proposed it; false in studies with decoys, "
            "which no head proposes."
        )
        event_type = serializers.CharField(allow_blank=True)
        instant_seconds = serializers.ListField(child=serializers.FloatField())
        onset_seconds = serializers.ListField(child=serializers.FloatField())
        heatmap_url = serializers.CharField(allow_null=True)

    study_clip_id = serializers.IntegerField()
    study_id = serializers.IntegerField()
    clip_id = serializers.CharField()
    instructions = serializers.CharField(allow_blank=True)
    media_url = serializers.CharField()
    spectrogram_url = serializers.CharField()
    duration_seconds = serializers.FloatField(allow_null=True)
    has_audio = serializers.BooleanField(allow_null=True)
    labels = LabelSerializer(many=True)
    evidence = EvidenceSerializer(allow_null=True)


class StudyClipNextApi(QueueApi):
    """The rater's next clip in a study (their open reservation first); 204 when done."""

    class OutputSerializer(ClipPayloadSerializer):
        pass

    @extend_schema(
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Nothing left for this rater."),
        }
    )
    def get(self, request, study_id: int):
        try:
            study = selectors.study_get(study_id=study_id)
        except NotFoundError:  # the same answer as for a study the rater is not in
            raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.") from None
        study_clip = services.clip_next_for_rater(study=study, rater=request.user)
        if study_clip is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        # The payload is built from an allow-list of plain values already (the schema above
        # documents it; a test holds the two together), so it is sent as it is.
        return Response(selectors.study_clip_payload(study_clip=study_clip), status=status.HTTP_200_OK)


class StudyClipDetailApi(BaseApi):
    """A clip the rater holds or rated (or, for its study's owner, any of its clips)."""

    class OutputSerializer(ClipPayloadSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_clip_id: int):
        study_clip = selectors.study_clip_for_rater(rater=request.user, study_clip_id=study_clip_id)
        payload = selectors.study_clip_payload(study_clip=study_clip)
        return Response(self.OutputSerializer(payload).data, status=status.HTTP_200_OK)


class RatingSubmitApi(QueueApi):
    class InputSerializer(serializers.Serializer):
        answers = serializers.DictField(
            child=serializers.ChoiceField(choices=Judgment.Answer.choices),
            required=False,
            default=dict,
            help_text="Shown label's category id -> present / absent / unsure; every shown label.",
        )
        added = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            required=False,
            default=list,
            help_text="Category ids the rater adds from the taxonomy (stored as present).",
        )
        seconds_spent = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
        skipped = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        class JudgmentSerializer(serializers.Serializer):
            category_id = serializers.IntegerField()
            answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
            added_by_rater = serializers.BooleanField()

        id = serializers.IntegerField()
        study_clip_id = serializers.IntegerField()
        skipped = serializers.BooleanField()
        seconds_spent = serializers.FloatField(allow_null=True)
        submitted_at = serializers.DateTimeField()
        judgments = JudgmentSerializer(many=True, source="judgments.all")

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request, study_clip_id: int):
        data = _valid(self.InputSerializer, request.data)
        study_clip = selectors.study_clip_for_rater(rater=request.user, study_clip_id=study_clip_id)
        rating = services.rating_submit(
            study_clip=study_clip,
            rater=request.user,
            answers=data["answers"],
            added_category_ids=data["added"],
            seconds_spent=data["seconds_spent"],
            skipped=data["skipped"],
        )
        return Response(selectors.rating_payload(rating=rating), status=status.HTTP_200_OK)


class ReservationReleaseApi(BaseApi):
    """Hand a reserved clip back to the pool without rating it."""

    permission_classes = [IsRater]

    @extend_schema(request=None, responses={status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Released.")})
    def post(self, request, study_clip_id: int):
        study_clip = selectors.study_clip_for_rater(rater=request.user, study_clip_id=study_clip_id)
        services.reservation_release(study_clip=study_clip, rater=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RaterProgressApi(BaseApi):
    permission_classes = [IsRater]

    class OutputSerializer(serializers.Serializer):
        done = serializers.IntegerField()
        skipped = serializers.IntegerField()
        available = serializers.IntegerField()
        total = serializers.IntegerField()

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_for_rater(rater=request.user, study_id=study_id)
        progress = selectors.rater_progress(study=study, rater=request.user)
        return Response(self.OutputSerializer(progress).data, status=status.HTTP_200_OK)
