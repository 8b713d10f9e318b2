"""A trained run as a Label Studio ML backend (/ml-backend/<run_id>/): driven with the requests
Label Studio sends.

The payloads follow Label Studio's connector (label_studio/ml/api_connector.py of
HumanSignal/label-studio: `setup`, `make_predictions`) and the reference server's tests
(tests/test_api.py of HumanSignal/label-studio-ml-backend: project "1.1000000000", a
webhook's {"action", "project": {"id", "label_config"}}); a task's media reference is an
upload as Label Studio names it (/data/upload/<project>/<8 hex>-<file name>).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import Clip
from annotator.tokens import token_issue
from modelzoo import inference, selectors, services
from modelzoo.ml_backend import contract, predictor
from modelzoo.ml_backend.service import Target, _offered
from modelzoo.models import ModelRun, Prediction
from modelzoo.nn.model import HEAD_NAMES
from tests.factories import make_rater, make_researcher

PROJECT = "1.1000000000"  # "<project id>.<created at>", as the connector sends it


def _config(names, *, extra_choices=("none of these",)) -> str:
    choices = "".join(f'<Choice value="{name}"/>' for name in [*names, *extra_choices])
    return (
        '<View><Header value="What do you hear and see?"/><Video name="video" value="$video" framerate="25"/>'
        f'<Choices name="labels" toName="video" choice="multiple" showInline="true">{choices}</Choices></View>'
    )


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _client(user) -> APIClient:
    """Label Studio's connection with Basic auth: the username and the user's API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(user.username, token_issue(user=user).key))
    return client


def _path(run: ModelRun, call: str) -> str:
    return f"/ml-backend/{run.pk}/{call}"


def _upload(clip: Clip) -> str:
    return f"/data/upload/1/0a1b2c3d-{Path(clip.media_path).name}"


@pytest.fixture
def names(trained_run) -> list[str]:
    by_index = selectors.category_names_by_index(taxonomy=trained_run.dataset.taxonomy)
    return [by_index[index] for index in sorted(by_index)]


@pytest.fixture
def clips(trained_run) -> list[Clip]:
    return list(Clip.objects.filter(dataset=trained_run.dataset).order_by("pk")[:2])


@pytest.fixture
def owner(trained_run) -> APIClient:
    return _client(trained_run.created_by)


def _predict_body(tasks, names) -> dict:
    return {
        "tasks": tasks,
        "model_version": "",
        "project": PROJECT,
        "label_config": _config(names),
        "params": {"login": None, "password": None, "context": None},
    }


def _stored_labels(run: ModelRun, clip: Clip) -> list[tuple[int, float]]:
    """What a prediction run of the same model stored for the clip, as its proposals read it:
    each union label with the best top-1 probability of the heads proposing it."""
    prediction = Prediction.objects.get(run=run, clip=clip)
    scores = {
        index: max(data["top5"][0][1] for data in prediction.heads.values() if data["top5"][0][0] == index)
        for index in prediction.union_indices
    }
    return list(scores.items())


# --- health and setup ---------------------------------------------------------------------------


def test_health_answers_up_with_the_model_class(owner, trained_run):
    response = owner.get(_path(trained_run, "health"))
    assert response.status_code == 200
    assert response.json() == {"status": "UP", "model_class": "avlabel.event_heads"}


def test_setup_answers_the_runs_model_version(owner, trained_run, names):
    body = {
        "project": PROJECT,
        "schema": _config(names),
        "hostname": "http://localhost:8080",
        "access_token": "ls-token-not-kept",
        "model_version": None,
        "extra_params": None,
    }
    response = owner.post(_path(trained_run, "setup"), body, format="json")
    assert response.status_code == 200
    assert response.json() == {"model_version": f"avlabel-run-{trained_run.pk}-event_heads-tiny"}


def test_setup_refuses_a_config_offering_none_of_the_runs_classes(owner, trained_run):
    response = owner.post(
        _path(trained_run, "setup"), {"project": PROJECT, "schema": _config(["tractor", "violin"])}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"message", "extra"} and "names a class of taxonomy" in body["message"]


