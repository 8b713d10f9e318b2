"""The researcher's control over HTTP, as the study page's buttons and clients use it: pause,
resume, remove raters; pause, resume, close, reopen the study; standings, qualification
results, retry and admit; the audit trail; and the rater's side of each (qualification API
and page, the queue's refusal of a paused rater)."""

import pytest
from django.test import Client

from annotator.models import GoldLabel, Rating, StudyEvent
from tests.annotator.clients import client_for, login, next_clip
from tests.builders import make_study


def _api(study, path: str = "") -> str:
    return f"/api/studies/{study.pk}/{path}"


def test_pausing_a_rater_over_the_api_stops_their_queue_with_a_clear_message(study_world):
    study, rater = study_world.study, study_world.raters[0]
    owner, rater_client = client_for(study_world.owner), client_for(rater)
    assert next_clip(rater_client, study)  # holds a clip

    response = owner.post(_api(study, f"raters/{rater.pk}/pause/"), {"reason": "check the taxonomy"}, format="json")

    assert response.status_code == 200 and response.json()["state"] == "paused"
    refused = rater_client.post(_api(study, "next/"))
    assert refused.status_code == 409
    assert "paused your work" in refused.json()["message"] and refused.json()["extra"] == {"standing": "paused"}
    assert owner.post(_api(study, f"raters/{rater.pk}/resume/")).json()["state"] == "active"
    assert rater_client.post(_api(study, "next/")).status_code == 200


def test_removing_a_rater_over_the_api_needs_the_ratings_choice(study_world):
    study, rater = study_world.study, study_world.raters[0]
    owner = client_for(study_world.owner)
    missing = owner.post(_api(study, f"raters/{rater.pk}/remove/"), {}, format="json")
    assert missing.status_code == 400 and "exclude_ratings" in missing.json()["extra"]["fields"]
    removed = owner.post(_api(study, f"raters/{rater.pk}/remove/"), {"exclude_ratings": True}, format="json")
    assert removed.status_code == 200
    assert (removed.json()["state"], removed.json()["ratings_excluded"]) == ("removed", True)
    assert client_for(rater).post(_api(study, "next/")).status_code == 404
    standings = {row["username"]: row for row in owner.get(_api(study, "rater-standings/")).json()}
    assert standings[rater.username]["state"] == "removed"


def test_an_unknown_or_huge_rater_id_is_a_404_never_a_500(study_world):
    owner = client_for(study_world.owner)
    assert owner.post(_api(study_world.study, "raters/999999/pause/")).status_code == 404
    assert owner.post(_api(study_world.study, f"raters/{2**70}/pause/")).status_code == 404
    long_reason = {"reason": "x" * 5000}
    rater = study_world.raters[0]
    assert (
        owner.post(_api(study_world.study, f"raters/{rater.pk}/pause/"), long_reason, format="json").status_code == 400
    )


def test_the_study_pauses_resumes_closes_and_reopens_over_the_api(study_world):
    study, owner = study_world.study, client_for(study_world.owner)
    rater_client = client_for(study_world.raters[0])
    assert owner.post(_api(study, "pause/")).json()["status"] == "paused"
    assert rater_client.post(_api(study, "next/")).status_code == 409
    assert owner.post(_api(study, "resume/")).json()["status"] == "active"
    assert owner.post(_api(study, "close/")).json()["status"] == "closed"
    refused = owner.post(_api(study, "pause/"))
    assert refused.status_code == 409 and "closed" in refused.json()["message"]
    assert owner.post(_api(study, "reopen/")).json()["status"] == "active"
    assert rater_client.post(_api(study, "next/")).status_code == 200
    events = owner.get(_api(study, "events/")).json()["results"]
    assert [event["action"] for event in events] == ["study_reopened", "study_closed", "study_resumed", "study_paused"]
    assert all(event["actor"] == study_world.owner.username for event in events)


def test_the_study_page_shows_standings_controls_and_the_audit_trail(study_world):
    study, rater = study_world.study, study_world.raters[0]
    owner = client_for(study_world.owner)
    owner.post(_api(study, f"raters/{rater.pk}/pause/"), {"reason": "spot check"}, format="json")
    page = login(Client(), study_world.owner).get(f"/studies/{study.pk}/").content.decode()
    assert f'data-control-url="/api/studies/{study.pk}/raters/{rater.pk}/resume/"' in page
    assert f'data-control-url="/api/studies/{study.pk}/pause/"' in page
    assert "paused a rater" in page and "spot check" in page


