"""The revision API: a rater's history, one of their ratings, its revision; the versions of a
rating for the study's owner. A rater reaches only their own ratings (others: 404), and bad
input is a clean 4xx in the one envelope."""

import json

import pytest

from annotator import services
from annotator.models import Judgment, Rating, RatingVersion, Study
from tests.annotator.clients import client_for, login, rate_page, token_client
from tests.builders import make_study, rate
from tests.factories import make_researcher


@pytest.fixture
def rated(world):
    """A study of the world in which the first rater rated two clips (all present)."""
    study = make_study(world, raters_per_clip=2, decoys_per_clip=1)
    rater = world.raters[0]
    ratings = [rate(services.clip_next_for_rater(study=study, rater=rater), rater) for _ in range(2)]
    return study, ratings


def _labels(rating: Rating) -> list[int]:
    return list(rating.judgments.filter(added_by_rater=False).order_by("pk").values_list("category_id", flat=True))


def _revise(client, rating: Rating, answers: dict, **extra):
    body = {"answers": {str(k): v for k, v in answers.items()}, **extra}
    return client.post(f"/api/ratings/{rating.pk}/revise/", body, format="json")


def test_history_lists_the_raters_own_last_ratings_newest_first(world, rated):
    study, (first, second) = rated

    response = token_client(world.raters[0]).get(f"/api/studies/{study.pk}/history/")

    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[1]["labels"][0] == {
        "category_id": _labels(first)[0],
        "name": Judgment.objects.filter(rating=first).order_by("pk").first().category.name,
        "answer": "present",
        "modality": "",
        "added_by_rater": False,
    }
    assert rows[1]["version"] == 1 and rows[1]["revisable"] is True and rows[1]["refusal"] == ""
    assert client_for(world.raters[1]).get(f"/api/studies/{study.pk}/history/").json() == []


def test_history_of_a_study_the_rater_does_not_rate_is_not_found(world, rated):
    study, _ = rated
    outsider = make_study(world, name="other", raters=world.raters[1:])

    assert client_for(world.raters[0]).get(f"/api/studies/{outsider.pk}/history/").status_code == 404
    assert client_for(world.raters[0]).get("/api/studies/999999999/history/").status_code == 404
    assert client_for(world.owner).get(f"/api/studies/{study.pk}/history/").status_code == 403


def test_rating_detail_gives_the_clip_and_the_raters_answers(world, rated):
    _, (first, _) = rated

    response = client_for(world.raters[0]).get(f"/api/ratings/{first.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == first.pk and data["study_clip_id"] == first.study_clip_id
    assert data["media_url"] == f"/media/clips/{first.study_clip_id}/"
    assert [label["category_id"] for label in data["labels"]] == sorted(
        _labels(first), key=lambda pk: first.study_clip.shown_labels.get(category_id=pk).position
    )
    assert {label["answer"] for label in data["labels"]} == {"present"}
    assert [label["position"] for label in data["labels"]] == list(range(len(data["labels"])))
    assert data["added"] == [] and data["version"] == 1 and data["revisable"] is True
    assert not {"is_decoy", "source", "clip_id", "original_labels"} & (set(data) | set(data["labels"][0]))


def test_another_raters_rating_is_not_found_and_cannot_be_revised(world, rated):
    _, (first, _) = rated
    other = client_for(world.raters[1])

    assert other.get(f"/api/ratings/{first.pk}/").status_code == 404
    response = _revise(other, first, dict.fromkeys(_labels(first), "absent"))

    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}
    assert Rating.objects.get(pk=first.pk).version == 1 and not RatingVersion.objects.exists()
    assert _revise(client_for(world.owner), first, {}).status_code == 403


