"""Authentication of the annotator API: anonymous requests, token login, /api/me/, and the
queue's token authentication."""

import pytest
from rest_framework.test import APIClient

from tests.annotator.clients import client_for, token_client
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    "url",
    [
        "/api/me/",
        "/api/datasets/",
        "/api/clips/",
        "/api/studies/",
        "/api/studies/1/",
        "/api/studies/1/next/",
        "/api/studies/1/progress/",
        "/api/study-clips/1/",
    ],
)
def test_anonymous_requests_are_refused(db, url):
    response = APIClient().get(url)

    assert response.status_code in (401, 403)


def test_token_login_and_token_authentication(study_world):
    rater = study_world.raters[0]

    response = APIClient().post("/api/auth/token/", {"username": rater.username, "password": PASSWORD})
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/me/")

    assert response.status_code == 200
    assert me.status_code == 200
    assert me.json() == {"id": rater.pk, "username": rater.username, "roles": ["rater"]}


def test_token_login_with_a_wrong_password_is_refused(study_world):
    response = APIClient().post("/api/auth/token/", {"username": study_world.raters[0].username, "password": "nope"})

    assert response.status_code == 400
    assert "credentials" in response.json()["message"]


def test_me_lists_the_researcher_role(study_world):
    assert client_for(study_world.owner).get("/api/me/").json()["roles"] == ["researcher"]


def test_queue_token_authentication_refuses_bad_and_inactive_tokens(study_world):
    rater = study_world.raters[0]
    client = token_client(rater)
    rater.is_active = False
    rater.save()
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert client.post(f"/api/studies/{study_world.study.pk}/next/").status_code == 401
    assert stranger.post(f"/api/studies/{study_world.study.pk}/next/").status_code == 401
    assert stranger.post("/api/study-clips/1/submit/", {}, format="json").status_code == 401


def test_queue_token_authentication_reads_roles_with_the_user(study_world):
    researcher_client = token_client(study_world.owner)

    assert researcher_client.post(f"/api/studies/{study_world.study.pk}/next/").status_code == 403
    assert token_client(study_world.raters[0]).post(f"/api/studies/{study_world.study.pk}/next/").status_code == 200
