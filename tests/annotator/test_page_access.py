"""Who may open which page: anonymous users log in first, raters and researchers keep to
their own pages, a rater outside a study finds nothing."""

import pytest
from django.urls import reverse

from tests.annotator.clients import login
from tests.factories import make_rater


@pytest.mark.parametrize(
    "url",
    [
        "/rate/",
        "/rate/1/",
        "/studies/",
        "/studies/new/",
        "/studies/1/",
        "/media/clips/1/",
        "/media/clips/1/spectrogram.json",
    ],
)
def test_anonymous_user_is_sent_to_the_login_page(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rater_cannot_open_researcher_pages(client, media_world):
    login(client, media_world.raters[0])

    for url in ("/studies/", "/studies/new/", f"/studies/{media_world.study.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/studies/new/", {"name": "x"}).status_code == 403


def test_researcher_without_rater_role_cannot_open_rater_pages(client, media_world):
    login(client, media_world.owner)

    assert client.get("/rate/").status_code == 403
    assert client.get(f"/rate/{media_world.study.pk}/").status_code == 403


def test_rater_outside_a_study_gets_404_for_its_pages(client, media_world):
    login(client, make_rater())

    assert client.get(f"/rate/{media_world.study.pk}/").status_code == 404
    assert client.get(f"/rate/{media_world.study.pk}/categories", {"q": "dog"}).status_code == 404
    study_clip = media_world.study.study_clips.first()
    assert (
        client.post(f"/api/study-clips/{study_clip.pk}/submit/", {}, content_type="application/json").status_code == 404
    )