# --- predict ------------------------------------------------------------------------------------


def test_predict_answers_the_union_labels_with_the_scores_a_prediction_run_stores(owner, trained_run, names, clips):
    predict_run = services.model_run_start_prediction(
        source_run=trained_run, clip_ids=[clip.clip_id for clip in clips], with_heatmaps=False, enqueue=False
    )
    assert inference.model_run_predict_inline(run_id=predict_run.pk, task_id="inline").status == "succeeded"
    tasks = [
        {"id": 11, "data": {"video": _upload(clips[0])}},
        {"id": 12, "data": {"video": "https://cdn.example.org/any/where.mp4", "clip_id": clips[1].clip_id}},
    ]

    response = owner.post(_path(trained_run, "predict"), _predict_body(tasks, names), format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 2
    for clip, prediction in zip(clips, results, strict=True):
        expected = _stored_labels(predict_run, clip)
        (region,) = prediction["result"]
        assert (region["from_name"], region["to_name"], region["type"]) == ("labels", "video", "choices")
        assert region["value"]["choices"] == [names[index] for index, _ in expected]
        best = max(score for _, score in expected)
        assert prediction["score"] == pytest.approx(best, abs=1e-5) and region["score"] == prediction["score"]
        for index, score in expected:
            assert region["meta"]["scores"][names[index]] == pytest.approx(score, abs=1e-5)
            assert set(region["meta"]["heads"][names[index]]) <= set(HEAD_NAMES)
        assert prediction["model_version"] == f"avlabel-run-{trained_run.pk}-event_heads-tiny"


def test_predict_answers_an_empty_prediction_for_a_task_naming_no_clip_of_the_dataset(owner, trained_run, names, clips):
    outside = Path("/etc/passwd")
    tasks = [
        {"id": 1, "data": {"video": "/data/upload/1/0a1b2c3d-not-a-clip.mp4"}},
        {"id": 2, "data": {"video": str(outside)}},
        {"id": 3, "data": {"video": "../../../etc/passwd"}},
        {"id": 4, "data": {"audio": _upload(clips[0])}},  # not the Video tag's field
        {"id": 5, "data": {"video": _upload(clips[0])}},
    ]
    response = owner.post(_path(trained_run, "predict"), _predict_body(tasks, names), format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [prediction["result"] for prediction in results[:4]] == [[], [], [], []]
    assert all(prediction["score"] is None for prediction in results[:4])
    assert results[4]["result"][0]["value"]["choices"]


def test_predict_reads_the_clips_recorded_file_never_the_path_a_task_gives(owner, trained_run, names, clips, tmp_path):
    decoy = tmp_path / "elsewhere" / Path(clips[0].media_path).name
    decoy.parent.mkdir()
    decoy.write_bytes(b"not a video: reading this file would give no prediction")
    tasks = [{"data": {"video": f"file://{decoy}"}}, {"data": {"video": _upload(clips[0])}}]
    results = owner.post(_path(trained_run, "predict"), _predict_body(tasks, names), format="json").json()["results"]
    assert results[0]["result"] and results[0] == results[1]


def test_predict_loads_the_model_once_per_process(owner, trained_run, names, clips):
    predictor._model.cache_clear()
    body = _predict_body([{"data": {"video": _upload(clips[0])}}], names)
    first = owner.post(_path(trained_run, "predict"), body, format="json").json()
    second = owner.post(_path(trained_run, "predict"), body, format="json").json()
    assert first == second
    assert predictor._model.cache_info().misses == 1 and predictor._model.cache_info().hits == 1


def test_predict_without_a_readable_clip_loads_no_model(owner, trained_run, names):
    predictor._model.cache_clear()
    body = _predict_body([{"data": {"video": "/data/upload/1/0a1b2c3d-nope.mp4"}}], names)
    assert owner.post(_path(trained_run, "predict"), body, format="json").status_code == 200
    assert predictor._model.cache_info().misses == 0


def test_predict_of_a_run_whose_checkpoint_is_gone_is_a_conflict(owner, trained_run, names, clips, tmp_path):
    ModelRun.objects.filter(pk=trained_run.pk).update(checkpoint_path=str(tmp_path / "gone.pt"))
    body = _predict_body([{"data": {"video": _upload(clips[0])}}], names)
    response = owner.post(_path(trained_run, "predict"), body, format="json")
    assert response.status_code == 409 and "checkpoint" in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tasks": {"id": 1}}, "tasks"),  # an object, not a list
        ({"tasks": [{"id": 1}]}, "tasks"),  # a task without data
        ({"tasks": [{"id": 1, "data": "video.mp4"}]}, "tasks"),
        ({"label_config": None}, "label_config"),
        ({"tasks": [{"data": {}}] * (contract.MAX_TASKS + 1)}, "tasks"),
    ],
)
def test_predict_refuses_a_malformed_request_on_its_field(owner, trained_run, names, change, field):
    body = _predict_body([{"data": {"video": "x.mp4"}}], names) | change
    response = owner.post(_path(trained_run, "predict"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


@pytest.mark.parametrize(
    ("label_config", "message"),
    [
        ("<View><Video name='video' value='$video'/>", "not well-formed"),
        ('<!DOCTYPE v [<!ENTITY big "aaaa">]><View>&big;</View>', "DOCTYPE"),
        ('<View><Image name="img" value="$image"/><Choices name="c" toName="img"/></View>', "no Choices tag"),
        ('<View><Video name="v" value="$video"/><Choices name="c" toName="v" perRegion="true"/></View>', "no Choices"),
        (_config(["tractor"], extra_choices=()), "names a class"),
    ],
)
def test_predict_refuses_a_label_config_it_cannot_answer(owner, trained_run, label_config, message):
    body = {"tasks": [{"data": {"video": "x.mp4"}}], "label_config": label_config, "project": PROJECT}
    response = owner.post(_path(trained_run, "predict"), body, format="json")
    assert response.status_code == 400 and message in response.json()["message"]


# --- webhook -----------------------------------------------------------------------------------


def test_webhook_acknowledges_training_events_and_trains_nothing(owner, trained_run):
    body = {"action": "ANNOTATION_CREATED", "project": {"id": 1, "label_config": "<View></View>"}}
    runs = ModelRun.objects.count()
    response = owner.post(_path(trained_run, "webhook"), body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert ModelRun.objects.count() == runs
    assert owner.post(_path(trained_run, "webhook"), {}, format="json").status_code == 400


# --- who may use it ----------------------------------------------------------------------------


def test_the_owner_may_use_a_token_header_or_basic_auth_with_the_token(trained_run):
    user = trained_run.created_by
    token = token_issue(user=user).key
    header = APIClient()
    header.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert header.get(_path(trained_run, "health")).status_code == 200
    assert _client(user).get(_path(trained_run, "health")).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        lambda user, token: _basic(user.username, "wrong-token"),
        lambda user, token: _basic("someone-else", token),
        lambda user, token: _basic(user.username, "pw-secret-123"),  # the account's password is no token
    ],
)
def test_basic_auth_refuses_a_wrong_pair(trained_run, credentials):
    user = trained_run.created_by
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=credentials(user, token_issue(user=user).key))
    response = client.get(_path(trained_run, "health"))
    assert response.status_code == 401 and set(response.json()) == {"message", "extra"}


