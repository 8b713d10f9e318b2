"""Bad input is refused cleanly: ids past PostgreSQL's bigint, digits that are not ASCII,
Range headers of thousands of digits and oversized bodies answer 4xx (the JSON envelope on
/api/), never a 500, and store nothing."""

import io
import json

import pytest
from rest_framework.test import APIClient

from annotator.models import Rating
from config.converters import MAX_ID
from tests.annotator.clients import client_for, login, next_clip, submit, token_client
from tests.builders import MediaClip, build_media_world, build_world, make_study
from tests.evaluation.builders import build_runs
from tests.factories import CategoryFactory, make_rater, make_researcher

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # 20 digits: past 2**63-1, the largest bigint
PAST_MAX_ID = str(MAX_ID + 1)
THOUSANDS_OF_DIGITS = "9" * 5000  # int() of more than 4,300 digits raises


@pytest.fixture
def world():
    world = build_world(clips_per_class=(2, 2), raters=2)
    world.study = make_study(world, raters_per_clip=2, decoys_per_clip=0)
    return world


def _envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    return body


def _field_error(response, field: str) -> list:
    return _envelope(response, 400)["extra"]["fields"][field]


# --- ids in the path: the <id:...> converter --------------------------------------------------


@pytest.mark.parametrize("huge", [HUGE, PAST_MAX_ID])
def test_study_clip_id_past_bigint_is_404(world, huge):
    rater = client_for(world.raters[0])

    _envelope(rater.get(f"/api/study-clips/{huge}/"), 404)
    _envelope(rater.post(f"/api/study-clips/{huge}/submit/", {}, format="json"), 404)


def test_next_of_a_study_id_past_bigint_is_404(world):
    _envelope(client_for(world.raters[0]).post(f"/api/studies/{HUGE}/next/"), 404)


def test_clip_media_id_past_bigint_is_404(world, client):
    login(client, world.raters[0])

    assert client.get(f"/media/clips/{HUGE}/").status_code == 404


# --- ids in query strings and bodies: config.api.IdField / IdListField ------------------------


@pytest.mark.parametrize("url", [f"/api/clips/?dataset={HUGE}", f"/api/proposal-sets/?dataset={HUGE}"])
def test_dataset_filter_past_bigint_is_400_on_its_field(world, url):
    assert _field_error(client_for(world.owner).get(url), "dataset")


@pytest.mark.parametrize("label", [HUGE, THOUSANDS_OF_DIGITS], ids=["20 digits", "5000 digits"])
def test_label_filter_of_a_category_id_past_bigint_is_400(world, label):
    assert _field_error(client_for(world.owner).get("/api/clips/", {"label": label}), "label")


def test_label_filter_with_a_unicode_digit_is_a_name_not_an_id(world):
    """'²'.isdigit() is True but int('²') fails: such a label is matched as a name."""
    client = client_for(world.owner)
    nothing = client.get("/api/clips/", {"label": "²"})
    squared = CategoryFactory(taxonomy=world.taxonomy, name="²", index=99)
    world.clips[0].labels.add(squared)
    found = client.get("/api/clips/", {"label": "²"})

    assert nothing.status_code == 200 and nothing.json()["count"] == 0
    assert [clip["id"] for clip in found.json()["results"]] == [world.clips[0].pk]


def test_modelzoo_dataset_filter_past_bigint_is_400(world):
    assert _field_error(client_for(world.owner).get(f"/api/modelzoo/runs/?dataset={HUGE}"), "dataset")


@pytest.mark.parametrize("ids", [HUGE, f"1,{HUGE}", "1,²", "0", "", ",", "1;2"])
def test_compare_ids_out_of_range_or_not_ascii_digits_are_400(world, ids):
    response = client_for(world.owner).get("/api/evaluation/runs/compare/", {"ids": ids})

    assert _field_error(response, "ids")


def test_compare_ids_read_spaces_and_repeats():
    built = build_runs()
    run = built.runs["event_heads"]

    response = client_for(built.owner).get("/api/evaluation/runs/compare/", {"ids": f" {run.pk} , {run.pk}"})

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("body, field", [({"runs": [2**92]}, "runs"), ({"study": 2**92}, "study")])
def test_report_ids_past_bigint_are_400(world, body, field):
    response = client_for(world.owner).post("/api/evaluation/reports/", body, format="json")

    assert _field_error(response, field)


@pytest.mark.parametrize(
    "url, body, field",
    [
        ("/api/modelzoo/runs/train/", {"dataset_id": 2**92, "model_kind": "event_heads"}, "dataset_id"),
        ("/api/modelzoo/runs/predict/", {"source_run_id": 2**92}, "source_run_id"),
    ],
)
def test_modelzoo_ids_past_bigint_are_400(world, url, body, field):
    assert _field_error(client_for(world.owner).post(url, body, format="json"), field)


def _study_body(world, **changes) -> dict:
    body = {"name": "s", "dataset": world.dataset.pk, "proposal_set": world.proposal_set.pk, "sample_size": 1}
    return {**body, **changes}


