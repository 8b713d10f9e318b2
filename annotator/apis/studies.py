"""Studies for researchers: their own (admins: all)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Dataset, Judgment, ProposalSet, Study
from config.api import DB_INT_MAX, DB_INT_MIN, IdField, ResearcherApi, ResearcherListApi, validated

User = get_user_model()


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
            "decoys_per_clip", "gold_rate", "show_evidence", "reservation_timeout_seconds", "exclude_media_flags",
            "serving", "min_raters", "settle_error", "quiet_raters", "ask_modality", "max_labels_shown",
            "qualification_clips", "qualification_pass_mark", "gold_feedback", "pause_below_gold_accuracy",
            "pause_above_decoy_acceptance", "auto_pause_min_answers", "clip_count",
            "created_at",
        ]  # fmt: skip


class UsableChoiceField(serializers.PrimaryKeyRelatedField):
    """An id among the rows the requesting researcher may use: `rule(user=context["user"])`.
    Without a user in the context there are none (the field fails closed); an id outside
    them is refused as not existing, so ids don't tell what exists. `queryset` names the
    model only (the schema reads it)."""

    def __init__(self, *, rule, **kwargs) -> None:
        self.rule = rule
        kwargs.setdefault("pk_field", IdField())  # bounded like every id that comes in
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.rule(user=self.context.get("user"))


class StudyCreateInputSerializer(serializers.Serializer):
    """A new study's settings: the API and the study-creation page validate with this one class
    (given the requesting user as `context={"user": ...}`: its dataset and proposal set choices
    are the ones that user may use)."""

    name = serializers.CharField(max_length=200)
    dataset = UsableChoiceField(rule=selectors.datasets_for_researcher, queryset=Dataset.objects.none())
    proposal_set = UsableChoiceField(rule=selectors.proposal_sets_for_researcher, queryset=ProposalSet.objects.none())
    raters = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), many=True, required=False, default=list
    )
    sample_size = serializers.IntegerField(min_value=1, max_value=DB_INT_MAX)
    seed = serializers.IntegerField(default=0, min_value=DB_INT_MIN, max_value=DB_INT_MAX)
    stratified = serializers.BooleanField(default=True)
    split = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    raters_per_clip = serializers.IntegerField(
        min_value=1, max_value=DB_INT_MAX, default=3, help_text="The fixed overlap; serving 'settled': the most raters."
    )
    serving = serializers.ChoiceField(
        choices=Study.Serving.choices,
        default=Study.Serving.FIXED,
        help_text="fixed: every clip gets raters_per_clip raters; settled: from min_raters up to raters_per_clip, "
        "until its label set is decided.",
    )
    min_raters = serializers.IntegerField(min_value=1, max_value=DB_INT_MAX, default=3)
    settle_error = serializers.FloatField(
        min_value=0.0001, max_value=0.49, default=0.02, help_text="Error allowed to a label's sequential decision."
    )
    quiet_raters = serializers.IntegerField(
        min_value=0, max_value=DB_INT_MAX, default=8, help_text="Raters in a row adding nothing before a clip settles."
    )
    ask_modality = serializers.BooleanField(
        default=True, help_text="Raters say whether a present label is heard (A), seen (V) or both (AV)."
    )
    max_labels_shown = serializers.IntegerField(
        min_value=1, max_value=1000, default=10, help_text="Labels shown per clip, labels raters added included."
    )
    decoys_per_clip = serializers.IntegerField(min_value=0, max_value=DB_INT_MAX, default=1)
    gold_rate = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.0)
    show_evidence = serializers.BooleanField(default=False)
    reservation_timeout_seconds = serializers.IntegerField(min_value=1, max_value=DB_INT_MAX, default=600)
    qualification_clips = serializers.IntegerField(
        min_value=0, max_value=10_000, default=0, help_text="Gold clips answered before the queue; 0: none."
    )
    qualification_pass_mark = serializers.FloatField(
        min_value=0.0, max_value=1.0, default=0.8, help_text="Share of qualification labels answered right to pass."
    )
    gold_feedback = serializers.BooleanField(
        default=False, help_text="After a gold clip, show the rater which answers disagreed with the truth."
    )
    pause_below_gold_accuracy = serializers.FloatField(
        min_value=0.0, max_value=1.0, required=False, allow_null=True, default=None
    )
    pause_above_decoy_acceptance = serializers.FloatField(
        min_value=0.0, max_value=1.0, required=False, allow_null=True, default=None
    )
    auto_pause_min_answers = serializers.IntegerField(min_value=1, max_value=DB_INT_MAX, default=10)
    instructions = serializers.CharField(required=False, default="", allow_blank=True)
    exclude_media_flags = serializers.MultipleChoiceField(
        choices=list(MEDIA_FLAGS.items()),
        required=False,
        default=list,
        help_text="Leave out clips carrying any of these media flags; default: none left out.",
    )

    def validate(self, attrs):
        dataset, proposal_set = attrs["dataset"], attrs["proposal_set"]
        if proposal_set.dataset_id != dataset.pk:
            raise serializers.ValidationError(
                {"proposal_set": f"This proposal set belongs to dataset '{proposal_set.dataset}'."}
            )
        return attrs


class StudyListApi(ResearcherListApi):
    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request):
        studies = selectors.studies_for_researcher(user=request.user).prefetch_related("raters")
        return self.paginated(studies, self.OutputSerializer)


class StudyCreateApi(ResearcherApi):
    InputSerializer = StudyCreateInputSerializer

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data, context={"user": request.user})
        study = services.study_create(owner=request.user, **data)
        services.spectrogram_job_start(study=study)
        study = selectors.study_for_researcher(user=request.user, study_id=study.pk)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetailApi(ResearcherApi):
    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyCloseApi(ResearcherApi):
    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=None, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        services.study_close(study=study, actor=request.user)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyRatersAddApi(ResearcherApi):
    class InputSerializer(serializers.Serializer):
        raters = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), many=True)

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: OutputSerializer})
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        services.study_add_raters(
            study=study, raters=validated(self.InputSerializer, request.data)["raters"], actor=request.user
        )
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyProgressApi(ResearcherApi):
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


class StudyJudgmentListApi(ResearcherListApi):
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
