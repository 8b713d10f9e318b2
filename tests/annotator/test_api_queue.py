"""The rating queue over HTTP: next clip, submit, skip, release, each only for the rater
who holds the clip; what the answers cost in statements and that they match their schema."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.apis import RatingSubmitApi, StudyClipNextApi
from annotator.models import Clip, Judgment, Rating, Reservation
from tests.annotator.clients import client_for, next_clip, submit, token_client
from tests.builders import build_world, make_study
from tests.factories import make_rater


def test_rater_lists_their_studies_and_works_through_the_queue(study_world):
    rater = study_world.raters[0]
    client = client_for(rater)

    studies = client.get("/api/me/studies/").json()
    seen = []
    while (response := client.post(f"/api/studies/{study_world.study.pk}/next/")).status_code == 200:
        payload = response.json()
        seen.append(payload["study_clip_id"])
        assert submit(client, payload).status_code == 200
    progress = client.get(f"/api/studies/{study_world.study.pk}/my-progress/").json()

    assert [study["id"] for study in studies["results"]] == [study_world.study.pk]
    assert response.status_code == 204
    assert len(seen) == len(set(seen)) == 4
    assert progress == {"done": 4, "skipped": 0, "available": 0, "total": 4}


def test_next_clip_payload_hides_decoys_and_reference_labels(study_world):
    payload = next_clip(client_for(study_world.raters[0]), study_world.study)

    assert payload["media_url"] == f"/media/clips/{payload['study_clip_id']}/"
    assert all(set(label) == {"category_id", "name", "position"} for label in payload["labels"])
    assert "decoy" not in str(payload) and "gold" not in str(payload)


def test_submit_twice_returns_the_same_rating(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)

    first = submit(client, payload, seconds_spent=2.5)
    second = submit(client, payload, seconds_spent=99)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["seconds_spent"] == 2.5
    assert Rating.objects.count() == 1
    assert Judgment.objects.count() == len(payload["labels"])


def test_submit_with_bad_answers_is_refused_and_nothing_stored(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)
    url = f"/api/study-clips/{payload['study_clip_id']}/submit/"

    wrong_choice = client.post(url, {"answers": {str(payload["labels"][0]["category_id"]): "yes"}}, format="json")
    missing = client.post(url, {"answers": {}}, format="json")
    foreign = submit(client, payload, added=[10**9])

    assert wrong_choice.status_code == missing.status_code == foreign.status_code == 400
    assert "Answer every shown label" in missing.json()["message"]
    assert not Rating.objects.exists()


def test_skip_stores_a_skipped_rating(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", {"skipped": True}, format="json")

    assert response.status_code == 200
    assert response.json()["skipped"] is True and response.json()["judgments"] == []


def test_release_gives_the_clip_back(study_world):
    client = client_for(study_world.raters[0])
    payload = next_clip(client, study_world.study)

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/release/")

    assert response.status_code == 204
    assert client.get(f"/api/study-clips/{payload['study_clip_id']}/").status_code == 404


def test_a_rater_cannot_touch_another_raters_clip_or_rating(study_world):
    holder, other, _ = study_world.raters
    holder_client, other_client = client_for(holder), client_for(other)
    payload = next_clip(holder_client, study_world.study)
    url = f"/api/study-clips/{payload['study_clip_id']}/"

    assert other_client.get(url).status_code == 404
    # Another rater of the study holds no reservation for it: the queue's one answer for that.
    assert submit(other_client, payload).status_code == 409
    assert other_client.post(f"{url}release/").status_code == 204  # gives back nothing of the holder's
    assert Reservation.objects.filter(rater=holder, study_clip_id=payload["study_clip_id"]).exists()
    assert not Rating.objects.filter(rater=other).exists()
    assert submit(holder_client, payload).status_code == 200
    assert other_client.get(url).status_code == 404  # rated by the holder: still not the other's
    assert holder_client.get(url).status_code == 200


def test_a_rater_outside_the_study_gets_404(study_world):
    outsider = client_for(make_rater())

    assert outsider.post(f"/api/studies/{study_world.study.pk}/next/").status_code == 404
    assert outsider.get(f"/api/studies/{study_world.study.pk}/my-progress/").status_code == 404
    assert outsider.post("/api/studies/999999/next/").status_code == 404


def test_researchers_without_the_rater_role_cannot_use_the_queue(study_world):
    client = client_for(study_world.owner)

    assert client.post(f"/api/studies/{study_world.study.pk}/next/").status_code == 403


def test_api_next_and_submit_query_counts_do_not_grow_with_the_study(db):
    """Statements per request with token authentication, for a small and a larger study half
    rated: token + user + roles, the queue's own statements, the payload."""
    counts = []
    for clips in (2, 40):
        world = build_world(clips_per_class=(clips,), raters=2)
        study = make_study(world, raters_per_clip=2)
        other = token_client(world.raters[1])
        for _ in range(clips // 2):
            assert submit(other, next_clip(other, study)).status_code == 200
        client = token_client(world.raters[0])
        with CaptureQueriesContext(connection) as next_queries:
            payload = next_clip(client, study)
        with CaptureQueriesContext(connection) as submit_queries:
            assert submit(client, payload).status_code == 200
        counts.append((len(next_queries), len(submit_queries)))

    assert counts[0] == counts[1]
    next_count, submit_count = counts[0]
    # next: auth, study, queue state, candidates, lock, claim, labels (+ 2 savepoints in tests)
    assert next_count <= 9, next_count
    # submit: auth, access, lock, load, shown, rating, judgments, reservation, count, answer (+ 2)
    assert submit_count <= 12, submit_count


def test_next_and_submit_answers_match_their_documented_schema(db):
    world = build_world(clips_per_class=(2,), raters=1)
    study = make_study(world, raters_per_clip=1, show_evidence=True)
    Clip.objects.filter(pk__in=[clip.pk for clip in world.clips]).update(has_audio=True, duration_seconds=10.0)
    client = token_client(world.raters[0])

    payload = next_clip(client, study)
    rating = submit(client, payload, seconds_spent=1.5).json()

    next_schema = StudyClipNextApi.OutputSerializer(data=payload)
    assert next_schema.is_valid(), next_schema.errors
    assert StudyClipNextApi.OutputSerializer(next_schema.validated_data).data == payload
    assert payload["has_audio"] is True and payload["duration_seconds"] == 10.0
    submit_schema = RatingSubmitApi.OutputSerializer(data=rating)
    assert submit_schema.is_valid(), submit_schema.errors
    assert set(rating) == set(RatingSubmitApi.OutputSerializer().fields)
    assert rating["judgments"] and all(judgment["added_by_rater"] is False for judgment in rating["judgments"])
