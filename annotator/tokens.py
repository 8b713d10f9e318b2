"""API tokens: how long one lives, issuing one, and ending a user's tokens when they log out
or change their password (README, "Accounts, tokens and lockout")."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token


def tokens_expire_at_or_before(now: datetime | None = None) -> datetime:
    """A token created at or before this moment has expired."""
    return (now or timezone.now()) - settings.AVLABEL_TOKEN_TTL


def token_expired(token: Token, *, now: datetime | None = None) -> bool:
    return token.created <= tokens_expire_at_or_before(now)


def token_issue(*, user) -> Token:
    """The user's live token, or a fresh one in place of an expired one. Concurrent logins of
    one user end with the same token (get_or_create settles the race on the unique user)."""
    with transaction.atomic():
        Token.objects.filter(user=user, created__lte=tokens_expire_at_or_before()).delete()
        token, _ = Token.objects.get_or_create(user=user)
    return token


def tokens_revoke(*, user) -> int:
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def on_logged_out(sender, request, user, **kwargs) -> None:
    """user_logged_out: logging out ends the API token too (user is None without a session)."""
    if user is not None:
        tokens_revoke(user=user)


def on_user_saved(sender, instance, created, **kwargs) -> None:
    """post_save of the user model: a new password ends the API token, whichever path set it
    (the password-change page, the admin, `manage.py changepassword`, set_password + save).
    set_password() leaves the raw password in `_password` until the save that follows: Django's
    own mark of a change, the one that calls the validators' password_changed(). A hash upgrade
    at login clears it before saving, so it revokes nothing."""
    if not created and getattr(instance, "_password", None) is not None:
        tokens_revoke(user=instance)