def test_revise_stores_a_new_version_and_answers_the_revised_rating(world, rated):
    _, (first, _) = rated
    labels = _labels(first)
    answers = {pk: "absent" if pk == labels[0] else "present" for pk in labels}

    response = _revise(token_client(world.raters[0]), first, answers, seconds_spent=1.5, version=1)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == 2 and data["revised_at"] and data["feedback"] == []
    assert {label["category_id"]: label["answer"] for label in data["labels"]} == answers
    assert dict(Judgment.objects.filter(rating=first).values_list("category_id", "answer")) == answers
    assert RatingVersion.objects.get(rating=first).version == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "answers"),
        ({"answers": "present"}, "answers"),
        ({"answers": {"1": "maybe"}}, "answers"),
        ({"answers": {}, "modalities": {"1": "X"}}, "modalities"),
        ({"answers": {}, "seconds_spent": -1}, "seconds_spent"),
        ({"answers": {}, "seconds_spent": 10**9}, "seconds_spent"),
        ({"answers": {}, "version": 0}, "version"),
        ({"answers": {str(i): "present" for i in range(services.MAX_ANSWERS + 1)}}, "answers"),
    ],
)
def test_revise_with_malformed_input_is_400_on_its_field(world, rated, body, field):
    _, (first, _) = rated

    response = client_for(world.raters[0]).post(f"/api/ratings/{first.pk}/revise/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_revise_with_answers_that_do_not_fit_the_rating_is_400_with_the_reason(world, rated):
    _, (first, _) = rated
    shown = set(first.study_clip.shown_labels.values_list("category_id", flat=True))
    other = next(c.pk for c in world.categories if c.pk not in shown)

    response = _revise(
        client_for(world.raters[0]), first, {**dict.fromkeys(_labels(first), "present"), other: "absent"}
    )

    assert response.status_code == 400
    assert "cannot add labels" in response.json()["message"]
    assert response.json()["extra"] == {"category_id": str(other)}


def test_revise_in_a_closed_study_is_409_with_the_rule(world, rated):
    study, (first, _) = rated
    Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)

    response = _revise(client_for(world.raters[0]), first, dict.fromkeys(_labels(first), "absent"))

    assert response.status_code == 409
    assert response.json()["extra"] == {"reason": "study_closed"}


def test_the_study_owner_sees_a_ratings_versions(world, rated):
    study, (first, _) = rated
    labels = _labels(first)
    _revise(client_for(world.raters[0]), first, dict.fromkeys(labels, "absent"))

    response = client_for(world.owner).get(f"/api/studies/{study.pk}/ratings/{first.pk}/versions/")

    assert response.status_code == 200
    data = response.json()
    assert (data["rating_id"], data["version"], data["rater"]) == (first.pk, 2, world.raters[0].username)
    assert [(v["version"], v["current"]) for v in data["versions"]] == [(1, False), (2, True)]
    assert [a["answer"] for a in data["versions"][0]["answers"]] == ["present"] * len(labels)
    assert [a["answer"] for a in data["versions"][1]["answers"]] == ["absent"] * len(labels)
    assert data["versions"][0]["replaced_at"] and data["versions"][1]["replaced_at"] is None
    assert all(a["name"] for v in data["versions"] for a in v["answers"])


def test_a_ratings_versions_are_for_the_study_owner_only(world, rated):
    study, (first, _) = rated
    other_study = make_study(world, name="another")
    path = f"/api/studies/{study.pk}/ratings/{first.pk}/versions/"

    assert client_for(make_researcher()).get(path).status_code == 404
    assert client_for(world.raters[0]).get(path).status_code == 403
    assert client_for(world.owner).get(f"/api/studies/{other_study.pk}/ratings/{first.pk}/versions/").status_code == 404


def test_the_rate_page_names_the_revision_endpoints(world, client):
    study = make_study(world, raters_per_clip=2)
    page = rate_page(login(client, world.raters[0]), study).content.decode()

    config = json.loads(page.split('id="rater-config" type="application/json">')[1].split("</script>")[0])
    assert config["history_url"] == f"/api/studies/{study.pk}/history/"
    assert config["rating_url_pattern"] == "/api/ratings/{id}/"
    assert config["revise_url_pattern"] == "/api/ratings/{id}/revise/"
    assert config["gold_feedback"] is False
    assert 'id="history-panel"' in page and 'id="feedback-panel"' in page
