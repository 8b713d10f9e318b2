"""Brute force: django-axes locks a username from one address out of the login page and the
token API after AVLABEL_LOGIN_FAILURE_LIMIT wrong passwords, under the production limits."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.auth.logins import ADDRESS, LOGINS, OTHER_ADDRESS, WRONG, page_login, token_login
from tests.factories import PASSWORD, make_rater


def fail(login, username: str, times: int, *, address: str = ADDRESS) -> list[int]:
    return [login(username, WRONG, address=address).status_code for _ in range(times)]


def test_the_production_limits_apply():
    # The suite runs under config.settings' defaults: the tests below exercise those.
    assert settings.AXES_FAILURE_LIMIT == 10
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_the_login_page_locks_out_after_the_limit_and_refuses_the_right_password(rater):
    limit = settings.AXES_FAILURE_LIMIT

    statuses = fail(page_login, rater.username, limit + 1)
    right = page_login(rater.username, PASSWORD)

    assert statuses == [200] * (limit - 1) + [429, 429]
    assert right.status_code == 429
    page = right.content.decode()
    assert "Too many failed logins" in page and f"after {limit} failed" in page
    assert "_auth_user_id" not in right.client.session


def test_the_token_api_locks_out_with_the_json_envelope(rater):
    limit = settings.AXES_FAILURE_LIMIT

    statuses = fail(token_login, rater.username, limit + 1)
    right = token_login(rater.username, PASSWORD)

    assert statuses == [400] * (limit - 1) + [429, 429]
    assert right.status_code == 429
    assert right["Content-Type"].startswith("application/json")
    body = right.json()
    assert set(body) == {"message", "extra"}
    assert "Too many failed logins" in body["message"]
    assert right["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert not Token.objects.filter(user=rater).exists()


@pytest.mark.parametrize("way", LOGINS)
def test_the_lockout_holds_one_username_from_one_address(rater, way):
    login, logged_in = LOGINS[way]
    other_rater = make_rater()
    fail(login, rater.username, settings.AXES_FAILURE_LIMIT)

    assert login(rater.username, PASSWORD).status_code == 429
    assert logged_in(login(rater.username, PASSWORD, address=OTHER_ADDRESS))
    assert logged_in(login(other_rater.username, PASSWORD))


@pytest.mark.parametrize("way", LOGINS)
def test_a_successful_login_clears_the_failures(rater, way):
    login, logged_in = LOGINS[way]
    almost = settings.AXES_FAILURE_LIMIT - 1
    fail(login, rater.username, almost)

    assert logged_in(login(rater.username, PASSWORD))
    assert 429 not in fail(login, rater.username, almost)
    assert logged_in(login(rater.username, PASSWORD))


@pytest.mark.parametrize("way", LOGINS)
def test_the_lockout_ends_after_the_cool_off(rater, way):
    login, logged_in = LOGINS[way]
    fail(login, rater.username, settings.AXES_FAILURE_LIMIT)
    assert login(rater.username, PASSWORD).status_code == 429

    # The last attempt (each attempt while locked out starts the wait again) is a cool-off old.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert logged_in(login(rater.username, PASSWORD))


def test_logging_in_with_the_right_password_many_times_never_locks_out(rater):
    for _ in range(2 * settings.AXES_FAILURE_LIMIT):
        assert LOGINS["page"][1](page_login(rater.username, PASSWORD))
        assert LOGINS["token"][1](token_login(rater.username, PASSWORD))


def test_the_admin_login_counts_towards_the_same_lockout(rater):
    fail(page_login, rater.username, settings.AXES_FAILURE_LIMIT)

    response = Client(REMOTE_ADDR=ADDRESS).post(
        "/admin/login/", {"username": rater.username, "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 429


def test_behind_a_proxy_the_named_header_is_the_client_address(rater, settings):
    # What AVLABEL_CLIENT_IP_HEADER=X-Real-IP sets (its parsing: test_client_ip_header_from_the_environment).
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_REAL_IP", "REMOTE_ADDR")
    proxy = "10.0.0.2"

    def via_proxy(username, password, *, address):
        return Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP=address).post(
            "/accounts/login/", {"username": username, "password": password}
        )

    fail(via_proxy, rater.username, settings.AXES_FAILURE_LIMIT, address=ADDRESS)

    assert via_proxy(rater.username, PASSWORD, address=ADDRESS).status_code == 429
    assert via_proxy(rater.username, PASSWORD, address=OTHER_ADDRESS).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ADDRESS}


def test_a_username_longer_than_any_account_counts_as_a_failure_on_the_page(db):
    # Django's login form does not enforce the length; axes' record holds 255 characters.
    response = page_login("u" * 300, WRONG)

    assert response.status_code == 200
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["u" * 255]


def test_a_username_longer_than_any_account_is_refused_by_the_token_api(db):
    response = token_login("u" * 300, WRONG)

    assert response.status_code == 400
    assert "username" in response.json()["extra"]["fields"]
    assert not AccessAttempt.objects.exists()