@pytest.fixture
def qualifying(world):
    """A study of six clips with a qualification of two gold clips outside it."""
    sampled = set(make_study(world, sample_size=6).study_clips.values_list("clip_id", flat=True))
    world.study.delete() if getattr(world, "study", None) else None
    for clip in world.clips:
        if clip.pk not in sampled:
            GoldLabel.objects.create(clip=clip, category=clip.clip_labels.get().category, present=True)
    world.study = make_study(world, name="qualified", sample_size=6, qualification_clips=2, gold_feedback=True)
    return world


def test_a_rater_qualifies_over_the_api_then_rates(qualifying):
    study, rater = qualifying.study, qualifying.raters[0]
    client = client_for(rater)
    refused = client.post(_api(study, "next/"))
    assert refused.status_code == 409 and refused.json()["extra"] == {"qualification": "required"}
    for position in range(2):
        state = client.get(_api(study, "qualification/")).json()
        assert state["clip"]["position"] == position and "present" not in str(state["clip"])  # no truth sent
        answers = {str(label["category_id"]): "present" for label in state["clip"]["labels"]}
        outcome = client.post(
            _api(study, "qualification/answer/"), {"position": position, "answers": answers}, format="json"
        ).json()
    assert (outcome["finished"], outcome["passed"], outcome["score"], outcome["feedback"]) == (True, True, 1.0, [])
    assert client.post(_api(study, "next/")).status_code == 200
    assert not Rating.objects.filter(rater=rater).exists()
    results = client_for(qualifying.owner).get(_api(study, "rater-standings/")).json()
    mine = next(row for row in results if row["username"] == rater.username)
    assert (mine["qualification"], mine["correct"], mine["total"]) == ("passed", 2, 2)


def test_a_failed_rater_sees_the_result_page_and_the_researcher_lets_them_retry(qualifying):
    study, rater = qualifying.study, qualifying.raters[0]
    client, owner = client_for(rater), client_for(qualifying.owner)
    for position in range(2):
        state = client.get(_api(study, "qualification/")).json()
        answers = {str(label["category_id"]): "absent" for label in state["clip"]["labels"]}
        outcome = client.post(
            _api(study, "qualification/answer/"), {"position": position, "answers": answers}, format="json"
        ).json()
        assert outcome["feedback"] and outcome["feedback"][0]["truth"] == "present"
    assert outcome["passed"] is False
    # The rate page sends them to the qualification page, which says they did not pass
    page = login(Client(), rater).get(f"/rate/{study.pk}/", follow=True)
    assert page.redirect_chain[-1][0] == f"/rate/{study.pk}/qualify/"
    assert "did not pass" in page.content.decode()
    assert owner.post(_api(study, f"raters/{rater.pk}/qualification-retry/")).json()["qualification"] == ""
    assert client.get(_api(study, "qualification/")).json()["clip"]["position"] == 0
    assert owner.post(_api(study, f"raters/{rater.pk}/qualification-admit/")).json()["qualification"] == "admitted"
    assert client.post(_api(study, "next/")).status_code == 200
    actions = set(StudyEvent.objects.filter(study=study).values_list("action", flat=True))
    assert actions == {"qualification_retry", "qualification_admitted"}


def test_the_qualification_page_shows_the_clip_due_and_its_media_plays(qualifying, media_root):
    study, rater = qualifying.study, qualifying.raters[0]
    page = login(Client(), rater).get(f"/rate/{study.pk}/qualify/").content.decode()
    assert f'src="/media/qualification/{study.pk}/0/"' in page and "clip 1 of 2" in page


def test_bad_qualification_answers_are_4xx(qualifying):
    study, client = qualifying.study, client_for(qualifying.raters[0])
    url = _api(study, "qualification/answer/")
    assert client.post(url, {"position": 0, "answers": {"x": "present"}}, format="json").status_code == 400
    assert client.post(url, {"position": 5, "answers": {}}, format="json").status_code == 404
    assert client.post(url, {"position": -1, "answers": {}}, format="json").status_code == 400
    assert client.post(url, {"position": 1, "answers": {}}, format="json").status_code == 409
    assert client.post(url, "not json", content_type="application/json").status_code == 400
