"""API tokens: they expire after AVLABEL_TOKEN_TTL on every endpoint (DRF's default class and
the queue's fast path alike), a new login replaces an expired one, and logging out or a new
password ends them."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.auth.logins import token_login
from tests.factories import PASSWORD, make_user

# Auth runs before the body is read: an empty submit tells a refused token (401) from an
# accepted one (the submit's own 4xx), whether or not study clip 1 exists.
QUEUE_SUBMIT = "/api/study-clips/1/submit/"


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def age(token: Token, by: timedelta) -> None:
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - by)


@pytest.fixture
def token(rater) -> Token:
    return Token.objects.create(user=rater)


def queue_submit(client: APIClient):
    return client.post(QUEUE_SUBMIT, {}, format="json")


def test_a_token_just_inside_its_lifetime_is_accepted(token):
    age(token, settings.AVLABEL_TOKEN_TTL - timedelta(minutes=1))

    assert with_token(token.key).get("/api/me/").status_code == 200
    assert queue_submit(with_token(token.key)).status_code not in (401, 403)


def test_an_expired_token_is_refused_on_a_default_endpoint(token):
    age(token, settings.AVLABEL_TOKEN_TTL + timedelta(seconds=1))

    response = with_token(token.key).get("/api/me/")

    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_an_expired_token_is_refused_on_the_queue(token):
    age(token, settings.AVLABEL_TOKEN_TTL + timedelta(seconds=1))

    response = queue_submit(with_token(token.key))

    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_logging_in_again_issues_a_fresh_token_in_place_of_an_expired_one(rater, token):
    age(token, settings.AVLABEL_TOKEN_TTL + timedelta(seconds=1))

    response = token_login(rater.username, PASSWORD)

    fresh = response.json()["token"]
    assert fresh != token.key
    assert list(Token.objects.filter(user=rater).values_list("key", flat=True)) == [fresh]
    assert with_token(fresh).get("/api/me/").status_code == 200


def test_logging_in_again_keeps_a_live_token(rater, token):
    assert token_login(rater.username, PASSWORD).json()["token"] == token.key


def test_logging_out_ends_the_token(rater, token):
    client = Client()
    client.force_login(rater)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not Token.objects.filter(user=rater).exists()
    assert with_token(token.key).get("/api/me/").status_code == 401


def test_set_password_and_save_ends_the_token(rater, token):
    rater.set_password("a-new-password-9")
    rater.save()

    assert not Token.objects.filter(user=rater).exists()
    assert queue_submit(with_token(token.key)).status_code == 401


def test_a_new_password_in_the_admin_ends_the_token(rater, token):
    admin = make_user(username="root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)

    response = client.post(
        f"/admin/auth/user/{rater.pk}/password/",
        {"password1": "a-new-password-9", "password2": "a-new-password-9", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Token.objects.filter(user=rater).exists()


def test_other_saves_of_the_user_keep_the_token(rater, token):
    rater.first_name = "Ann"
    rater.save()
    Client().force_login(rater)  # saves last_login

    assert Token.objects.filter(user=rater).exists()


def test_a_hash_upgrade_at_login_keeps_the_token(rater, token, settings):
    # The stored hash is of an older hasher: checking the password re-hashes and saves it,
    # which changes the hash but not the password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    type(rater).objects.filter(pk=rater.pk).update(password=make_password(PASSWORD, hasher="md5"))

    response = token_login(rater.username, PASSWORD)

    rater.refresh_from_db()
    assert rater.password.startswith("pbkdf2_sha256$")
    assert response.json()["token"] == token.key
