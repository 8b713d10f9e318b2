"""The rate page submits to the REST endpoint API clients use, signed in by its session
cookie with the CSRF token (what static/annotator/rater.js sends), so validation lives once."""

import json

import pytest
from django.test import Client

from annotator.models import Rating, Reservation
from tests.annotator.clients import login, rate_page
from tests.builders import all_present, reserve


def page_submit(client: Client, study_clip_id: int, body: dict):
    return client.post(f"/api/study-clips/{study_clip_id}/submit/", json.dumps(body), content_type="application/json")


def test_rate_page_config_points_at_the_api_submit_and_the_next_clip(client, media_world):
    login(client, media_world.raters[0])

    page = rate_page(client, media_world.study)

    config = json.loads(page.text.split('id="rater-config" type="application/json">')[1].split("</script>")[0])
    assert config["submit_url"] == f"/api/study-clips/{config['study_clip_id']}/submit/"
    assert config["next_url"] == f"/rate/{media_world.study.pk}/"


def test_submit_stores_answers_added_labels_and_time(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    shown = list(study_clip.shown_labels.values_list("category_id", flat=True))
    answers = dict(zip(map(str, shown), ["present", "absent", "unsure"], strict=False))
    added = next(c for c in media_world.categories if c.pk not in shown)

    response = page_submit(
        client, study_clip.pk, {"answers": answers, "added": [added.pk], "seconds_spent": 7.5, "skipped": False}
    )

    assert response.status_code == 200, response.content
    assert response.json()["study_clip_id"] == study_clip.pk
    rating = Rating.objects.get(rater=media_world.raters[0], study_clip=study_clip)
    assert rating.seconds_spent == 7.5 and not rating.skipped
    stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
    assert stored == {(int(k), v, False) for k, v in answers.items()} | {(added.pk, "present", True)}
    assert not Reservation.objects.filter(rater=media_world.raters[0]).exists()


def test_skip_stores_a_skipped_rating_and_moves_on(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)

    response = page_submit(client, study_clip.pk, {"skipped": True, "seconds_spent": 1})

    assert response.status_code == 200
    assert Rating.objects.get(rater=media_world.raters[0]).skipped is True
    page = rate_page(client, media_world.study)
    assert Reservation.objects.get(rater=media_world.raters[0]).study_clip_id != study_clip.pk
    assert "1 of 3 done" in page.text


def test_submit_with_an_unanswered_label_is_refused_and_stores_nothing(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    first = study_clip.shown_labels.first()

    response = page_submit(client, study_clip.pk, {"answers": {str(first.category_id): "present"}})

    assert response.status_code == 400
    assert "Answer every shown label" in response.json()["message"]
    assert not Rating.objects.exists()
    assert Reservation.objects.filter(rater=media_world.raters[0], study_clip=study_clip).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("answers", "not an object"), ("answers", {"1": "maybe"}), ("added", [1, "x"]), ("seconds_spent", -3)],
)
def test_malformed_submit_is_a_400_naming_the_field(client, media_world, field, value):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    body = {"answers": all_present(study_clip), field: value}

    response = page_submit(client, study_clip.pk, body)

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not Rating.objects.exists()


def test_submit_for_a_clip_the_rater_does_not_hold_is_refused_as_lapsed(client, media_world):
    study_clip = reserve(media_world, rater=media_world.raters[1])
    login(client, media_world.raters[0])

    response = page_submit(client, study_clip.pk, {"answers": all_present(study_clip)})

    assert response.status_code == 409
    assert response.json()["message"] == "Your reservation for this clip lapsed; ask for the next clip."
    assert not Rating.objects.exists()


def test_submit_needs_the_csrf_token(media_world):
    client = login(Client(enforce_csrf_checks=True), media_world.raters[0])
    study_clip = reserve(media_world)

    response = page_submit(client, study_clip.pk, {"answers": all_present(study_clip)})

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Rating.objects.exists()
