"""What a submit refuses before it looks at the answers: a closed study (409 closed, like
`next`: issue 9, point 16) and more answers or added labels than a rating can have (400:
point 8)."""

import pytest

from annotator import services
from annotator.models import Rating
from config.errors import ApplicationError
from tests.annotator.clients import client_for, next_clip, submit


def test_submit_to_a_closed_study_is_409_closed(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    services.study_close(study=study_world.study)

    response = submit(client, payload)
    skipped = client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", {"skipped": True}, format="json")

    assert response.status_code == skipped.status_code == 409
    assert response.json()["message"] == f"Study '{study_world.study.name}' is closed."
    assert not Rating.objects.exists()


def test_a_rating_stored_before_the_study_closed_is_still_returned(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    first = submit(client, payload)
    services.study_close(study=study_world.study)

    again = submit(client, payload)

    assert first.status_code == again.status_code == 200 and first.json() == again.json()


def test_release_on_a_closed_study_is_a_no_op(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    services.study_close(study=study_world.study)

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/release/")

    assert response.status_code == 204


def test_more_answer_keys_than_the_cap_are_refused_without_validating_each(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    answers = {str(key): "not an answer" for key in range(5 * services.MAX_ANSWERS)}

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", {"answers": answers}, format="json")

    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"answers": [f"At most {services.MAX_ANSWERS} answers."]}
    assert not Rating.objects.exists()


def test_more_added_labels_than_the_cap_are_refused(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)

    response = submit(client, payload, added=range(1, services.MAX_ADDED + 2))

    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"added": [f"At most {services.MAX_ADDED} items."]}
    assert not Rating.objects.exists()


def test_answers_and_added_labels_up_to_the_caps_get_past_the_serializer(study_world):
    """At the caps the service decides (here: labels that were not shown), not the cap."""
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    answers = {str(10**6 + key): "present" for key in range(services.MAX_ANSWERS)}

    many = client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", {"answers": answers}, format="json")

    assert many.status_code == 400
    assert "was not shown" in many.json()["message"]


def test_the_service_refuses_too_many_added_labels_too(study_world):
    rater = study_world.raters[0]
    study_clip = services.clip_next_for_rater(study=study_world.study, rater=rater)
    answers = {pk: "present" for pk in study_clip.shown_labels.values_list("category_id", flat=True)}

    with pytest.raises(ApplicationError, match=f"Add at most {services.MAX_ADDED} labels"):
        services.rating_submit(
            study_clip=study_clip, rater=rater, answers=answers, added_category_ids=range(1, services.MAX_ADDED + 2)
        )

    assert not Rating.objects.exists()
