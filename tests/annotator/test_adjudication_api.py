"""Adjudication through the API and the page: the contested list, deciding and clearing;
only the study's owner (or an admin) may; bad input is a clean 4xx envelope."""

import json

import pytest
from django.test import Client
from rest_framework.pagination import PageNumberPagination

from annotator.models import Adjudication, StudyClip, StudyEvent
from config.converters import MAX_ID
from tests.annotator.clients import client_for, login
from tests.evaluation.builders import build_study
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def built():
    return build_study()


def _study_clip_pk(built, key: str) -> int:
    return StudyClip.objects.get(study=built.study, clip=built.clips[key]).pk


def _body(built, key: str = "A", category: str = "c1", **fields) -> dict:
    return {"study_clip": _study_clip_pk(built, key), "category": built.categories[category].pk, **fields}


def _envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    return body


def _contested(client, built, query: str = "") -> dict:
    response = client.get(f"/api/studies/{built.study.pk}/contested/{query}")
    assert response.status_code == 200, response.content
    return response.json()


# --- the list -------------------------------------------------------------------------------


def test_the_contested_list_is_paginated_with_votes_raters_and_media(built):
    body = _contested(client_for(built.owner), built)

    assert body["count"] == 8 and body["next"] is None
    first = body["results"][0]
    assert (first["clip_name"], first["category_name"], first["source"]) == ("clip-A", "c1", "proposal")
    assert first["votes"] == {"present": 1, "absent": 1, "unsure": 1}
    assert first["modality_votes"] == {"A": 0, "V": 0, "AV": 0}
    assert [rater["answer"] for rater in first["raters"]] == ["present", "absent", "unsure"]
    assert [rater["seconds_spent"] for rater in first["raters"]] == [10.0, 20.0, 30.0]
    assert first["media_url"] == f"/media/clips/{first['study_clip_id']}/"
    assert first["adjudication"] is None and first["contested"] is True


def test_the_list_pages_with_the_projects_page_size(built, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 3)  # PAGE_SIZE, read once at import
    client = client_for(built.owner)

    first, third = _contested(client, built), _contested(client, built, "?page=3")

    assert first["count"] == 8 and len(first["results"]) == 3 and first["next"]
    assert [(row["clip_name"], row["category_name"]) for row in third["results"]] == [
        ("clip-D", "c1"),
        ("clip-D", "c2"),
    ]


@pytest.mark.parametrize("query", ["?state=closed", "?state=OPEN", f"?state={'x' * 5000}"])
def test_an_unknown_state_is_400_on_its_field(built, query):
    body = _envelope(client_for(built.owner).get(f"/api/studies/{built.study.pk}/contested/{query}"), 400)
    assert "state" in body["extra"]["fields"]


def test_a_page_past_the_last_is_404(built):
    _envelope(client_for(built.owner).get(f"/api/studies/{built.study.pk}/contested/?page=9"), 404)


# --- deciding and clearing ------------------------------------------------------------------


def test_adjudicate_stores_the_decision_and_the_lists_follow(built):
    client = client_for(built.owner)

    response = client.post(
        f"/api/studies/{built.study.pk}/adjudications/",
        _body(built, decision="present", modality="V", note="seen, not heard"),
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["decision"], body["modality"], body["note"]) == ("present", "V", "seen, not heard")
    assert body["decided_by"] == built.owner.username and body["decided_at"]
    assert (body["study_clip_id"], body["category_name"]) == (_study_clip_pk(built, "A"), "c1")
    assert _contested(client, built)["count"] == 7
    decided = _contested(client, built, "?state=adjudicated")["results"]
    assert [(row["clip_name"], row["category_name"], row["adjudication"]["decision"]) for row in decided] == [
        ("clip-A", "c1", "present")
    ]
    assert _contested(client, built, "?state=all")["count"] == 8


