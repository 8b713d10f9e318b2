"""Authentication endpoints and the queue's fast token lookup."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import TokenScheme
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from annotator import roles, selectors
from annotator.roles import IsRater
from config.api import BaseApi, validated
from config.errors import ApplicationError


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
        data = validated(self.InputSerializer, request.data)
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
