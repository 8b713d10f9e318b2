"""Token authentication with expiry, for REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES.

Kept apart from annotator.apis: DRF imports its default classes while APIView is being
defined, so this module must not import the API views."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from annotator.tokens import token_expired

EXPIRED_MESSAGE = "Token expired: obtain a new one from POST /api/auth/token/."


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than AVLABEL_TOKEN_TTL (401)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        self.refuse_expired(token)
        return user, token

    @staticmethod
    def refuse_expired(token) -> None:
        if token_expired(token):
            raise AuthenticationFailed(EXPIRED_MESSAGE)