def test_an_expired_token_is_refused(trained_run, settings):
    client = _client(trained_run.created_by)
    Token.objects.filter(user=trained_run.created_by).update(created=timezone.now() - settings.AVLABEL_TOKEN_TTL)
    response = client.get(_path(trained_run, "health"))
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_anonymous_requests_are_challenged_for_basic_auth(trained_run):
    response = APIClient().get(_path(trained_run, "health"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert set(response.json()) == {"message", "extra"}


def test_other_researchers_get_not_found_raters_forbidden_shared_researchers_in(trained_run, names):
    other, shared = make_researcher(), make_researcher()
    services.model_run_share(run=trained_run, researchers=[shared])
    assert _client(other).get(_path(trained_run, "health")).status_code == 404
    assert (
        _client(other).post(_path(trained_run, "predict"), _predict_body([], names), format="json").status_code == 404
    )
    assert _client(make_rater()).get(_path(trained_run, "health")).status_code == 403
    assert _client(shared).get(_path(trained_run, "health")).status_code == 200


def test_a_run_that_is_no_finished_training_is_not_found(owner, trained_run):
    predict_run = services.model_run_start_prediction(source_run=trained_run, with_heatmaps=False, enqueue=False)
    queued = ModelRun.objects.create(
        kind=ModelRun.Kind.TRAIN,
        model_kind=trained_run.model_kind,
        config_name="tiny",
        dataset=trained_run.dataset,
        created_by=trained_run.created_by,
    )
    for run in (predict_run, queued):
        response = owner.get(_path(run, "health"))
        assert response.status_code == 404 and set(response.json()) == {"message", "extra"}


# --- the contract's pieces ---------------------------------------------------------------------


def test_label_config_choices_reads_whole_clip_choices_with_aliases():
    config = (
        '<View><Audio name="sound" value="$audio"/><Video name="v" value="$video"/>'
        '<Choices name="region" toName="v" perRegion="true"><Choice value="x"/></Choices>'
        '<Choices name="labels" toName="sound,v"><View><Choice value="Dog Barking" alias="dog"/></View>'
        '<Choice value="cat"/></Choices></View>'
    )
    (tag,) = contract.label_config_choices(config)
    assert tag == contract.ChoicesTag("labels", "sound", "audio", (("Dog Barking", "dog"), ("cat", "cat")))
    assert contract.choices_by_category(tag, {0: "cat", 1: " dog barking", 2: "car"}) == {1: "dog", 0: "cat"}


def test_labels_the_config_does_not_offer_are_left_out():
    tag = contract.ChoicesTag("labels", "video", "video", (("cat", "cat"),))
    labels = predictor.ClipLabels(((2, 0.9, ("visual",)), (0, 0.4, ("audio", "onset"))))
    assert _offered(labels, Target(tag, {0: "cat"})) == [contract.ProposedLabel("cat", 0.4, ("audio", "onset"))]
    assert _offered(labels, Target(tag, {1: "dog"})) == []
    assert contract.task_prediction(tag=tag, labels=[], model_version="m") == {
        "result": [],
        "score": None,
        "model_version": "m",
    }


def test_task_clip_id_prefers_an_explicit_clip_id_and_reads_only_a_file_name():
    assert contract.task_clip_id({"data": {"video": "/data/upload/3/a1b2c3d4-abc_000010.mp4"}}, data_key="video") == (
        "abc_000010"
    )
    assert contract.task_clip_id({"data": {"video": "/x/y.mp4", "clip_id": " c-7 "}}, data_key="video") == "c-7"
    assert contract.task_clip_id({"data": {"video": "/data/local-files/?d=media/z.wav"}}, data_key="video") == "z"
    assert contract.task_clip_id({"data": {"video": 7}}, data_key="video") == ""


# --- hostile requests --------------------------------------------------------------------------


def test_a_body_over_the_api_cap_is_refused_before_it_is_read(owner, trained_run, settings):
    settings.AVLABEL_API_MAX_BODY_BYTES = 1000
    body = {"tasks": [{"id": 1, "data": {"video": "x" * 2000}}], "label_config": "<View></View>"}
    response = owner.post(_path(trained_run, "predict"), body, format="json")
    assert response.status_code == 413 and response.json()["extra"] == {"max_body_bytes": 1000}


def test_a_path_no_route_matches_answers_the_json_envelope(owner):
    response = owner.get("/ml-backend/not-a-run/health")
    assert response.status_code == 404 and set(response.json()) == {"message", "extra"}
