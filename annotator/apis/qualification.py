"""A rater's qualification for a study: where they stand and the clip due next (its labels,
never their truth), and answering it. The qualification page posts here."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors
from annotator.apis.auth import QueueApi
from annotator.apis.queue import _BoundedDictField
from annotator.models import Judgment, StudyRater
from annotator.services import MAX_ANSWERS, MODALITIES
from annotator.services.qualification import qualification_answer
from config.api import error_response, validated


def qualification_payload(*, study, rater) -> dict:
    """What the rater may see of their qualification: no truth, no other rater."""
    state = selectors.qualification_status(study=study, rater=rater)
    payload = {
        "study_id": study.pk,
        "required": state.required,
        "qualification": state.qualification,
        "qualified": state.qualified,
        "standing": state.state,
        "pass_mark": study.qualification_pass_mark,
        "clips": state.clips,
        "attempt": state.attempt,
        "answered": state.answered,
        "score": state.score,
        "ask_modality": study.ask_modality,
        "clip": None,
    }
    if state.position is not None:
        payload["clip"] = {
            "position": state.position,
            "media_url": reverse("annotator:qualification-media", args=[study.pk, state.position]),
            "labels": [{"category_id": label.category_id, "name": label.name} for label in state.labels],
        }
    return payload


class QualificationStatusSerializer(serializers.Serializer):
    class ClipSerializer(serializers.Serializer):
        class LabelSerializer(serializers.Serializer):
            category_id = serializers.IntegerField()
            name = serializers.CharField()

        position = serializers.IntegerField(help_text="0-based; answer with this position.")
        media_url = serializers.CharField()
        labels = LabelSerializer(many=True)

    study_id = serializers.IntegerField()
    required = serializers.BooleanField()
    qualification = serializers.ChoiceField(choices=StudyRater.Qualification.choices, allow_blank=True)
    qualified = serializers.BooleanField(help_text="Whether the main queue is open to the rater.")
    standing = serializers.ChoiceField(choices=StudyRater.State.choices)
    pass_mark = serializers.FloatField()
    clips = serializers.IntegerField()
    attempt = serializers.IntegerField(allow_null=True)
    answered = serializers.IntegerField(help_text="Clips answered in the attempt under way.")
    score = serializers.FloatField(allow_null=True, help_text="The last finished attempt's share answered right.")
    ask_modality = serializers.BooleanField()
    clip = ClipSerializer(allow_null=True, help_text="The clip due next; null when none is.")


class QualificationStatusApi(QueueApi):
    class OutputSerializer(QualificationStatusSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int):
        study = selectors.study_for_member(rater=request.user, study_id=study_id)
        return Response(
            self.OutputSerializer(qualification_payload(study=study, rater=request.user)).data,
            status=status.HTTP_200_OK,
        )


class QualificationAnswerApi(QueueApi):
    """Answer the qualification clip due next: every label it shows. The last clip scores
    the attempt. With the study's feedback on, the answers that disagreed with the truth."""

    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0, max_value=10_000)
        answers = _BoundedDictField(
            child=serializers.ChoiceField(choices=Judgment.Answer.choices),
            max_keys=MAX_ANSWERS,
            help_text="Category id -> present / absent / unsure, for every label the clip shows.",
        )
        modalities = _BoundedDictField(
            child=serializers.ChoiceField(choices=sorted(MODALITIES)),
            max_keys=MAX_ANSWERS,
            required=False,
            default=dict,
        )
        seconds_spent = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)

    class OutputSerializer(serializers.Serializer):
        class FeedbackSerializer(serializers.Serializer):
            category_id = serializers.IntegerField()
            name = serializers.CharField()
            answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
            truth = serializers.ChoiceField(choices=["present", "absent"], help_text="What the gold label says.")

        attempt = serializers.IntegerField()
        answered = serializers.IntegerField()
        clips = serializers.IntegerField()
        finished = serializers.BooleanField()
        passed = serializers.BooleanField(allow_null=True)
        score = serializers.FloatField(allow_null=True)
        feedback = FeedbackSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_409_CONFLICT: error_response("Not due, qualified already, failed, paused or not active."),
        },
    )
    def post(self, request, study_id: int):
        data = validated(self.InputSerializer, request.data)
        study = selectors.study_for_member(rater=request.user, study_id=study_id)
        outcome = qualification_answer(study=study, rater=request.user, **data)
        return Response(self.OutputSerializer(outcome).data, status=status.HTTP_200_OK)
