"""The study API for researchers: create, list, progress, judgments, close, add raters."""

import pytest

from annotator.models import Judgment, Study
from tests.annotator.clients import client_for, next_clip, submit
from tests.factories import ProposalSetFactory, UserFactory, make_rater, make_researcher


def test_researcher_creates_a_study(study_world):
    body = {
        "name": "API study",
        "dataset": study_world.dataset.pk,
        "proposal_set": study_world.proposal_set.pk,
        "raters": [rater.username for rater in study_world.raters],
        "sample_size": 3,
        "seed": 1,
        "raters_per_clip": 2,
        "gold_rate": 0.25,
    }

    response = client_for(study_world.owner).post("/api/studies/create/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["clip_count"] == 4 and data["owner"] == study_world.owner.username
    assert sorted(data["raters"]) == sorted(rater.username for rater in study_world.raters)


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
def test_study_create_reports_bad_input(study_world, change, status):
    if change.get("proposal_set") == "other dataset":
        change = {"proposal_set": ProposalSetFactory().pk}
    body = {
        "name": "x",
        "dataset": study_world.dataset.pk,
        "proposal_set": study_world.proposal_set.pk,
        "sample_size": 2,
    }

    response = client_for(study_world.owner).post("/api/studies/create/", body | change, format="json")

    assert response.status_code == status
    assert Study.objects.count() == 1


def test_researchers_see_only_their_own_studies_admins_all(study_world):
    stranger = make_researcher()
    admin = UserFactory(role="admin")

    assert client_for(study_world.owner).get("/api/studies/").json()["count"] == 1
    assert client_for(stranger).get("/api/studies/").json()["count"] == 0
    assert client_for(stranger).get(f"/api/studies/{study_world.study.pk}/").status_code == 404
    assert client_for(stranger).get(f"/api/studies/{study_world.study.pk}/progress/").status_code == 404
    assert client_for(admin).get(f"/api/studies/{study_world.study.pk}/progress/").status_code == 200


def test_study_progress_and_judgments_for_the_owner(study_world):
    rater = study_world.raters[0]
    submit(client_for(rater), next_clip(client_for(rater), study_world.study), seconds_spent=3)
    client = client_for(study_world.owner)

    progress = client.get(f"/api/studies/{study_world.study.pk}/progress/").json()
    judgments = client.get(f"/api/studies/{study_world.study.pk}/judgments/").json()

    assert progress["totals"]["ratings_completed"] == 1
    assert {row["username"]: row["done"] for row in progress["raters"]}[rater.username] == 1
    assert judgments["count"] == Judgment.objects.count() == 3
    assert {row["is_decoy"] for row in judgments["results"]} == {True, False}


def test_owner_closes_a_study_and_adds_raters(study_world):
    client = client_for(study_world.owner)
    newcomer = make_rater()

    added = client.post(f"/api/studies/{study_world.study.pk}/raters/", {"raters": [newcomer.username]}, format="json")
    closed = client.post(f"/api/studies/{study_world.study.pk}/close/")

    assert added.status_code == 200 and newcomer.username in added.json()["raters"]
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client_for(newcomer).post(f"/api/studies/{study_world.study.pk}/next/").status_code == 409
