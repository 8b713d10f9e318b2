"""The rating queue for raters: their studies, next clip, submit, release, progress.

Reserving is a POST (`next`): a GET never changes the queue, so a cross-site image or a
link prefetch cannot tie clips up. Submit and release answer any rater of the clip's study
with the queue's own answer (409 lapsed or closed, the stored rating); others get 404.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.apis.auth import QueueApi
from annotator.models import Judgment, Study
from annotator.roles import IsRater
from config.api import BaseApi, ListApi, error_response, validated
from config.converters import MAX_ID
from config.errors import NotFoundError


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

    study_clip_id = serializers.IntegerField(
        help_text="The rater's handle on the clip; says nothing about the dataset."
    )
    study_id = serializers.IntegerField()
    instructions = serializers.CharField(allow_blank=True)
    media_url = serializers.CharField()
    spectrogram_url = serializers.CharField()
    duration_seconds = serializers.FloatField(allow_null=True)
    has_audio = serializers.BooleanField(allow_null=True)
    labels = LabelSerializer(many=True)
    ask_modality = serializers.BooleanField(
        help_text="Whether the study asks, for a present or added label, if it is heard (A), seen (V) or both (AV)."
    )
    evidence = EvidenceSerializer(allow_null=True)


class StudyClipNextApi(QueueApi):
    """Reserve the rater's next clip in a study (their live reservation first); 204 when done.
    A POST: reserving changes the queue.

    With `ahead_of` (the clip the rater works on, which they must hold), the clip held ahead
    of it: one more reservation, counted in the overlap like any other, that a page preloads
    and switches to on submit. At most one is held ahead (asking again returns it); release
    it when it will not be used, or it lapses like any reservation."""

    class InputSerializer(serializers.Serializer):
        ahead_of = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="The study clip the rater works on: answer the clip held ahead of it instead "
            "(409 when the rater no longer holds it).",
        )

    class OutputSerializer(ClipPayloadSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Nothing left for this rater."),
            status.HTTP_409_CONFLICT: error_response("The study is closed, or the clip named by ahead_of lapsed."),
        },
    )
    def post(self, request, study_id: int):
        data = validated(self.InputSerializer, request.data)
        try:
            study = selectors.study_get(study_id=study_id)
        except NotFoundError:  # the same answer as for a study the rater is not in
            raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.") from None
        if "ahead_of" in data:
            study_clip = services.clip_ahead_for_rater(
                study=study, rater=request.user, current_study_clip_id=data["ahead_of"]
            )
        else:
            study_clip = services.clip_next_for_rater(study=study, rater=request.user)
        if study_clip is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        # The payload is built from an allow-list of plain values already (the schema above
        # documents it; a test holds the two together), so it is sent as it is.
        return Response(selectors.study_clip_payload(study_clip=study_clip), status=status.HTTP_200_OK)


class StudyClipDetailApi(BaseApi):
    """A clip the rater holds a live reservation for or rated (or, for its study's owner,
    any of its clips)."""

    class OutputSerializer(ClipPayloadSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_clip_id: int):
        study_clip = selectors.study_clip_for_rater(rater=request.user, study_clip_id=study_clip_id)
        payload = selectors.study_clip_payload(study_clip=study_clip)
        return Response(self.OutputSerializer(payload).data, status=status.HTTP_200_OK)


class _BoundedDictField(serializers.DictField):
    """A DictField that refuses more than `max_keys` keys before validating any of them."""

    def __init__(self, *, max_keys: int, **kwargs):
        self.max_keys = max_keys
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > self.max_keys:
            raise serializers.ValidationError(f"At most {self.max_keys} answers.")
        return super().to_internal_value(data)


class _BoundedListField(serializers.ListField):
    """A ListField that refuses more than max_length items before validating any of them
    (ListField itself validates every item first)."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            raise serializers.ValidationError(f"At most {self.max_length} items.")
        return super().to_internal_value(data)