def test_clear_removes_the_decision_and_is_idempotent(built):
    client = client_for(built.owner)
    client.post(f"/api/studies/{built.study.pk}/adjudications/", _body(built, decision="absent"), format="json")
    url = f"/api/studies/{built.study.pk}/adjudications/{_study_clip_pk(built, 'A')}/{built.categories['c1'].pk}/"

    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204

    assert not Adjudication.objects.exists()
    assert list(StudyEvent.objects.values_list("action", flat=True)) == ["adjudication_cleared", "label_adjudicated"]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"study_clip": HUGE}, "study_clip"),
        ({"study_clip": MAX_ID + 1}, "study_clip"),
        ({"category": "abc"}, "category"),
        ({"category": [1]}, "category"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": 1}, "decision"),
        ({"modality": "heard"}, "modality"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_bad_fields_are_400_on_their_field_and_store_nothing(built, fields, field):
    body = {**_body(built, decision="present"), **fields}

    response = client_for(built.owner).post(f"/api/studies/{built.study.pk}/adjudications/", body, format="json")

    assert field in _envelope(response, 400)["extra"]["fields"]
    assert not Adjudication.objects.exists()


def test_a_modality_with_absent_is_400(built):
    response = client_for(built.owner).post(
        f"/api/studies/{built.study.pk}/adjudications/", _body(built, decision="absent", modality="A"), format="json"
    )

    assert "only with a present" in _envelope(response, 400)["message"]


def test_a_body_that_is_not_an_object_is_400(built):
    response = client_for(built.owner).post(
        f"/api/studies/{built.study.pk}/adjudications/", json.dumps([1, 2]), content_type="application/json"
    )

    _envelope(response, 400)


def test_a_label_never_shown_on_the_clip_is_400(built):
    response = client_for(built.owner).post(
        f"/api/studies/{built.study.pk}/adjudications/", _body(built, "B", "c5", decision="present"), format="json"
    )

    assert "neither shown" in _envelope(response, 400)["message"]


def test_a_clip_or_category_outside_the_study_is_404(built):
    other = build_study(name="another study")
    client = client_for(built.owner)
    url = f"/api/studies/{built.study.pk}/adjudications/"

    outside_clip = {**_body(built, decision="absent"), "study_clip": _study_clip_pk(other, "A")}
    _envelope(client.post(url, outside_clip, format="json"), 404)
    outside_category = {**_body(built, decision="absent"), "category": other.categories["c1"].pk}
    _envelope(client.post(url, outside_category, format="json"), 404)
    clear = f"{url}{_study_clip_pk(other, 'A')}/{built.categories['c1'].pk}/"
    _envelope(client.delete(clear), 404)
    _envelope(client.delete(f"{url}{HUGE}/1/"), 404)


# --- who may --------------------------------------------------------------------------------


def test_a_rater_cannot_list_adjudicate_or_clear(built):
    rater = client_for(built.raters["r1"])  # a rater of this very study
    url = f"/api/studies/{built.study.pk}/adjudications/"

    _envelope(rater.get(f"/api/studies/{built.study.pk}/contested/"), 403)
    _envelope(rater.post(url, _body(built, decision="present"), format="json"), 403)
    _envelope(rater.delete(f"{url}{_study_clip_pk(built, 'A')}/{built.categories['c1'].pk}/"), 403)
    assert not Adjudication.objects.exists()


def test_another_researcher_cannot_touch_the_study(built):
    client_for(built.owner).post(
        f"/api/studies/{built.study.pk}/adjudications/", _body(built, decision="present"), format="json"
    )
    other = client_for(make_researcher())
    url = f"/api/studies/{built.study.pk}/adjudications/"

    _envelope(other.get(f"/api/studies/{built.study.pk}/contested/"), 404)
    _envelope(other.post(url, _body(built, decision="absent"), format="json"), 404)
    _envelope(other.delete(f"{url}{_study_clip_pk(built, 'A')}/{built.categories['c1'].pk}/"), 404)
    assert Adjudication.objects.get().decision == "present"
    assert StudyEvent.objects.count() == 1


def test_anonymous_users_are_401(built):
    _envelope(client_for(None).get(f"/api/studies/{built.study.pk}/contested/"), 401)


# --- the page -------------------------------------------------------------------------------


def _page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="adjudicate-config" type="application/json">') + len(
        '<script id="adjudicate-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_renders_the_first_labels_and_the_api_it_posts_to(built, client):
    login(client, built.owner)

    response = client.get(f"/studies/{built.study.pk}/adjudicate/")

    assert response.status_code == 200
    page = _page_config(response)
    assert page["state"] == "open" and page["count"] == 8 and not page["has_next"]
    assert [(label["clip_name"], label["category_name"]) for label in page["labels"]][:2] == [
        ("clip-A", "c1"),
        ("clip-A", "c3"),
    ]
    assert page["adjudicate_url"] == f"/api/studies/{built.study.pk}/adjudications/"
    assert page["contested_url"] == f"/api/studies/{built.study.pk}/contested/"
    assert page["clear_url_pattern"] == f"/api/studies/{built.study.pk}/adjudications/{{study_clip}}/{{category}}/"
    html = response.content.decode()
    assert 'id="adj-list" role="listbox"' in html and "adjudicate.js" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_lists_the_decided_labels_on_asking(built, client):
    client_for(built.owner).post(
        f"/api/studies/{built.study.pk}/adjudications/", _body(built, decision="absent"), format="json"
    )
    login(client, built.owner)

    page = _page_config(client.get(f"/studies/{built.study.pk}/adjudicate/?state=adjudicated"))
    unknown = _page_config(client.get(f"/studies/{built.study.pk}/adjudicate/?state=nonsense"))

    assert page["count"] == 1 and page["labels"][0]["adjudication"]["decision"] == "absent"
    assert unknown["state"] == "open" and unknown["count"] == 7


def test_the_page_posts_through_the_session_with_its_csrf_token(built):
    browser = Client(enforce_csrf_checks=True)
    login(browser, built.owner)
    page = browser.get(f"/studies/{built.study.pk}/adjudicate/")
    token = browser.cookies["csrftoken"].value
    url = f"/api/studies/{built.study.pk}/adjudications/"

    refused = browser.post(url, json.dumps(_body(built, decision="present")), content_type="application/json")
    stored = browser.post(
        url, json.dumps(_body(built, decision="present")), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert page.status_code == 200
    assert refused.status_code == 403
    assert stored.status_code == 200, stored.content


def test_the_page_is_the_owners_only(built, client):
    login(client, make_researcher())
    assert client.get(f"/studies/{built.study.pk}/adjudicate/").status_code == 404
    login(client, make_rater())
    assert client.get(f"/studies/{built.study.pk}/adjudicate/").status_code == 403


def test_the_study_page_links_to_the_adjudication_page(built, client):
    login(client, built.owner)

    response = client.get(f"/studies/{built.study.pk}/")

    assert f'href="/studies/{built.study.pk}/adjudicate/"' in response.content.decode()
