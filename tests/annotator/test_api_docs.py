"""The OpenAPI schema and its docs page, as a client fetches them."""

from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient


def test_openapi_schema_is_valid(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/studies/{study_id}/next/" in schema["paths"]
    assert "/api/study-clips/{study_clip_id}/submit/" in schema["paths"]
    validate_schema(schema)


def test_api_docs_page_renders(db):
    assert APIClient().get("/api/docs/").status_code == 200