class GoldFeedbackSerializer(serializers.Serializer):
    """One answer of the rater's that disagreed with a gold clip's known truth (selectors.feedback)."""

    category_id = serializers.IntegerField()
    name = serializers.CharField()
    answer = serializers.ChoiceField(choices=Judgment.Answer.choices, help_text="What the rater answered.")
    modality = serializers.CharField(allow_blank=True, help_text="The modality they gave: A, V, AV or blank.")
    truth = serializers.ChoiceField(choices=["present", "absent"], help_text="What the gold label says.")
    truth_modality = serializers.CharField(allow_blank=True, help_text="Where a present label is, when known.")
    kind = serializers.ChoiceField(choices=["answer", "modality"], help_text="What disagreed.")


class RatingSubmitApi(QueueApi):
    """Store the rater's answers for a clip they hold a live reservation for; submitting
    again returns the stored rating. 409 when the reservation lapsed (ask for the next
    clip) or the study is closed."""

    class InputSerializer(serializers.Serializer):
        answers = _BoundedDictField(
            child=serializers.ChoiceField(choices=Judgment.Answer.choices),
            max_keys=services.MAX_ANSWERS,
            required=False,
            default=dict,
            help_text="Shown label's category id -> present / absent / unsure; every shown label "
            f"(at most {services.MAX_ANSWERS} keys).",
        )
        added = _BoundedListField(
            child=serializers.IntegerField(min_value=1),
            max_length=services.MAX_ADDED,
            required=False,
            default=list,
            help_text="Category ids the rater adds from the taxonomy (stored as present; "
            f"at most {services.MAX_ADDED}).",
        )
        modalities = _BoundedDictField(
            child=serializers.ChoiceField(choices=sorted(services.MODALITIES)),
            max_keys=services.MAX_ANSWERS + services.MAX_ADDED,
            required=False,
            default=dict,
            help_text="Category id -> A (heard only) / V (seen only) / AV (both), for labels answered present "
            "and labels added, in studies that ask (ask_modality); one left out is recorded as not given.",
        )
        seconds_spent = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
        skipped = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        class JudgmentSerializer(serializers.Serializer):
            category_id = serializers.IntegerField()
            answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
            modality = serializers.CharField(allow_blank=True, help_text="A, V, AV, or blank when not given.")
            added_by_rater = serializers.BooleanField()

        id = serializers.IntegerField()
        study_clip_id = serializers.IntegerField()
        skipped = serializers.BooleanField()
        seconds_spent = serializers.FloatField(allow_null=True)
        submitted_at = serializers.DateTimeField()
        judgments = JudgmentSerializer(many=True, source="judgments.all")
        feedback = GoldFeedbackSerializer(
            many=True,
            help_text="In a study with gold feedback, after a gold clip: the answers that disagreed with its "
            "known truth. Empty otherwise.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_409_CONFLICT: error_response("The reservation lapsed, or the study is closed."),
        },
    )
    def post(self, request, study_clip_id: int):
        data = validated(self.InputSerializer, request.data)
        study_clip = selectors.study_clip_for_member(rater=request.user, study_clip_id=study_clip_id)
        rating = services.rating_submit(
            study_clip=study_clip,
            rater=request.user,
            answers=data["answers"],
            added_category_ids=data["added"],
            modalities=data["modalities"],
            seconds_spent=data["seconds_spent"],
            skipped=data["skipped"],
        )
        payload = selectors.rating_payload(rating=rating)
        payload["feedback"] = selectors.rating_feedback(
            rating_id=rating.pk, skipped=rating.skipped, study=study_clip.study, study_clip=study_clip
        )
        return Response(payload, status=status.HTTP_200_OK)


class ReservationReleaseApi(BaseApi):
    """Hand a reserved clip back to the pool without rating it. Idempotent: 204 for any rater
    of the clip's study, whether they held it or not, and on a closed study (closing already
    gave every reservation back)."""

    permission_classes = [IsRater]

    @extend_schema(request=None, responses={status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Released.")})
    def post(self, request, study_clip_id: int):
        study_clip = selectors.study_clip_for_member(rater=request.user, study_clip_id=study_clip_id)
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
