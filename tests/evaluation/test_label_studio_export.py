"""A study exported as Label Studio tasks and labelling config: the documented task
structure, the study's proposals and ratings in it, owner-only routes, and the round trip
(import the fixture, export the study, import that into a fresh dataset: the same clips,
proposals and ratings)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator.importers.label_studio import label_studio_import
from annotator.models import Clip, ProposalSet, Study
from tests.annotator.clients import client_for, login
from tests.annotator.imports import NAMES, build_import_world
from tests.annotator.label_studio import CONFIG, EXPORT, assert_label_studio_task, proposals_of, ratings_of
from tests.factories import make_rater, make_researcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    """The fixture imported into a researcher's dataset: its study of four clips."""
    world = build_import_world()
    label_studio_import(dataset=world.dataset, path=EXPORT, owner=world.researcher, config_text=CONFIG.read_text())
    world.study = Study.objects.get(dataset=world.dataset)
    return world


def _tasks(world, client=None):
    client = client or client_for(world.researcher)
    response = client.get(f"/api/evaluation/studies/{world.study.pk}/label-studio/tasks")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_config_is_a_multiple_choice_over_the_taxonomy(imported):
    response = client_for(imported.researcher).get(f"/api/evaluation/studies/{imported.study.pk}/label-studio/config")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    view = ET.fromstring(response.content)
    video, choices = view.find("Video"), view.find("Choices")
    assert (video.get("name"), video.get("value")) == ("video", "$video")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == ("labels", "video", "multiple")
    assert [choice.get("value") for choice in choices.findall("Choice")] == NAMES


def test_the_tasks_follow_the_documented_structure_and_carry_proposals_and_ratings(imported):
    tasks = _tasks(imported)

    assert len(tasks) == 4
    for task in tasks:
        assert_label_studio_task(task, from_name="labels", to_name="video", data_key="video")
        assert task["data"]["video"] == f"http://testserver/media/clips/{task['id']}/"
    by_clip = {task["data"]["clip_id"]: task for task in tasks}
    first = by_clip["abc123XYZ_q_000010"]
    assert (first["data"]["youtube_id"], first["data"]["start_seconds"]) == ("abc123XYZ_q", 10)
    (prediction,) = first["predictions"]
    assert (prediction["model_version"], prediction["score"]) == ("avnet-v1", 0.91)
    (region,) = prediction["result"]  # one answer of the Choices tag, as Label Studio stores it
    assert (region["value"]["choices"], region["score"]) == (["dog barking", "cat meowing"], 0.91)
    assert region["meta"]["scores"] == {"dog barking": 0.91, "cat meowing": 0.35}
    annotations = {
        json.dumps(a["completed_by"]): (a["result"][0]["value"]["choices"] if a["result"] else [], a["lead_time"])
        for a in first["annotations"]
    }
    ann = json.dumps({"id": _pk("ann@example.org"), "email": "ann@example.org"})
    assert annotations == {ann: (["dog barking", "car engine"], 4.288), "11": (["dog barking"], 3.5)}
    assert by_clip["speech_clip"]["predictions"] == [] and by_clip["speech_clip"]["annotations"] == []


def _pk(username: str) -> int:
    return get_user_model().objects.get(username=username).pk


def test_round_trip_gives_the_same_clips_proposals_and_ratings(imported, tmp_path):
    path = tmp_path / "study-tasks.json"
    path.write_text(json.dumps(_tasks(imported)))
    fresh = build_import_world()

    report = label_studio_import(dataset=fresh.dataset, path=path, owner=fresh.researcher, study_name="again")

    assert not report.errors, [str(error) for error in report.errors]
    again = Study.objects.get(dataset=fresh.dataset, name="again")
    clips = set(Clip.objects.filter(dataset=fresh.dataset).values_list("clip_id", "youtube_id", "start_seconds"))
    assert clips == set(
        Clip.objects.filter(dataset=imported.dataset).values_list("clip_id", "youtube_id", "start_seconds")
    )
    assert again.proposal_set.name == imported.study.proposal_set.name == "avnet-v1"
    assert proposals_of(again.proposal_set) == proposals_of(imported.study.proposal_set)
    assert ratings_of(again) == ratings_of(imported.study)
    assert not ProposalSet.objects.filter(dataset=fresh.dataset, name="baseline-v0").exists()


def test_the_exports_are_the_owners_only(imported, client):
    other = client_for(make_researcher())
    for part in ("tasks", "config"):
        assert other.get(f"/api/evaluation/studies/{imported.study.pk}/label-studio/{part}").status_code == 404
        assert (
            client_for(make_rater()).get(f"/api/evaluation/studies/{imported.study.pk}/label-studio/{part}").status_code
            == 403
        )
    assert (
        client_for(imported.researcher).get(f"/api/evaluation/studies/{imported.study.pk}/label-studio/csv").status_code
        == 404
    )
    login(client, imported.researcher)
    page = client.get(f"/evaluation/studies/{imported.study.pk}/label-studio/tasks")
    assert page.status_code == 200 and "attachment" in page["Content-Disposition"]
    assert len(json.loads(page.content)) == 4
    dashboard = client.get(f"/evaluation/studies/{imported.study.pk}/")
    assert f"/evaluation/studies/{imported.study.pk}/label-studio/config".encode() in dashboard.content


def test_export_dataset_writes_label_studio_files(imported, tmp_path):
    out = tmp_path / "tasks.json"
    args = ("export_dataset", "--study", str(imported.study.pk), "--out", str(out))
    call_command(
        *args,
        "--format",
        "label-studio",
        "--base-url",
        "https://avlabel.example.org/",
        stdout=StringIO(),
        stderr=StringIO(),
    )

    tasks = json.loads(out.read_text())
    assert tasks[0]["data"]["video"] == f"https://avlabel.example.org/media/clips/{tasks[0]['id']}/"
    with pytest.raises(CommandError, match="--base-url"):
        call_command(*args, "--format", "label-studio", stdout=StringIO(), stderr=StringIO())
    call_command(*args, "--format", "label-studio-config", stdout=StringIO(), stderr=StringIO())
    assert out.read_text().startswith("<View>")
