"""Authentication endpoints and the queue's fast token lookup."""

from axes.helpers import get_cool_off
from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import TokenScheme
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from annotator import roles, selectors, tokens
from annotator.authentication import ExpiringTokenAuthentication
from annotator.roles import IsRater
from config.api import BaseApi, error_response, validated
from config.errors import ApplicationError


class QueueTokenAuthentication(ExpiringTokenAuthentication):
    """Token authentication for the queue's hot endpoints: the token, its user and the
    user's roles in one statement instead of two (DRF's lookup, then the role check's);
    expiry is read from the same row."""

    def authenticate_credentials(self, key):
        found = selectors.user_for_token(key=key)
        if found is None:
            raise AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        self.refuse_expired(token)
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


_USER_MODEL = get_user_model()
_USERNAME_MAX_LENGTH = _USER_MODEL._meta.get_field(_USER_MODEL.USERNAME_FIELD).max_length


class AuthTokenObtainApi(BaseApi):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`).
    The token lives AVLABEL_TOKEN_TTL_HOURS; an expired one is replaced by a fresh one here.
    AVLABEL_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that
    pair out for AVLABEL_LOGIN_COOLOFF_MINUTES (429), the right password included."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        # No longer than the user model allows: a longer name is no account, and axes' record
        # of a failed attempt could not hold it.
        username = serializers.CharField(max_length=_USERNAME_MAX_LENGTH)
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_400_BAD_REQUEST: error_response("Wrong username or password, or a field missing."),
            status.HTTP_429_TOO_MANY_REQUESTS: error_response(
                "Too many failed logins for this username from this address; Retry-After gives the seconds."
            ),
        },
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        # django-axes counts the failure, and refuses a locked-out client, through the request.
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise Throttled(
                    wait=get_cool_off(request).total_seconds(),
                    detail="Too many failed logins for this username from this address.",
                )
            raise ApplicationError("Unable to log in with these credentials.")
        # Success clears this client's failures, as a page login does through user_logged_in
        # (not sent here: axes' receiver would open a session for its access log). The address
        # is axes' own reading, absent only with AXES_ENABLED off.
        if hasattr(request, "axes_ip_address"):
            axes_reset(ip=request.axes_ip_address, username=data["username"])
        token = tokens.token_issue(user=user)
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
