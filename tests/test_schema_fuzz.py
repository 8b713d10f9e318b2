"""Schemathesis over the app's own schema (/api/schema/, through the WSGI app: no server):
every operation, as a researcher and as a rater, answers no 5xx, and only the status codes,
content types and bodies the schema documents.

Generated ids mostly name nothing; path ids are drawn, more often than not, from a small
world of real objects (a study with a reservation, a rated study, predict runs), so the
200 bodies and the downloads are checked too. The examples are bounded and derandomised:
the same cases every run, a minute or two on two cores."""

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.builders import build_world, make_study, reserve
from tests.evaluation.builders import build_runs, build_study

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_EXAMPLES = 10  # per operation and role, beside the coverage phase's boundary cases
REAL_ID_SHARE = 0.6


@pytest.fixture
def same_connection():
    """Requests through the WSGI handler share the test's transaction, as the test client's
    do: Django would close the connection around each request (it is not in autocommit)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _real_ids() -> tuple[dict[str, list[int]], object, object]:
    """Objects for the path ids, the researcher who owns them and a rater holding a clip."""
    world = build_world(clips_per_class=(2, 2), raters=2)
    world.study = make_study(world, raters_per_clip=2)
    reserve(world)
    rated = build_study(owner=world.owner)
    runs = build_runs(owner=world.owner)
    ids = {
        "study_id": [world.study.pk, rated.study.pk],
        "dataset_id": [world.dataset.pk, runs.dataset.pk],
        "clip_id": [world.clips[0].pk],
        "study_clip_id": list(world.study.study_clips.values_list("pk", flat=True)),
        "run_id": [run.pk for run in runs.runs.values()],
    }
    return ids, world.owner, world.raters[0]


@pytest.fixture
def api_schema(db, same_connection, request):
    ids, researcher, rater = _real_ids()
    user = {"researcher": researcher, "rater": rater}[request.param]
    config = SchemathesisConfig.from_dict(
        {
            "seed": 9,
            "dictionaries": {name: {"values": values} for name, values in ids.items()},
            "parameters": {f"path.{name}": {"dictionary": name, "probability": REAL_ID_SHARE} for name in ids},
            "headers": {"Authorization": f"Token {Token.objects.create(user=user).key}"},
            # Stateful links would chain writes across operations; each operation on its own here.
            "phases": {"stateful": {"enabled": False}},
            "generation": {"max-examples": FUZZ_EXAMPLES},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.parametrize("api_schema", ["researcher", "rater"], indirect=True)
@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    derandomize=True,
    database=None,
    # The world is built once per role, not per example: that is the point.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=CHECKS)


# --- what ApiSchema adds to every operation ------------------------------------------------------


@pytest.fixture
def documented(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def _statuses(documented: dict, path: str, method: str) -> set[str]:
    return set(documented["paths"][path][method]["responses"])


def test_schema_documents_the_envelope_errors_each_operation_can_give(documented):
    envelope = {"$ref": "#/components/schemas/Error"}

    assert _statuses(documented, "/api/studies/{study_id}/", "get") >= {"200", "401", "403", "404"}
    assert _statuses(documented, "/api/studies/create/", "post") >= {"201", "400", "401", "403", "413", "415"}
    assert _statuses(documented, "/api/studies/", "get") >= {"404"}  # ?page= past the last
    assert not _statuses(documented, "/api/auth/token/", "post") & {"401", "403"}  # anyone may sign in
    not_found = documented["paths"]["/api/clips/{clip_id}/"]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == envelope


def test_schema_states_the_id_range_of_query_and_body_ids(documented):
    clips = documented["paths"]["/api/clips/"]["get"]["parameters"]
    dataset = next(parameter for parameter in clips if parameter["name"] == "dataset")["schema"]
    compare = documented["paths"]["/api/evaluation/runs/compare/"]["get"]["parameters"]
    ids = next(parameter for parameter in compare if parameter["name"] == "ids")["schema"]

    assert (dataset["minimum"], dataset["maximum"]) == (1, 2**63 - 1)
    assert ids["pattern"] == "^[0-9]{1,19}(,[0-9]{1,19})*$"


def test_schema_types_json_downloads_as_json_and_files_as_bytes(documented):
    responses = documented["paths"]["/api/evaluation/studies/{study_id}/dataset.{fmt}"]["get"]["responses"]
    content = responses["200"]["content"]

    assert content["application/json"]["schema"]["type"] == "object"
    assert content["text/csv"]["schema"] == {"type": "string", "format": "binary"}
