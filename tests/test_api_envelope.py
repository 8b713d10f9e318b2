"""Every error on /api/ has one body, {"message", "extra"}: application errors, validation
errors, authentication failures, unmatched routes and unexpected server errors alike."""

import pytest
from rest_framework.test import APIClient

from annotator import selectors
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.django_db


def _is_envelope(body: dict) -> bool:
    return set(body) == {"message", "extra"} and isinstance(body["message"], str) and isinstance(body["extra"], dict)


@pytest.fixture
def researcher_client():
    client = APIClient()
    client.force_authenticate(make_researcher())
    return client


def test_validation_error_lists_each_field_under_extra_fields(researcher_client):
    response = researcher_client.post("/api/studies/create/", {"name": ""}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert _is_envelope(body)
    assert {"name", "dataset", "proposal_set", "sample_size"} <= set(body["extra"]["fields"])


def test_application_error_is_the_envelope(researcher_client):
    response = researcher_client.get("/api/studies/987654/")

    assert response.status_code == 404
    assert _is_envelope(response.json())


def test_unauthenticated_request_is_the_envelope():
    response = APIClient().get("/api/studies/")

    assert response.status_code in (401, 403)
    assert _is_envelope(response.json())


def test_wrong_role_is_the_envelope():
    client = APIClient()
    client.force_authenticate(make_rater())

    response = client.get("/api/studies/")

    assert response.status_code == 403
    assert _is_envelope(response.json())
    assert response.json()["message"] == "Only researchers may do this."


def test_unmatched_api_route_answers_json_not_html(researcher_client):
    response = researcher_client.get("/api/no-such-route/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert _is_envelope(response.json())


def test_unexpected_server_error_answers_json_not_html(researcher_client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "studies_for_researcher", broken)

    response = researcher_client.get("/api/studies/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert _is_envelope(body)
    assert "a bug" not in body["message"]  # nothing internal leaks to the client


def test_page_routes_keep_django_error_pages(client):
    client.force_login(make_researcher(username="pages"))  # login() needs request= under django-axes

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
