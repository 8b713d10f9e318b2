"""The annotator REST API: authentication, roles, who may read what, the queue over HTTP."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.apis import RatingSubmitApi, StudyClipNextApi
from annotator.models import Clip, Judgment, Rating, Study
from tests.annotator.test_services import build_world, make_study
from tests.factories import ProposalSetFactory, UserFactory, make_rater, make_researcher

PASSWORD = "pw-secret-123"  # tests.factories.UserFactory's password


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    world = build_world(clips_per_class=(2, 2), raters=3)
    world.study = make_study(world, raters_per_clip=2, decoys_per_clip=1)
    return world


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def next_clip(client, study) -> dict:
    response = client.get(f"/api/studies/{study.pk}/next/")
    assert response.status_code == 200, response.content
    return response.json()


def submit(client, payload, **extra):
    body = {"answers": {str(label["category_id"]): "present" for label in payload["labels"]}} | extra
    return client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", body, format="json")


# ---------------------------------------------------------------- authentication


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


def test_token_login_and_token_authentication(world):
    rater = world.raters[0]

    response = APIClient().post("/api/auth/token/", {"username": rater.username, "password": PASSWORD})
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/me/")

    assert response.status_code == 200
    assert me.status_code == 200
    assert me.json() == {"id": rater.pk, "username": rater.username, "roles": ["rater"]}


def test_token_login_with_a_wrong_password_is_refused(world):
    response = APIClient().post("/api/auth/token/", {"username": world.raters[0].username, "password": "nope"})

    assert response.status_code == 400
    assert "credentials" in response.json()["detail"]


def test_me_lists_the_researcher_role(world):
    assert client_for(world.owner).get("/api/me/").json()["roles"] == ["researcher"]


# ---------------------------------------------------------------- researchers


def test_researcher_reads_datasets_clips_and_proposal_sets(world):
    client = client_for(world.owner)

    datasets = client.get("/api/datasets/").json()
    detail = client.get(f"/api/datasets/{world.dataset.pk}/").json()
    clips = client.get("/api/clips/", {"dataset": world.dataset.pk, "label": "cat1"}).json()
    clip = client.get(f"/api/clips/{world.clips[0].pk}/").json()
    sets = client.get("/api/proposal-sets/", {"dataset": world.dataset.pk}).json()

    assert datasets["count"] == 1 and datasets["results"][0]["clip_count"] == 4
    assert detail["clips_by_split"] == {"test": 4} and detail["clips_by_media_status"] == {"ok": 4}
    assert clips["count"] == 2
    assert clip["labels"] == ["cat0"]
    assert sets["results"][0]["proposal_count"] == 8


def test_clip_list_rejects_a_bad_filter(world):
    response = client_for(world.owner).get("/api/clips/", {"media_status": "bogus"})

    assert response.status_code == 400


def test_raters_cannot_read_the_catalogue_or_studies(world):
    client = client_for(world.raters[0])

    for url in (
        "/api/datasets/",
        "/api/clips/",
        "/api/proposal-sets/",
        "/api/studies/",
        f"/api/studies/{world.study.pk}/",
        f"/api/studies/{world.study.pk}/progress/",
        f"/api/studies/{world.study.pk}/judgments/",
    ):
        assert client.get(url).status_code == 403, url


def test_researcher_creates_a_study(world):
    body = {
        "name": "API study",
        "dataset": world.dataset.pk,
        "proposal_set": world.proposal_set.pk,
        "raters": [rater.username for rater in world.raters],
        "sample_size": 3,
        "seed": 1,
        "raters_per_clip": 2,
        "gold_rate": 0.25,
    }

    response = client_for(world.owner).post("/api/studies/create/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["clip_count"] == 4 and data["owner"] == world.owner.username
    assert sorted(data["raters"]) == sorted(rater.username for rater in world.raters)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"sample_size": 50}, 400),
        ({"sample_size": 0}, 400),
        ({"raters": ["nobody"]}, 400),
        ({"gold_rate": 2}, 400),
        ({"proposal_set": "other dataset"}, 400),
    ],
)
def test_study_create_reports_bad_input(world, change, status):
    if change.get("proposal_set") == "other dataset":
        change = {"proposal_set": ProposalSetFactory().pk}
    body = {"name": "x", "dataset": world.dataset.pk, "proposal_set": world.proposal_set.pk, "sample_size": 2}

    response = client_for(world.owner).post("/api/studies/create/", body | change, format="json")

    assert response.status_code == status
    assert Study.objects.count() == 1


def test_researchers_see_only_their_own_studies_admins_all(world):
    stranger = make_researcher()
    admin = UserFactory(role="admin")

    assert client_for(world.owner).get("/api/studies/").json()["count"] == 1
    assert client_for(stranger).get("/api/studies/").json()["count"] == 0
    assert client_for(stranger).get(f"/api/studies/{world.study.pk}/").status_code == 404
    assert client_for(stranger).get(f"/api/studies/{world.study.pk}/progress/").status_code == 404
    assert client_for(admin).get(f"/api/studies/{world.study.pk}/progress/").status_code == 200


def test_study_progress_and_judgments_for_the_owner(world):
    rater = world.raters[0]
    submit(client_for(rater), next_clip(client_for(rater), world.study), seconds_spent=3)
    client = client_for(world.owner)

    progress = client.get(f"/api/studies/{world.study.pk}/progress/").json()
    judgments = client.get(f"/api/studies/{world.study.pk}/judgments/").json()

    assert progress["totals"]["ratings_completed"] == 1
    assert {row["username"]: row["done"] for row in progress["raters"]}[rater.username] == 1
    assert judgments["count"] == Judgment.objects.count() == 3
    assert {row["is_decoy"] for row in judgments["results"]} == {True, False}


def test_owner_closes_a_study_and_adds_raters(world):
    client = client_for(world.owner)
    newcomer = make_rater()

    added = client.post(f"/api/studies/{world.study.pk}/raters/", {"raters": [newcomer.username]}, format="json")
    closed = client.post(f"/api/studies/{world.study.pk}/close/")

    assert added.status_code == 200 and newcomer.username in added.json()["raters"]
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client_for(newcomer).get(f"/api/studies/{world.study.pk}/next/").status_code == 409


# ---------------------------------------------------------------- raters


def test_rater_lists_their_studies_and_works_through_the_queue(world):
    rater = world.raters[0]
    client = client_for(rater)

    studies = client.get("/api/me/studies/").json()
    seen = []
    while (response := client.get(f"/api/studies/{world.study.pk}/next/")).status_code == 200:
        payload = response.json()
        seen.append(payload["study_clip_id"])
        assert submit(client, payload).status_code == 200
    progress = client.get(f"/api/studies/{world.study.pk}/my-progress/").json()

    assert [study["id"] for study in studies["results"]] == [world.study.pk]
    assert response.status_code == 204
    assert len(seen) == len(set(seen)) == 4
    assert progress == {"done": 4, "skipped": 0, "available": 0, "total": 4}


def test_next_clip_payload_hides_decoys_and_reference_labels(world):
    payload = next_clip(client_for(world.raters[0]), world.study)

    assert payload["media_url"] == f"/media/clips/{payload['study_clip_id']}/"
    assert all(set(label) == {"category_id", "name", "position"} for label in payload["labels"])
    assert "decoy" not in str(payload) and "gold" not in str(payload)


def test_submit_twice_returns_the_same_rating(world):
    client = client_for(world.raters[0])
    payload = next_clip(client, world.study)

    first = submit(client, payload, seconds_spent=2.5)
    second = submit(client, payload, seconds_spent=99)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["seconds_spent"] == 2.5
    assert Rating.objects.count() == 1
    assert Judgment.objects.count() == len(payload["labels"])


def test_submit_with_bad_answers_is_refused_and_nothing_stored(world):
    client = client_for(world.raters[0])
    payload = next_clip(client, world.study)
    url = f"/api/study-clips/{payload['study_clip_id']}/submit/"

    wrong_choice = client.post(url, {"answers": {str(payload["labels"][0]["category_id"]): "yes"}}, format="json")
    missing = client.post(url, {"answers": {}}, format="json")
    foreign = submit(client, payload, added=[10**9])

    assert wrong_choice.status_code == missing.status_code == foreign.status_code == 400
    assert "Answer every shown label" in missing.json()["detail"]
    assert not Rating.objects.exists()


def test_skip_stores_a_skipped_rating(world):
    client = client_for(world.raters[0])
    payload = next_clip(client, world.study)

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", {"skipped": True}, format="json")

    assert response.status_code == 200
    assert response.json()["skipped"] is True and response.json()["judgments"] == []


def test_release_gives_the_clip_back(world):
    client = client_for(world.raters[0])
    payload = next_clip(client, world.study)

    response = client.post(f"/api/study-clips/{payload['study_clip_id']}/release/")

    assert response.status_code == 204
    assert client.get(f"/api/study-clips/{payload['study_clip_id']}/").status_code == 404


def test_a_rater_cannot_touch_another_raters_clip_or_rating(world):
    holder, other, _ = world.raters
    holder_client, other_client = client_for(holder), client_for(other)
    payload = next_clip(holder_client, world.study)
    url = f"/api/study-clips/{payload['study_clip_id']}/"

    assert other_client.get(url).status_code == 404
    assert submit(other_client, payload).status_code == 404
    assert other_client.post(f"{url}release/").status_code == 404
    assert submit(holder_client, payload).status_code == 200
    assert other_client.get(url).status_code == 404  # rated by the holder: still not the other's
    assert holder_client.get(url).status_code == 200


def test_a_rater_outside_the_study_gets_404(world):
    outsider = client_for(make_rater())

    assert outsider.get(f"/api/studies/{world.study.pk}/next/").status_code == 404
    assert outsider.get(f"/api/studies/{world.study.pk}/my-progress/").status_code == 404
    assert outsider.get("/api/studies/999999/next/").status_code == 404


def test_researchers_without_the_rater_role_cannot_use_the_queue(world):
    client = client_for(world.owner)

    assert client.get(f"/api/studies/{world.study.pk}/next/").status_code == 403


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


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


def test_queue_token_authentication_refuses_bad_and_inactive_tokens(world):
    rater = world.raters[0]
    client = token_client(rater)
    rater.is_active = False
    rater.save()
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert client.get(f"/api/studies/{world.study.pk}/next/").status_code == 401
    assert stranger.get(f"/api/studies/{world.study.pk}/next/").status_code == 401
    assert stranger.post("/api/study-clips/1/submit/", {}, format="json").status_code == 401


def test_queue_token_authentication_reads_roles_with_the_user(world):
    researcher_client = token_client(world.owner)

    assert researcher_client.get(f"/api/studies/{world.study.pk}/next/").status_code == 403
    assert token_client(world.raters[0]).get(f"/api/studies/{world.study.pk}/next/").status_code == 200


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


# ---------------------------------------------------------------- schema


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
