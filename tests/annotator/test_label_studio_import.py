"""Importing a Label Studio export (tests/data/label_studio): its videos become clips, its
predictions proposal sets with their scores, its annotations the ratings of a closed study;
bad rows are reported, never a crash, and a rerun stores nothing twice."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator import roles
from annotator.importers.label_studio import label_studio_import
from annotator.importers.label_studio_tasks import clip_id_from_media, label_config_parse
from annotator.importers.report import ImportInputError
from annotator.models import Clip, ProposalSet, Rating, Study, StudyClipLabel
from tests.annotator.imports import build_import_world
from tests.annotator.label_studio import CONFIG, EXPORT, assert_label_studio_task, proposals_of, ratings_of
from tests.factories import make_rater

pytestmark = pytest.mark.django_db

CLIP_IDS = {"abc123XYZ_q_000010", "zzTop0000ab_000030", "Qw3rTy-_AsD_000000", "speech_clip"}


@pytest.fixture
def world():
    return build_import_world()


def _import(world, path=EXPORT, **options):
    options.setdefault("config_text", CONFIG.read_text())
    return label_studio_import(dataset=world.dataset, path=path, owner=world.researcher, **options)


def _write(tmp_path, tasks, name="tasks.json"):
    path = tmp_path / name
    path.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks))
    return path


def test_the_fixture_follows_label_studios_documented_task_structure():
    for task in json.loads(EXPORT.read_text())[:3]:
        assert_label_studio_task(task, from_name="labels", to_name="clip", data_key="video_url")


def test_clip_ids_come_from_the_media_name_without_upload_prefix_or_suffix():
    assert clip_id_from_media("/data/upload/3/a1b2c3d4-abc_000010.mp4") == "abc_000010"
    assert clip_id_from_media("/data/local-files/?d=video/a1b2c3d4-abc_000010.webm") == "a1b2c3d4-abc_000010"
    assert clip_id_from_media("https://cdn.example.org/x/y%20z.MP4?sig=1") == "y z"
    assert label_config_parse(CONFIG.read_text()).data_key == "video_url"
    assert label_config_parse("").data_key == "video"


def test_import_stores_clips_proposals_with_scores_and_the_ratings_of_a_closed_study(world):
    report = _import(world)

    clips = {clip.clip_id: clip for clip in Clip.objects.filter(dataset=world.dataset)}
    assert set(clips) == CLIP_IDS and report.created == 4
    assert (clips["abc123XYZ_q_000010"].youtube_id, clips["abc123XYZ_q_000010"].start_seconds) == ("abc123XYZ_q", 10)
    assert (clips["speech_clip"].youtube_id, clips["speech_clip"].start_seconds) == ("", None)
    avnet = ProposalSet.objects.get(dataset=world.dataset, name="avnet-v1")
    assert proposals_of(avnet) == {
        ("abc123XYZ_q_000010", "dog barking", 0.91),
        ("abc123XYZ_q_000010", "cat meowing", 0.35),
        ("zzTop0000ab_000030", "cat meowing", 0.7),
    }
    baseline = ProposalSet.objects.get(dataset=world.dataset, name="baseline-v0")
    assert proposals_of(baseline) == {
        ("abc123XYZ_q_000010", "dog barking", 0.6),
        ("abc123XYZ_q_000010", "car engine", 0.6),
    }

    study = Study.objects.get(dataset=world.dataset, name="Label Studio: export")
    assert (study.status, study.owner, study.proposal_set) == (Study.Status.CLOSED, world.researcher, avnet)
    assert (study.sample_size, study.raters_per_clip, study.study_clips.count()) == (4, 2, 4)
    absent, present = "absent", "present"
    assert {(clip, rater, seconds, answers) for clip, rater, seconds, _, answers in ratings_of(study)} == {
        (
            "abc123XYZ_q_000010",
            "ann@example.org",
            4.288,
            frozenset({("dog barking", present, False), ("cat meowing", absent, False), ("car engine", present, True)}),
        ),
        (
            "abc123XYZ_q_000010",
            "label-studio-11",
            3.5,
            frozenset({("dog barking", present, False), ("cat meowing", absent, False), ("car engine", absent, False)}),
        ),
        ("zzTop0000ab_000030", "ann@example.org", 6.0, frozenset({("cat meowing", present, False)})),
        ("zzTop0000ab_000030", "label-studio-11", 2.25, frozenset({("cat meowing", absent, False)})),
    }
    added = StudyClipLabel.objects.get(study_clip__study=study, source=StudyClipLabel.Source.ADDED)
    assert (added.category.name, added.added_by.username) == ("car engine", "ann@example.org")
    assert sorted(study.study_clips.values_list("completed_count", flat=True)) == [0, 0, 2, 2]
    assert set(study.raters.values_list("username", flat=True)) == {"ann@example.org", "label-studio-11"}
    created = get_user_model().objects.get(username="ann@example.org")
    assert roles.user_is_rater(created) and not created.has_usable_password()
    assert (report.extra["raters_created"], report.extra["cancelled_annotations_skipped"]) == (2, 1)


def test_bad_rows_are_reported_with_their_line_and_the_rest_imported(world):
    report = _import(world)

    messages = [str(error) for error in report.errors]
    assert len(messages) == 4, messages
    assert any("task 4" in m and "data.video_url" in m for m in messages)
    assert any("'unicorn'" in m and "not in the dataset's taxonomy" in m for m in messages)
    assert any("task 5" in m and "score 1.7" in m for m in messages)
    assert any("task 5" in m and "completed_by" in m for m in messages)
    assert all(error.line is not None and error.line > 1 for error in report.errors)


def test_a_rerun_stores_nothing_twice(world):
    _import(world)
    study = Study.objects.get(dataset=world.dataset)
    before = (ratings_of(study), StudyClipLabel.objects.filter(study_clip__study=study).count())

    again = _import(world)

    assert (again.created, again.unchanged) == (0, 4)
    assert again.extra["ratings_unchanged"] == 4 and not again.extra["ratings_created"]
    assert again.extra["proposals_unchanged"] == 5 and not again.extra["raters_created"]
    assert Study.objects.filter(dataset=world.dataset).count() == 1
    assert (ratings_of(study), StudyClipLabel.objects.filter(study_clip__study=study).count()) == before
    assert Rating.objects.filter(study_clip__study=study).count() == 4


def test_a_rerun_with_a_changed_annotation_updates_that_rating_only(world, tmp_path):
    _import(world)
    tasks = json.loads(EXPORT.read_text())
    tasks[1]["annotations"][1]["result"] = [
        {"id": "x1", "type": "choices", "from_name": "labels", "value": {"choices": ["cat meowing"]}}
    ]

    report = _import(world, path=_write(tmp_path, tasks, "export.json"))

    assert (report.extra["ratings_updated"], report.extra["ratings_unchanged"]) == (1, 3)
    study = Study.objects.get(dataset=world.dataset)
    mine = {
        answers
        for clip, rater, *_, answers in ratings_of(study)
        if (clip, rater) == ("zzTop0000ab_000030", "label-studio-11")
    }
    assert mine == {frozenset({("cat meowing", "present", False)})}


def test_raters_are_matched_by_email_to_existing_users(world):
    existing = make_rater(username="ann")
    existing.email = "ANN@example.org"
    existing.save()

    report = _import(world)

    study = Study.objects.get(dataset=world.dataset)
    assert {rater for _, rater, *_ in ratings_of(study)} == {"ann", "label-studio-11"}
    assert report.extra["raters_created"] == 1


def test_unusable_input_is_refused_whole(world, tmp_path):
    for text, message in (
        ("{not json", "a Label Studio JSON export holds a list"),
        ('[{"data": ', "invalid JSON"),
        ("[" * 100_000, "invalid JSON"),
        ('[{"data": {"image": "x.jpg"}}, 7]', "no usable task"),
        ("[]", "no usable task"),
    ):
        with pytest.raises(ImportInputError, match=message):
            _import(world, path=_write(tmp_path, text), config_text="")
    assert not Clip.objects.filter(dataset=world.dataset).exists()


def test_wrong_shapes_and_huge_values_are_row_errors(world, tmp_path):
    video = {"video": "/v/ok_000001.mp4"}
    tasks = [
        {"data": video, "predictions": {"not": "a list"}, "annotations": "nope"},
        {"data": {"video": "/v/" + "x" * 300 + ".mp4"}},
        {
            "data": {"video": "/v/b.mp4"},
            "predictions": [{"score": 1e308, "result": [{"type": "choices", "value": {"choices": ["dog barking"]}}]}],
        },
        {
            "data": {"video": "/v/c.mp4"},
            "predictions": [{"result": [{"type": "choices", "value": {"choices": "dog barking"}}]}],
        },
        {"data": {"video": "/v/d.mp4"}, "annotations": [{"completed_by": 1, "lead_time": "long", "result": []}]},
        {"data": {"video": "/v/e.mp4"}, "annotations": [{"completed_by": {"email": "not-an-email"}, "result": []}]},
        {"data": {"video": "/v/f.mp4"}, "annotations": [{"completed_by": 2, "created_at": "yesterday", "result": []}]},
        {"data": {"video": "/v/g.mp4"}, "annotations": [{"completed_by": 10**30, "result": []}]},
    ]

    report = _import(world, path=_write(tmp_path, tasks), config_text="")

    assert len(report.errors) == 9, [str(error) for error in report.errors]
    assert Clip.objects.filter(dataset=world.dataset).count() == 7
    assert not Study.objects.filter(dataset=world.dataset).exists()


def test_per_label_scores_are_read_from_the_regions_meta_as_the_ml_backend_answers(world, tmp_path):
    region = {
        "from_name": "labels",
        "to_name": "video",
        "type": "choices",
        "value": {"choices": ["dog barking", "cat meowing"]},
        "score": 0.8,
        "meta": {"scores": {"dog barking": 0.8, "cat meowing": 0.3}},
    }
    prediction = {"model_version": "avlabel-run-7", "score": 0.8, "result": [region]}
    bad = {**prediction, "result": [{**region, "meta": {"scores": {"dog barking": 7}}}]}
    tasks = [
        {"data": {"video": "/v/meta_000001.mp4"}, "predictions": [prediction]},
        {"data": {"video": "/v/meta_000002.mp4"}, "predictions": [bad]},
    ]

    report = _import(world, path=_write(tmp_path, tasks), config_text="")

    assert proposals_of(ProposalSet.objects.get(dataset=world.dataset, name="avlabel-run-7")) == {
        ("meta_000001", "dog barking", 0.8),
        ("meta_000001", "cat meowing", 0.3),
    }
    assert [error.message for error in report.errors] == [
        "task without id (clip 'meta_000002'), prediction 1: score 7 is not a number between 0 and 1"
    ]


def test_a_model_runs_proposal_set_is_not_replaced(world):
    ProposalSet.objects.create(dataset=world.dataset, name="avnet-v1", source=ProposalSet.Source.MODEL)

    report = _import(world)

    assert any("comes from a model run" in error.message for error in report.errors)
    study = Study.objects.get(dataset=world.dataset)
    assert study.proposal_set.name == "baseline-v0"


def test_the_command_imports_and_reruns(world):
    def run(*args):
        out = StringIO()
        call_command("import_label_studio", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    args = ("--dataset", world.dataset.name, "--file", str(EXPORT), "--config", str(CONFIG), "--study", "LS pilot")
    assert "4 created" in run(*args)
    assert "0 created, 0 updated, 4 unchanged" in run(*args)
    assert Study.objects.get(dataset=world.dataset).name == "LS pilot"
    with pytest.raises(CommandError, match="file not found"):
        run("--dataset", world.dataset.name, "--file", "/nonexistent.json")
