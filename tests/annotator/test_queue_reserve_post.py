"""Reserving is a POST (issue 9, point 3): a plain GET of the rate page or of the API's
`next` changes nothing, so a cross-site <img> cannot tie up the queue."""

from django.test import Client

from annotator import services
from annotator.models import Reservation
from tests.annotator.clients import client_for, login
from tests.builders import all_present, reserve


def test_get_of_the_rate_page_reserves_nothing_and_offers_a_csrf_protected_post(client, media_world):
    login(client, media_world.raters[0])

    response = client.get(f"/rate/{media_world.study.pk}/")

    assert response.status_code == 200
    assert not Reservation.objects.exists()
    assert f'<form method="post" action="/rate/{media_world.study.pk}/" id="rate-start">' in response.text
    assert "csrfmiddlewaretoken" in response.text
    assert '<button type="submit" autofocus>' in response.text
    assert 'id="rater-config"' not in response.text


def test_get_of_the_api_next_is_405_and_reserves_nothing(media_world):
    response = client_for(media_world.raters[0]).get(f"/api/studies/{media_world.study.pk}/next/")

    assert response.status_code == 405
    assert set(response.json()) == {"message", "extra"}
    assert not Reservation.objects.exists()


def test_post_of_the_rate_page_reserves_and_answers_303_to_the_page(client, media_world):
    login(client, media_world.raters[0])

    response = client.post(f"/rate/{media_world.study.pk}/")
    page = client.get(response["Location"])

    assert response.status_code == 303
    assert response["Location"] == f"/rate/{media_world.study.pk}/"
    held = Reservation.objects.get(rater=media_world.raters[0])
    assert f'"study_clip_id": {held.study_clip_id}' in page.text
    assert f'<form id="next-form" method="post" action="/rate/{media_world.study.pk}/" hidden>' in page.text


def test_post_of_the_rate_page_needs_the_csrf_token(media_world):
    client = login(Client(enforce_csrf_checks=True), media_world.raters[0])

    response = client.post(f"/rate/{media_world.study.pk}/")

    assert response.status_code == 403
    assert not Reservation.objects.exists()


def test_the_api_next_with_a_session_needs_the_csrf_token(media_world):
    client = login(Client(enforce_csrf_checks=True), media_world.raters[0])

    response = client.post(f"/api/studies/{media_world.study.pk}/next/")

    assert response.status_code == 403
    assert not Reservation.objects.exists()


def test_a_lapsed_reservation_is_not_shown_by_the_page(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    Reservation.objects.update(expires_at=study_clip.study.created_at)

    response = client.get(f"/rate/{media_world.study.pk}/")

    assert 'id="rate-start"' in response.text and 'id="rater-config"' not in response.text


def test_post_with_nothing_left_renders_the_done_page(client, media_world):
    rater = media_world.raters[0]
    login(client, rater)
    for _ in range(3):
        study_clip = reserve(media_world)
        services.rating_submit(study_clip=study_clip, rater=rater, answers=all_present(study_clip))

    response = client.post(f"/rate/{media_world.study.pk}/")

    assert response.status_code == 200
    assert "Nothing left to rate" in response.text


def test_post_on_a_closed_study_sends_the_rater_home_with_the_reason(client, media_world):
    login(client, media_world.raters[0])
    services.study_close(study=media_world.study)

    response = client.post(f"/rate/{media_world.study.pk}/", follow=True)

    assert response.redirect_chain == [("/rate/", 303)]
    assert f"Study &#x27;{media_world.study.name}&#x27; is closed." in response.text
    assert not Reservation.objects.exists()


def test_rater_home_starts_a_study_with_a_post_form(client, media_world):
    login(client, media_world.raters[0])

    response = client.get("/rate/")

    assert f'<form method="post" action="/rate/{media_world.study.pk}/">' in response.text
    assert not Reservation.objects.exists()
