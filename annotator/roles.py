"""Roles: rater, researcher, admin, as Django groups (admin also means superuser).

Pages and APIs check roles through these helpers only, so both enforce the same rules.
"""

from django.contrib.auth.mixins import UserPassesTestMixin
from rest_framework.permissions import BasePermission

RATER = "rater"
RESEARCHER = "researcher"
ADMIN = "admin"
ROLES = (RATER, RESEARCHER, ADMIN)


def user_has_role(user, role: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if role == RESEARCHER and user_has_role(user, ADMIN):
        return True
    cache = getattr(user, "_avlabel_roles", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._avlabel_roles = cache
    return role in cache


def user_roles_remember(user, names) -> None:
    """Cache the user's group names on the object (a query that already read them)."""
    user._avlabel_roles = set(names)


def user_is_rater(user) -> bool:
    return user_has_role(user, RATER)


def user_is_researcher(user) -> bool:
    """Researchers and admins: both may run studies, models and evaluations."""
    return user_has_role(user, RESEARCHER)


def user_is_admin(user) -> bool:
    return user_has_role(user, ADMIN)


def require_researchers(users) -> None:
    """Refuse (ApplicationError naming them) users who are not researchers, e.g. in a share."""
    from config.errors import ApplicationError

    not_researchers = sorted(str(user) for user in users if not user_is_researcher(user))
    if not_researchers:
        raise ApplicationError(
            f"Not researchers: {', '.join(not_researchers)}.", extra={"not_researchers": not_researchers}
        )


def role_context(request) -> dict:
    """Template context: which parts of the navigation this user may see."""
    user = getattr(request, "user", None)
    return {
        "is_rater": user_is_rater(user),
        "is_researcher": user_is_researcher(user),
        "is_admin": user_is_admin(user),
    }


class IsRater(BasePermission):
    message = "Only raters may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_rater(request.user)


class IsResearcher(BasePermission):
    message = "Only researchers may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_researcher(request.user)


class RaterRequiredMixin(UserPassesTestMixin):
    """Page views: anonymous users go to the login page, others without the role get 403."""

    def test_func(self) -> bool:
        return user_is_rater(self.request.user)


class ResearcherRequiredMixin(UserPassesTestMixin):
    def test_func(self) -> bool:
        return user_is_researcher(self.request.user)
