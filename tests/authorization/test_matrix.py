"""The authorization matrix: every route of the URL conf (pages, API, media, exports, reports,
admin, schema, docs, health, login and logout) x every role, each cell with the outcome it must
have. A route the URL conf has and this table does not FAILS `test_every_route_has_a_rule`, so a
new route cannot ship without its rule.

Roles (tests/authorization/world.py): anonymous; `rater_in`, a rater of the study who holds one
of its clips reserved and has rated another; `rater_out`, a rater not in it; `other_rater`, in
the study too but on `rater_in`'s clips; `owner`, the researcher who owns the datasets, studies,
runs and report; `other_researcher`; `admin`, a superuser.

Outcomes: an HTTP status, or LOGIN / ADMIN_LOGIN (302 to the site's or the admin's login page)
or REDIRECT (302 elsewhere). Whatever is not one's own answers 404, never 403, so ids don't
tell what exists; 403 is for a role that may never use the route. Each cell runs in a savepoint
rolled back afterwards, so state-changing requests (reserve, submit, cancel, share, create)
are checked in their allowed cells too and leave the world as it was.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from tests.authorization.cells import ADMIN_LOGIN, LOGIN, OUTSIDERS, REDIRECT, Rule
from tests.authorization.routes import url_conf_routes
from tests.authorization.rules import RULES
from tests.authorization.world import ROLES, AuthWorld, build_auth_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test's own
    transaction (the `db` fixture) is a savepoint within it."""
    root = tmp_path_factory.mktemp("matrix")
    media, artifacts = root / "media", root / "artifacts"
    media.mkdir()
    artifacts.mkdir()
    fast_hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        override_settings(MEDIA_ROOT=media, ARTIFACTS_DIR=artifacts, PASSWORD_HASHERS=fast_hasher),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_auth_world(media_root=media, artifacts=artifacts)
        transaction.set_rollback(True)


def _outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("login")):
            return LOGIN
        return ADMIN_LOGIN if location.startswith(reverse("admin:login")) else REDIRECT
    return response.status_code


def _request(rule: Rule, world: AuthWorld, role: str):
    """One cell: the request as `role` makes it, in a savepoint rolled back afterwards."""
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        if world.users[role] is not None:
            client.force_login(world.users[role])
        path = rule.path(world)
        body = rule.body(world, role) if rule.body else None
        if rule.method == "get":
            response = client.get(path)
        elif rule.method == "delete":
            response = client.delete(path)
        elif rule.form:
            response = client.post(path, body or {})
        else:
            response = client.post(path, json.dumps(body or {}), content_type="application/json")
        # Reading a streamed body to its end closes it the way the test client expects
        # (response.close() itself would close the connection the world lives in).
        content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response, content


@pytest.mark.parametrize("rule", RULES, ids=[f"{rule.method} {rule.route}" for rule in RULES])
def test_each_role_gets_the_outcome_its_cell_names(db, world, rule):
    wrong = []
    for role in ROLES:
        response, content = _request(rule, world, role)
        got, expected = _outcome(response), rule.expect[role]
        if got != expected:
            wrong.append(f"{role}: expected {expected}, got {got} ({content[:120]!r})")
        elif rule.hides and role in OUTSIDERS and got == 200 and rule.hides(world).encode() in content:
            wrong.append(f"{role}: sees {rule.hides(world)!r}")
    assert not wrong, f"{rule.method.upper()} {rule.path(world)}\n" + "\n".join(wrong)


def test_every_route_has_a_rule():
    """A route without a row fails here with its name: add its rule to RULES."""
    ruled = {rule.route for rule in RULES}
    missing = sorted(f"{route.key}  ({route.pattern})" for route in url_conf_routes() if route.key not in ruled)
    assert not missing, "routes without a rule in the authorization matrix:\n" + "\n".join(missing)


def test_every_rule_names_a_route():
    routes = {route.key for route in url_conf_routes()}
    assert not sorted({rule.route for rule in RULES} - routes)
