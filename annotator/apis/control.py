"""The researcher's control of a running study: pause, resume, reopen it; pause, resume,
remove its raters; their standing and qualification results, retry and admit; the audit
trail. The study page's buttons post here."""

from abc import ABCMeta, abstractmethod

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import selectors, services
from annotator.apis.studies import StudyOutputSerializer
from annotator.models import StudyEvent, StudyRater
from annotator.services.qualification import qualification_admit, qualification_retry
from annotator.services.standing import MAX_REASON
from config.api import ResearcherApi, ResearcherListApi, error_response, validated


class _StudyStatusApi(ResearcherApi):
    """One change of a study's status; subclasses name the service."""

    change = staticmethod(services.study_pause)

    class OutputSerializer(StudyOutputSerializer):
        pass

    @extend_schema(
        request=None,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_409_CONFLICT: error_response("The study's status does not allow this change."),
        },
    )
    def post(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        type(self).change(study=study, actor=request.user)
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return Response(self.OutputSerializer(study).data, status=status.HTTP_200_OK)


class StudyPauseApi(_StudyStatusApi):
    """Serve and accept nothing until resumed; held reservations are released."""

    change = staticmethod(services.study_pause)


class StudyResumeApi(_StudyStatusApi):
    change = staticmethod(services.study_resume)


class StudyReopenApi(_StudyStatusApi):
    """A closed study serves and accepts ratings again."""

    change = staticmethod(services.study_reopen)


class RaterStandingSerializer(serializers.Serializer):
    rater_id = serializers.IntegerField()
    username = serializers.CharField()
    state = serializers.ChoiceField(choices=StudyRater.State.choices)
    reason = serializers.CharField(allow_blank=True)
    ratings_excluded = serializers.BooleanField()
    qualification = serializers.ChoiceField(choices=StudyRater.Qualification.choices, allow_blank=True)
    attempts = serializers.IntegerField()
    correct = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="The last finished attempt's share answered right.")
    finished_at = serializers.DateTimeField(allow_null=True)


class StudyRaterStandingListApi(ResearcherApi):
    """Each rater's standing in the study and their qualification result."""

    class OutputSerializer(RaterStandingSerializer):
        pass

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        rows = selectors.qualification_results(study=study)
        return Response(self.OutputSerializer(rows, many=True).data, status=status.HTTP_200_OK)


class _RaterActionApi(ResearcherApi, metaclass=ABCMeta):
    """One action on one rater of the researcher's study; answers the rater's standing."""

    class OutputSerializer(RaterStandingSerializer):
        pass

    @abstractmethod
    def act(self, request, study, rater, data: dict) -> None:
        """The service call this API stands for."""

    def post(self, request, study_id: int, rater_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        rater = selectors.study_rater_get(study=study, rater_id=rater_id)
        input_serializer = getattr(self, "InputSerializer", None)
        data = validated(input_serializer, request.data) if input_serializer else {}
        self.act(request, study, rater, data)
        row = next(row for row in selectors.qualification_results(study=study) if row["rater_id"] == rater.pk)
        return Response(self.OutputSerializer(row).data, status=status.HTTP_200_OK)


class _ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, required=False, default="", allow_blank=True)


class StudyRaterPauseApi(_RaterActionApi):
    """Serve the rater nothing more until resumed; what they hold is released."""

    class InputSerializer(_ReasonSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: _RaterActionApi.OutputSerializer})
    def post(self, request, study_id: int, rater_id: int):
        return super().post(request, study_id, rater_id)

    def act(self, request, study, rater, data):
        services.rater_pause(study=study, rater=rater, actor=request.user, reason=data["reason"])


class StudyRaterResumeApi(_RaterActionApi):
    @extend_schema(request=None, responses={status.HTTP_200_OK: _RaterActionApi.OutputSerializer})
    def post(self, request, study_id: int, rater_id: int):
        return super().post(request, study_id, rater_id)

    def act(self, request, study, rater, data):
        services.rater_resume(study=study, rater=rater, actor=request.user)


class StudyRaterRemoveApi(_RaterActionApi):
    """Take the rater out of the study; their ratings stay in the consensus or leave it."""

    class InputSerializer(_ReasonSerializer):
        exclude_ratings = serializers.BooleanField(
            help_text="true: their ratings leave the consensus, tables and exports; false: they stay."
        )

    @extend_schema(request=InputSerializer, responses={status.HTTP_200_OK: _RaterActionApi.OutputSerializer})
    def post(self, request, study_id: int, rater_id: int):
        return super().post(request, study_id, rater_id)

    def act(self, request, study, rater, data):
        services.rater_remove(
            study=study, rater=rater, actor=request.user, exclude_ratings=data["exclude_ratings"], reason=data["reason"]
        )


class QualificationRetryApi(_RaterActionApi):
    """Let a rater who failed the qualification take it again."""

    @extend_schema(request=None, responses={status.HTTP_200_OK: _RaterActionApi.OutputSerializer})
    def post(self, request, study_id: int, rater_id: int):
        return super().post(request, study_id, rater_id)

    def act(self, request, study, rater, data):
        qualification_retry(study=study, rater=rater, actor=request.user)


class QualificationAdmitApi(_RaterActionApi):
    """Let a rater into the main queue without passing the qualification."""

    @extend_schema(request=None, responses={status.HTTP_200_OK: _RaterActionApi.OutputSerializer})
    def post(self, request, study_id: int, rater_id: int):
        return super().post(request, study_id, rater_id)

    def act(self, request, study, rater, data):
        qualification_admit(study=study, rater=rater, actor=request.user)


class StudyEventListApi(ResearcherListApi):
    """The study's audit trail, newest first: every researcher action, and automatic pauses."""

    class OutputSerializer(serializers.ModelSerializer):
        actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
        rater = serializers.CharField(source="rater.username", allow_null=True, default=None)
        description = serializers.CharField(source="get_action_display")

        class Meta:
            model = StudyEvent
            fields = ["id", "created_at", "actor", "action", "description", "rater", "details"]

    @extend_schema(responses={status.HTTP_200_OK: OutputSerializer(many=True)})
    def get(self, request, study_id: int):
        study = selectors.study_for_researcher(user=request.user, study_id=study_id)
        return self.paginated(selectors.study_events(study=study), self.OutputSerializer)
