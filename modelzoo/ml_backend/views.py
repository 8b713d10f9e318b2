"""The ML backend's endpoints, one per call Label Studio makes, under /ml-backend/<run_id>/.

Who may call them: the researchers who may predict with the run (its owner, those it is
shared with, admins), authenticated with HTTP Basic (username + API token: what Label
Studio's connection form sends, on every request, /health included), the
``Authorization: Token`` header or a session. Anonymous: 401; raters: 403; any other run,
or a run that is no finished training: 404, in the project's error envelope.

They speak Label Studio's contract, not avlabel's API, so they stay out of the OpenAPI
schema (``schema = None``); the contract is written out in ``contract``.
"""

from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from annotator.authentication import ExpiringTokenAuthentication
from config.api import ResearcherApi, validated
from modelzoo.ml_backend import contract, service
from modelzoo.ml_backend.authentication import TokenBasicAuthentication

CONFIG_FIELD = {"max_length": contract.MAX_CONFIG_CHARS, "trim_whitespace": False}


class MlBackendApi(ResearcherApi):
    # Basic first: its challenge (WWW-Authenticate: Basic) is what a 401 answers.
    authentication_classes = [TokenBasicAuthentication, ExpiringTokenAuthentication, SessionAuthentication]
    schema = None
    max_body_setting = "AVLABEL_API_MAX_BODY_BYTES"  # outside /api/, so named for the body cap


class MlBackendHealthApi(MlBackendApi):
    """Label Studio checks the backend answers before connecting it and now and then after."""

    def get(self, request, run_id: int):
        run = service.ml_backend_run(user=request.user, run_id=run_id)
        return Response(contract.health_body(model_class=service.ml_backend_model_class(run=run)))


class MlBackendSetupApi(MlBackendApi):
    """On connecting (and on a config change): the project's label config must offer the
    run's classes as choices; answers the model version Label Studio records."""

    class InputSerializer(serializers.Serializer):
        project = serializers.CharField(max_length=200)  # "<project id>.<created at, epoch seconds>"
        schema = serializers.CharField(**CONFIG_FIELD)
        # Label Studio's own address and a token for it: unused, media are read from the
        # run's dataset on this server, so neither is kept.
        hostname = serializers.CharField(required=False, allow_blank=True, allow_null=True)
        access_token = serializers.CharField(required=False, allow_blank=True, allow_null=True)
        model_version = serializers.CharField(required=False, allow_blank=True, allow_null=True)
        extra_params = serializers.JSONField(required=False, allow_null=True)

    def post(self, request, run_id: int):
        run = service.ml_backend_run(user=request.user, run_id=run_id)
        data = validated(self.InputSerializer, request.data)
        service.ml_backend_target(run=run, label_config=data["schema"])
        return Response(contract.setup_body(model_version=service.ml_backend_model_version(run=run)))


class MlBackendPredictApi(MlBackendApi):
    """Pre-annotations for a batch of tasks: one prediction per task, in their order."""

    class InputSerializer(serializers.Serializer):
        tasks = serializers.ListField(child=serializers.DictField(), max_length=contract.MAX_TASKS)
        label_config = serializers.CharField(**CONFIG_FIELD)
        project = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
        model_version = serializers.CharField(required=False, allow_blank=True, allow_null=True)
        params = serializers.DictField(required=False, allow_null=True)  # login, password, context: unused

        def validate_tasks(self, tasks):
            for position, task in enumerate(tasks):
                if not isinstance(task.get("data"), dict):
                    raise serializers.ValidationError(f"task {position}: a task is an object with a data object")
            return tasks

    def post(self, request, run_id: int):
        run = service.ml_backend_run(user=request.user, run_id=run_id)
        data = validated(self.InputSerializer, request.data)
        predictions = service.ml_backend_predict(run=run, label_config=data["label_config"], tasks=data["tasks"])
        return Response(contract.predict_body(predictions))


class MlBackendWebhookApi(MlBackendApi):
    """Label Studio's training events (annotation created, START_TRAINING, ...). A run's
    model is trained from an avlabel dataset (manage.py train), never from these, so each is
    acknowledged and changes nothing, as the reference server answers an event it does not
    handle (200 with a status)."""

    class InputSerializer(serializers.Serializer):
        action = serializers.CharField(max_length=100)

    def post(self, request, run_id: int):
        service.ml_backend_run(user=request.user, run_id=run_id)
        action = validated(self.InputSerializer, request.data)["action"]
        return Response(
            {"status": "ignored", "action": action, "detail": "avlabel trains runs from its own datasets."},
            status=status.HTTP_200_OK,
        )
