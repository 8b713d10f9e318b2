"""Adjudication for researchers: a study's contested labels with their votes, deciding a
label and clearing a decision. Their own studies only (admins: all); the adjudication page
posts to these same endpoints."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.models import Adjudication, Judgment, StudyClipLabel
from annotator.selectors.adjudication import STATE_OPEN, STATES
from config.api import IdField, ResearcherApi, ResearcherListApi, error_response, validated

LABEL_NOT_FOUND = error_response("No such study among yours, clip in the study, or category in its taxonomy.")
MODALITY_HELP = "A (heard only), V (seen only) or AV (both); only with present. Blank: the raters' modality consensus."


class AdjudicationOutputSerializer(serializers.ModelSerializer):
    study_clip_id = serializers.IntegerField()
    category_id = serializers.IntegerField()
    category_name = serializers.CharField(source="category.name")
    decided_by = serializers.CharField(source="decided_by.username")

    class Meta:
        model = Adjudication
        fields = ["study_clip_id", "category_id", "category_name", "decision", "modality", "note", "decided_by",
                  "decided_at"]  # fmt: skip


class ContestedLabelListApi(ResearcherListApi):
    """The study's labels to decide (`state=open`, the default: contested and not decided),
    decided (`adjudicated`), or both (`all`), in clip position then category order. Contested:
    present and absent votes differ by at most one (at least one of them given), or the two
    most-voted modalities of the present votes differ by at most one (at least two given).
    Votes are the completed ratings', raters removed with their ratings excluded left out."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=STATES, default=STATE_OPEN, required=False)

    class OutputSerializer(serializers.Serializer):
        class VotesSerializer(serializers.Serializer):
            present = serializers.IntegerField()
            absent = serializers.IntegerField()
            unsure = serializers.IntegerField()

        class ModalityVotesSerializer(serializers.Serializer):
            A = serializers.IntegerField()
            V = serializers.IntegerField()
            AV = serializers.IntegerField()

        class RaterSerializer(serializers.Serializer):
            rater_id = serializers.IntegerField()
            username = serializers.CharField()
            answer = serializers.ChoiceField(choices=Judgment.Answer.choices)
            modality = serializers.CharField(allow_blank=True, help_text="A, V, AV, or blank when not given.")
            added_by_rater = serializers.BooleanField()
            seconds_spent = serializers.FloatField(allow_null=True, help_text="Their rating of the whole clip.")

        study_clip_id = serializers.IntegerField()
        position = serializers.IntegerField()
        clip_id = serializers.IntegerField()
        clip_name = serializers.CharField()
        is_gold = serializers.BooleanField()
        media_url = serializers.CharField(help_text="The clip's video, for the study's owner.")
        category_id = serializers.IntegerField()
        category_name = serializers.CharField()
        source = serializers.ChoiceField(choices=StudyClipLabel.Source.choices)
        contested = serializers.BooleanField(help_text="Whether its votes make it contested now.")
        votes = VotesSerializer()
        modality_votes = ModalityVotesSerializer(help_text="Present votes per modality.")
        raters = RaterSerializer(many=True)
        adjudication = AdjudicationOutputSerializer(allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        filters = validated(self.FilterSerializer, request.query_params)
        labels = selectors.study_contested_labels(study=study, state=filters["state"])
        return self.paginated(labels, self.OutputSerializer)


class LabelAdjudicateApi(ResearcherApi):
    """Decide a label of a study clip: present (with where it is) or absent. The decision
    overrides the raters' vote in the study's consensus, tables and dataset export; a second
    one replaces the first. Audited."""

    class InputSerializer(serializers.Serializer):
        study_clip = IdField(help_text="The study clip's id (study_clip_id in the contested list).")
        category = IdField(help_text="The label's category id.")
        decision = serializers.ChoiceField(choices=Adjudication.Decision.choices)
        modality = serializers.ChoiceField(
            choices=services.ADJUDICATED_MODALITIES,
            required=False,
            default="",
            allow_blank=True,
            help_text=MODALITY_HELP,
        )
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=services.MAX_NOTE)

    OutputSerializer = AdjudicationOutputSerializer

    @extend_schema(
        request=InputSerializer,
        responses={status.HTTP_200_OK: OutputSerializer, status.HTTP_404_NOT_FOUND: LABEL_NOT_FOUND},
    )
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        data = validated(self.InputSerializer, request.data)
        study_clip, category = selectors.adjudication_target(
            study=study, study_clip_id=data["study_clip"], category_id=data["category"]
        )
        adjudication = services.label_adjudicate(
            study=study,
            study_clip=study_clip,
            category=category,
            decision=data["decision"],
            modality=data["modality"],
            note=data["note"],
            user=request.user,
        )
        return Response(self.OutputSerializer(adjudication).data, status=status.HTTP_200_OK)


class AdjudicationClearApi(ResearcherApi):
    """Remove the decision on a label, so its vote decides again. Idempotent: 204 whether or
    not there was one (only a removal is audited)."""

    @extend_schema(
        responses={
            status.HTTP_204_NO_CONTENT: OpenApiResponse(description="No decision on the label now."),
            status.HTTP_404_NOT_FOUND: LABEL_NOT_FOUND,
        }
    )
    def delete(self, request, study_id: int, study_clip_id: int, category_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        study_clip, category = selectors.adjudication_target(
            study=study, study_clip_id=study_clip_id, category_id=category_id
        )
        services.adjudication_clear(study=study, study_clip=study_clip, category=category, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
