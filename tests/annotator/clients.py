"""Clients for the page and API tests: logged in, or holding a token, and the queue's two
calls (next clip, a POST that reserves; submit) as a rater client makes them."""

from collections.abc import Sequence

from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def client_for(user) -> APIClient:
    """An API client authenticated as `user`, or anonymous for None."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(user) -> APIClient:
    """An API client that sends a fresh token of `user`, as a rater's script would."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def rate_page(client: Client, study):
    """The rate page as the browser reaches it: POST (reserve the next clip), 303 to the GET."""
    response = client.post(f"/rate/{study.pk}/", follow=True)
    assert response.status_code == 200, response.content
    return response


def next_clip(client: APIClient, study) -> dict:
    response = client.post(f"/api/studies/{study.pk}/next/")
    assert response.status_code == 200, response.content
    return response.json()


def submit(client: APIClient, payload: dict, *, seconds_spent: float | None = None, added: Sequence[int] = ()):
    """Answer "present" to every label of a next-clip payload, with the optional fields only
    when given."""
    body: dict = {"answers": {str(label["category_id"]): "present" for label in payload["labels"]}}
    if seconds_spent is not None:
        body["seconds_spent"] = seconds_spent
    if added:
        body["added"] = list(added)
    return client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", body, format="json")