@pytest.mark.parametrize("field", ["dataset", "proposal_set"])
def test_study_create_with_an_id_past_bigint_is_400(world, field):
    response = client_for(world.owner).post("/api/studies/create/", _study_body(world, **{field: 2**92}), format="json")

    assert _field_error(response, field)


@pytest.mark.parametrize("field", ["seed", "sample_size", "raters_per_clip", "reservation_timeout_seconds"])
def test_study_create_with_a_number_the_database_cannot_hold_is_400(world, field):
    """Integer columns hold 32 bits: 2**40 would be refused by the database, as a 500."""
    response = client_for(world.owner).post("/api/studies/create/", _study_body(world, **{field: 2**40}), format="json")

    assert _field_error(response, field)


# --- Range headers ----------------------------------------------------------------------------


@pytest.fixture
def media_clip(media_root):
    owner = make_researcher()
    world = build_media_world(
        media_root=media_root,
        folder="ds",
        taxonomy_name="t",
        proposal_set_name="p",
        category_names=["a", "b"],
        clips=[MediaClip(clip_id="c0", file_name="c0.mp4", label="a", proposals={"b": ["audio"]}, seconds=1.0)],
        owner=owner,
        raters=[make_rater()],
    )
    world.study = make_study(world, sample_size=1, raters_per_clip=1, decoys_per_clip=0)
    size = (media_root / "ds" / "c0.mp4").stat().st_size
    return world.study.study_clips.get(), owner, size


def _media(client, media_clip, range_header: str):
    study_clip, owner, _ = media_clip
    login(client, owner)
    return client.get(f"/media/clips/{study_clip.pk}/", headers={"Range": range_header})


def test_range_starting_thousands_of_digits_in_is_416(client, media_clip):
    response = _media(client, media_clip, f"bytes={THOUSANDS_OF_DIGITS}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{media_clip[2]}"


def test_range_ending_thousands_of_digits_in_is_the_rest_of_the_file(client, media_clip):
    size = media_clip[2]

    response = _media(client, media_clip, f"bytes=10-{THOUSANDS_OF_DIGITS}")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-{size - 1}/{size}"


def test_suffix_range_of_thousands_of_digits_is_the_whole_file(client, media_clip):
    size = media_clip[2]

    response = _media(client, media_clip, f"bytes=-{THOUSANDS_OF_DIGITS}")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-{size - 1}/{size}"


def test_range_in_other_digits_than_ascii_is_416(client, media_clip):
    assert _media(client, media_clip, "bytes=\u0661-").status_code == 416  # ARABIC-INDIC DIGIT ONE


# --- the body-size cap on /api/ (config.middleware) ---------------------------------------------


def _big_submit_body(keys: int = 200_000) -> str:
    """About 20 MB: 200,000 answer keys, padded like a hostile client would."""
    answers = {str(key): "present" + " " * 90 for key in range(keys)}
    return json.dumps({"answers": answers})


def test_submit_of_20_megabytes_is_413_and_stores_nothing(world, settings):
    rater = token_client(world.raters[0])
    payload = next_clip(rater, world.study)
    body = _big_submit_body()
    assert len(body) > 20_000_000

    response = rater.post(f"/api/study-clips/{payload['study_clip_id']}/submit/", body, content_type="application/json")

    assert _envelope(response, 413)["extra"] == {"max_body_bytes": settings.AVLABEL_API_MAX_BODY_BYTES}
    assert not Rating.objects.filter(study_clip_id=payload["study_clip_id"]).exists()


def test_a_normal_submit_is_within_the_cap(world):
    rater = token_client(world.raters[0])

    response = submit(rater, next_clip(rater, world.study))

    assert response.status_code == 200, response.content


def _chunked_post(client: APIClient, url: str, body: bytes):
    """A body sent without Content-Length (Transfer-Encoding: chunked), from a server that
    ends its input at the body's end (gunicorn sets wsgi.input_terminated)."""
    return client.generic(
        "POST",
        url,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


def test_chunked_body_past_the_cap_is_413_and_stores_nothing(world):
    rater = token_client(world.raters[0])
    payload = next_clip(rater, world.study)
    url = f"/api/study-clips/{payload['study_clip_id']}/submit/"

    response = _chunked_post(rater, url, _big_submit_body().encode())

    _envelope(response, 413)
    assert not Rating.objects.filter(study_clip_id=payload["study_clip_id"]).exists()


def test_chunked_body_within_the_cap_is_read_like_a_sized_one(world):
    rater = token_client(world.raters[0])
    payload = next_clip(rater, world.study)
    answers = {str(label["category_id"]): "present" for label in payload["labels"]}
    url = f"/api/study-clips/{payload['study_clip_id']}/submit/"

    response = _chunked_post(rater, url, json.dumps({"answers": answers}).encode())

    assert response.status_code == 200, response.content
    assert Rating.objects.filter(study_clip_id=payload["study_clip_id"], rater=world.raters[0]).exists()


def test_the_cap_is_a_setting(world, settings):
    settings.AVLABEL_API_MAX_BODY_BYTES = 10
    rater = token_client(world.raters[0])

    response = rater.post("/api/studies/create/", {"name": "a name longer than ten bytes"}, format="json")

    assert _envelope(response, 413)["extra"] == {"max_body_bytes": 10}
