"""How django-axes reads the username a login attempt names (AXES_USERNAME_CALLABLE)."""

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model


def attempted_username(request, credentials: dict | None) -> str | None:
    """The username as axes' own reading finds it, cut to what its records hold. Django's
    login form (the site's and the admin's) authenticates without enforcing the username's
    length, and a name longer than axes' column, which no account has, would fail its insert."""
    field = get_user_model().USERNAME_FIELD
    username = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    if isinstance(username, str):
        return username[: AccessAttempt._meta.get_field("username").max_length]
    return username
