"""Raters revising their recent ratings: the history list, one rating with its answers, the
revision itself; for the study's owner, the versions a rating went through.

A rater reaches their own ratings only: anyone else's answers 404 (so ids tell nothing). The
rules of which ratings may be revised and what a revision may change are the service's
(annotator.services.revisions); a refusal is a 409 whose extra.reason names the rule.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.apis.queue import ClipPayloadSerializer, GoldFeedbackSerializer, _BoundedDictField
from annotator.models import Judgment
from annotator.roles import IsRater
from config.api import DB_INT_MAX, BaseApi, ResearcherApi, error_response, validated
from config.errors import NotFoundError


class RatedAnswerSerializer(serializers.Serializer):
    category_id = serializers.IntegerField()
    name = serializers.CharField()
    answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
    modality = serializers.CharField(allow_blank=True, help_text="A, V, AV, or blank when not given.")
    added_by_rater = serializers.BooleanField()


_REVISABLE_HELP = "Whether the rater may revise it now; when not, `refusal` says why."


class RaterHistoryApi(BaseApi):
    """The rater's latest ratings in a study they rate, newest first (at most
    REVISABLE_RATINGS: the ones a rater may revise), each with the labels they judged and
    their answers."""

    permission_classes = [IsRater]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(help_text="The rating's id: GET /api/ratings/{id}/ opens it.")
        study_clip_id = serializers.IntegerField()
        skipped = serializers.BooleanField()
        version = serializers.IntegerField(help_text="1, plus one per revision.")
        submitted_at = serializers.DateTimeField()
        revised_at = serializers.DateTimeField(allow_null=True)
        labels = RatedAnswerSerializer(many=True)
        revisable = serializers.BooleanField(help_text=_REVISABLE_HELP)
        refusal = serializers.CharField(allow_blank=True)

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request, study_id: int):
        try:
            study = selectors.study_get(study_id=study_id)
        except NotFoundError:  # the same answer as for a study the rater is not in
            raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.") from None
        history = selectors.rater_history(study=study, rater=request.user, limit=services.REVISABLE_RATINGS)
        return Response(self.OutputSerializer(history, many=True).data, status=status.HTTP_200_OK)


class RatedClipSerializer(ClipPayloadSerializer):
    """One of the rater's ratings with its clip, as the rate page reopens it: the clip payload,
    with `labels` the labels the rating answered (in the clip's order, with the answers)."""

    class AnsweredLabelSerializer(ClipPayloadSerializer.LabelSerializer):
        answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
        modality = serializers.CharField(allow_blank=True, help_text="A, V, AV, or blank when not given.")

    class AddedLabelSerializer(serializers.Serializer):
        category_id = serializers.IntegerField()
        name = serializers.CharField()
        modality = serializers.CharField(allow_blank=True, help_text="A, V, AV, or blank when not given.")

    labels = AnsweredLabelSerializer(many=True)
    added = AddedLabelSerializer(many=True, help_text="Labels the rater added (present by definition).")
    id = serializers.IntegerField()
    skipped = serializers.BooleanField()
    version = serializers.IntegerField(help_text="1, plus one per revision.")
    submitted_at = serializers.DateTimeField()
    revised_at = serializers.DateTimeField(allow_null=True)
    seconds_spent = serializers.FloatField(allow_null=True)
    revisable = serializers.BooleanField(help_text=_REVISABLE_HELP)
    refusal = serializers.CharField(allow_blank=True)


class RatingDetailApi(BaseApi):
    """One of the rater's own ratings, its clip, labels and answers."""

    permission_classes = [IsRater]

    class OutputSerializer(RatedClipSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, rating_id: int):
        rating = selectors.rating_for_rater(rater=request.user, rating_id=rating_id)
        detail = selectors.rating_detail(rating=rating, rater=request.user)
        return Response(self.OutputSerializer(detail).data, status=status.HTTP_200_OK)


class RatingReviseApi(BaseApi):
    """Change the answers of one of the rater's recent ratings. Send every answer again, as
    for a submit: the rating's labels (not those it added) -> present / absent / unsure, and
    the modalities of present answers and added labels. Stored as a new version (the one it
    replaces is kept); the same answers again store nothing. 409 when the rating cannot be
    revised now (extra.reason: study_paused, study_closed, removed, paused, skipped, too_old,
    feedback_shown) or changed since `version`."""

    permission_classes = [IsRater]

    class InputSerializer(serializers.Serializer):
        answers = _BoundedDictField(
            child=serializers.ChoiceField(choices=Judgment.Answer.choices),
            max_keys=services.MAX_ANSWERS,
            help_text="Category id -> present / absent / unsure, for every label the rating answered "
            "(a revision cannot add labels).",
        )
        modalities = _BoundedDictField(
            child=serializers.ChoiceField(choices=sorted(services.MODALITIES)),
            max_keys=services.MAX_ANSWERS + services.MAX_ADDED,
            required=False,
            default=dict,
            help_text="Category id -> A / V / AV for present answers and added labels, in studies that ask; "
            "one left out is stored as not given.",
        )
        seconds_spent = serializers.FloatField(
            required=False,
            allow_null=True,
            default=None,
            min_value=0,
            max_value=services.MAX_SECONDS_SPENT,
            help_text="Time spent revising; added to the rating's.",
        )
        version = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=DB_INT_MAX,
            help_text="The version the rater opened: refused (409) if the rating was revised since.",
        )

    class OutputSerializer(RatedClipSerializer):
        feedback = GoldFeedbackSerializer(
            many=True,
            help_text="In a study with gold feedback, on a gold clip: the new answers that disagree with its "
            "known truth. Empty otherwise.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_409_CONFLICT: error_response(
                "The rating cannot be revised now (extra.reason says why), or changed since `version`."
            ),
        },
    )
    def post(self, request, rating_id: int):
        data = validated(self.InputSerializer, request.data)
        services.rating_revise(
            rating_id=rating_id,
            rater=request.user,
            answers=data["answers"],
            modalities=data["modalities"],
            seconds_spent=data["seconds_spent"],
            version=data.get("version"),
        )
        rating = selectors.rating_for_rater(rater=request.user, rating_id=rating_id)
        detail = selectors.rating_detail(rating=rating, rater=request.user)
        detail["feedback"] = selectors.rating_feedback(
            rating_id=rating.pk, skipped=rating.skipped, study=rating.study_clip.study, study_clip=rating.study_clip
        )
        return Response(self.OutputSerializer(detail).data, status=status.HTTP_200_OK)


