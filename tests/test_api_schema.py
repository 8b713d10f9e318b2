"""The OpenAPI schema (/api/schema/, /api/docs/): it validates, it lists every API route of
config/urls.py with each of its methods, and drf-spectacular generates it without a single
warning or error (a view it cannot describe is otherwise dropped or documented as an empty
body, silently)."""

import re

import pytest
from django.urls import URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from evaluation import exporters, plots

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Routes under api/ deliberately left out of the schema: the schema and its docs page.
NOT_DOCUMENTED = {"api/schema/", "api/docs/"}


def _routes(patterns, prefix: str = ""):
    """(route, callback) of every URL pattern, includes followed."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        else:
            yield route, entry.callback


def _openapi_path(route: str) -> str:
    """``api/runs/<int:run_id>/tables/<slug:key>.<slug:fmt>`` -> ``/api/runs/{run_id}/tables/{key}.{fmt}``"""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)  # a viewset's router mapping
    if actions:
        return list(actions)
    view_class = getattr(callback, "cls", None)
    if view_class is None:  # a plain Django view: spectacular cannot describe it
        return ["get"]
    return [method for method in HTTP_METHODS if hasattr(view_class, method)]


@pytest.fixture(scope="module")
def generated():
    """The schema, and every (severity, message) drf-spectacular emitted while building it
    (also printed, with the view and line, to the captured stderr shown on failure)."""
    emitted: list[tuple[str, str]] = []
    emit = GENERATOR_STATS.emit

    def record(msg, severity: str) -> None:
        emitted.append((severity, str(msg)))
        emit(msg, severity)

    GENERATOR_STATS.reset()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GENERATOR_STATS, "emit", record)
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema, emitted


def test_schema_is_generated_without_warnings_or_errors(generated):
    _, emitted = generated
    assert emitted == [], "\n".join(sorted({f"{severity}: {msg}" for severity, msg in emitted}))


def test_schema_validates_against_openapi_3(generated):
    schema, _ = generated
    validate_schema(schema)


def test_every_api_route_and_method_is_in_the_schema(generated):
    schema, _ = generated
    expected = {
        (_openapi_path(route), method)
        for route, callback in _routes(get_resolver().url_patterns)
        if route.startswith("api/") and route not in NOT_DOCUMENTED
        for method in _methods(callback)
    }
    documented = {(path, method) for path, operations in schema["paths"].items() for method in operations}

    assert len(expected) > 30  # the walk found the annotator, modelzoo and evaluation routes
    assert sorted(expected - documented) == []
    assert ("/api/evaluation/reports/{report_id}/", "get") in documented


def test_operation_ids_are_unique(generated):
    schema, _ = generated
    ids = [op["operationId"] for operations in schema["paths"].values() for op in operations.values()]
    assert len(ids) == len(set(ids))
    assert "evaluation_reports_list" in ids and "evaluation_reports_retrieve" in ids


@pytest.mark.parametrize(
    ("path", "media_types"),
    [
        ("/api/evaluation/studies/{study_id}/tables/{key}.{fmt}", exporters.TABLE_FORMATS.values()),
        ("/api/evaluation/runs/{run_id}/tables/{key}.{fmt}", exporters.TABLE_FORMATS.values()),
        ("/api/evaluation/studies/{study_id}/plots/{key}.{fmt}", plots.PLOT_FORMATS.values()),
        ("/api/evaluation/runs/{run_id}/plots/{key}.{fmt}", plots.PLOT_FORMATS.values()),
        ("/api/evaluation/studies/{study_id}/dataset.{fmt}", exporters.STUDY_DATASET_FORMATS.values()),
        ("/api/evaluation/runs/{run_id}/retarget/{target_name}.{fmt}", exporters.DATASET_FORMATS.values()),
    ],
)
def test_evaluation_downloads_are_binary_in_each_format(generated, path, media_types):
    schema, _ = generated
    operation = schema["paths"][path]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == set(media_types)
    files = [body for media_type, body in content.items() if media_type != "application/json"]
    assert all(body["schema"] == {"type": "string", "format": "binary"} for body in files)
    if "application/json" in content:  # JSON is documented as JSON, so clients and the fuzzer can read it
        assert content["application/json"]["schema"] != {"type": "string", "format": "binary"}
    formats = next(p for p in operation["parameters"] if p["name"] == "fmt")["schema"]["enum"]
    types = {**exporters.TABLE_FORMATS, **exporters.STUDY_DATASET_FORMATS, **plots.PLOT_FORMATS}
    assert {types[f] for f in formats} == set(media_types)
