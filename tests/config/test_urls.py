"""config/urls.py: the pages need a login; the API docs page works without internet."""

import re

import pytest

# src/href attributes: the page's own files, which must all come from this site.
REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.fixture
def logged_in_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="reader", password="unused-password"))
    return client


@pytest.mark.django_db
def test_api_docs_page_names_no_other_host(logged_in_client):
    response = logged_in_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(?:https?:)?//[\w.-]+\.\w", html), "the page loads something from another host"
    assert "swagger-ui-bundle.js" in html


@pytest.mark.django_db
def test_api_docs_page_assets_are_served_by_the_site(logged_in_client):
    # Given the files the docs page references (Swagger UI's from drf-spectacular-sidecar)
    html = logged_in_client.get("/api/docs/").content.decode()
    assets = [url for url in REFERENCE.findall(html) if url.startswith("/static/")]
    assert len(assets) >= 3  # the stylesheet, the two scripts, the icon

    # Then each one is served here, through WhiteNoise
    for url in assets:
        response = logged_in_client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content), url