class RatingVersionListApi(ResearcherApi):
    """For the study's owner (admins: any study): the versions of one of its ratings, oldest
    first, the current one last: what each answered and when it was submitted and replaced."""

    class OutputSerializer(serializers.Serializer):
        class VersionSerializer(serializers.Serializer):
            version = serializers.IntegerField()
            current = serializers.BooleanField()
            skipped = serializers.BooleanField()
            seconds_spent = serializers.FloatField(allow_null=True)
            submitted_at = serializers.DateTimeField()
            replaced_at = serializers.DateTimeField(allow_null=True, help_text="None for the current version.")
            answers = RatedAnswerSerializer(many=True)

        rating_id = serializers.IntegerField()
        study_clip_id = serializers.IntegerField()
        rater = serializers.CharField(help_text="The rater's username.")
        version = serializers.IntegerField(help_text="The current version.")
        versions = VersionSerializer(many=True)

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer})
    def get(self, request, study_id: int, rating_id: int):
        rating = selectors.rating_for_study_owner(user=request.user, study_id=study_id, rating_id=rating_id)
        data = {
            "rating_id": rating.pk,
            "study_clip_id": rating.study_clip_id,
            "rater": rating.rater.get_username(),
            "version": rating.version,
            "versions": selectors.rating_versions(rating=rating),
        }
        return Response(self.OutputSerializer(data).data, status=status.HTTP_200_OK)
