"""HTTP Basic authentication whose password is the user's avlabel API token.

Label Studio's ML backend connection offers HTTP Basic auth (user and password) and no
other header, and sends it on every request, /health included. The password is the API token
(POST /api/auth/token/), never the account's password: a token expires (AVLABEL_TOKEN_TTL)
and ends at logout or on a password change, so one stored in Label Studio is revocable.
"""

import hmac

from rest_framework.authentication import BasicAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from annotator.authentication import ExpiringTokenAuthentication

INVALID_MESSAGE = "Invalid username or API token (the Basic auth password is an avlabel API token)."


class TokenBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "avlabel ML backend"

    def authenticate_credentials(self, userid, password, request=None):
        token = Token.objects.select_related("user").filter(key=password).first()
        # The username must match too: a token alone is enough for the Token header, but a
        # Basic pair naming someone else is a mistake worth refusing rather than guessing.
        if token is None or not hmac.compare_digest(token.user.get_username().encode(), userid.encode()):
            raise AuthenticationFailed(INVALID_MESSAGE)
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        ExpiringTokenAuthentication.refuse_expired(token)
        return token.user, token
