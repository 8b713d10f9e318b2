"""Dashboards, downloads and the REST API: who may see what, and what comes back."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from annotator import roles
from evaluation import exporters
from tests import factories
from tests.evaluation.builders import build_runs, build_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    return build_study()


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


# --- permissions ------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, built):
    for url in (
        reverse("evaluation:index"),
        reverse("evaluation:study", args=[built.study.pk]),
        reverse("evaluation:study-dataset", args=[built.study.pk, "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_raters_get_403_everywhere(built):
    rater = built.raters["r1"]
    client = _client(rater)
    for url in (
        reverse("evaluation:index"),
        reverse("evaluation:study", args=[built.study.pk]),
        reverse("evaluation:study-table", args=[built.study.pk, "human_study", "csv"]),
        reverse("evaluation:study-dataset", args=[built.study.pk, "json"]),
        reverse("evaluation-api:study-detail", args=[built.study.pk]),
        reverse("evaluation-api:study-dataset", args=[built.study.pk, "csv"]),
        reverse("evaluation-api:report-list"),
    ):
        assert client.get(url).status_code == 403, url


def test_other_researchers_do_not_see_the_study(built):
    client = _client(factories.make_researcher())
    assert client.get(reverse("evaluation:study", args=[built.study.pk])).status_code == 404
    assert client.get(reverse("evaluation:study-dataset", args=[built.study.pk, "csv"])).status_code == 404
    assert client.get(reverse("evaluation-api:study-detail", args=[built.study.pk])).status_code == 404
    response = client.post(reverse("evaluation-api:report-list"), {"study": built.study.pk}, format="json")
    assert response.status_code == 404
    index = client.get(reverse("evaluation:index"))
    assert built.study.name not in index.content.decode()


def test_admin_sees_every_study(built):
    admin = factories.UserFactory()
    admin.groups.add(Group.objects.get_or_create(name=roles.ADMIN)[0])
    assert _client(admin).get(reverse("evaluation:study", args=[built.study.pk])).status_code == 200


def test_api_anonymous_is_unauthorised(built):
    assert _client().get(reverse("evaluation-api:study-detail", args=[built.study.pk])).status_code in (401, 403)


# --- study dashboard and downloads --------------------------------------------------------------


def test_study_dashboard_shows_tables_plots_and_downloads(built):
    client = _client(built.owner)
    response = client.get(reverse("evaluation:study", args=[built.study.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Human study" in page and "Rater quality" in page and "Missing-label candidates" in page
    assert f"/evaluation/studies/{built.study.pk}/tables/human_study.tex" in page
    assert f"/evaluation/studies/{built.study.pk}/plots/acceptance_by_class.png" in page
    assert f"/evaluation/studies/{built.study.pk}/dataset.csv" in page


def test_study_downloads_in_every_format(built):
    client = _client(built.owner)
    base = f"/evaluation/studies/{built.study.pk}/"
    csv_text = client.get(base + "tables/human_study.csv").content.decode()
    assert csv_text.startswith("Measure,Value,95% CI low,95% CI high")
    tex = client.get(base + "tables/rater_quality.tex")
    assert tex["Content-Disposition"].startswith("attachment") and b"\\begin{tabular}" in tex.content
    assert client.get(base + "tables/human_study.md").content.startswith(b"### Human study")
    assert json.loads(client.get(base + "tables/human_study.json").content)["key"] == "human_study"
    png = client.get(base + "plots/acceptance_by_class.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert b"<svg" in client.get(base + "plots/cardinality.svg").content
    assert client.get(base + "tables/nope.csv").status_code == 404
    assert client.get(base + "tables/human_study.xlsx").status_code == 404
    rows = list(csv.DictReader(io.StringIO(client.get(base + "dataset.csv").content.decode())))
    assert ("clip-A", "c5") in {(row["clip_id"], row["label"]) for row in rows}
    assert json.loads(client.get(base + "dataset.json").content)["study"]["id"] == built.study.pk


def test_api_study_evaluation_and_files(built):
    client = _client(built.owner)
    body = client.get(reverse("evaluation-api:study-detail", args=[built.study.pk])).json()
    assert body["live"] is True and body["error"] == ""
    assert body["tables"]["human_study"]["rows"][0] == ["Clips rated", 3.0, None, None]
    assert "acceptance_by_class" in body["plots"]
    url = reverse("evaluation-api:study-table", args=[built.study.pk, "missing_labels", "csv"])
    response = client.get(url, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.content.decode().startswith("Clip,Label,Source")
    dataset = client.get(reverse("evaluation-api:study-dataset", args=[built.study.pk, "json"]))
    assert len(json.loads(dataset.content)["clips"]) == 4
    listing = client.get(reverse("evaluation-api:study-list")).json()
    assert [study["id"] for study in listing["results"]] == [built.study.pk]


# --- the error envelope ----------------------------------------------------------------------


def _assert_envelope(response, status_code: int) -> dict:
    assert response.status_code == status_code
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


def test_api_unknown_study_answers_the_error_envelope(built):
    client = _client(built.owner)
    missing = built.study.pk + 1000

    body = _assert_envelope(client.get(reverse("evaluation-api:study-detail", args=[missing])), 404)

    assert str(missing) in body["message"] and body["extra"] == {}


def test_api_unknown_table_of_a_file_endpoint_answers_the_error_envelope_in_json(built):
    client = _client(built.owner)
    url = reverse("evaluation-api:study-table", args=[built.study.pk, "no_such_table", "csv"])

    response = client.get(url, HTTP_ACCEPT="text/csv")

    assert response["Content-Type"].startswith("application/json")
    assert "no_such_table" in _assert_envelope(response, 404)["message"]


def test_api_invalid_run_ids_answer_the_field_messages_under_extra_fields(built):
    client = _client(built.owner)

    response = client.get(reverse("evaluation-api:run-compare"), {"ids": "abc"})

    body = _assert_envelope(response, 400)
    assert body["extra"]["fields"] == {"ids": ["A comma-separated list of ids (ASCII digits, each at most 2**63-1)."]}


def test_api_report_without_study_or_runs_answers_the_non_field_message(built):
    client = _client(built.owner)

    response = client.post(reverse("evaluation-api:report-list"), {}, format="json")

    body = _assert_envelope(response, 400)
    assert body["message"] == "Give either study or runs."
    assert body["extra"]["fields"] == {"non_field_errors": ["Give either study or runs."]}


# --- runs ----------------------------------------------------------------------------------------


def test_run_dashboard_and_api(built):
    runs = build_runs(owner=built.owner)
    run = runs.runs["event_heads"]
    client = _client(built.owner)
    page = client.get(reverse("evaluation:run", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Table 1" in text and "Table 3" in text and "Table 4" in text
    assert f"/evaluation/runs/{run.pk}/retarget/audio-visual.csv" in text
    retarget = client.get(f"/evaluation/runs/{run.pk}/retarget/instant.csv").content.decode()
    assert [row["clip_id"] for row in csv.DictReader(io.StringIO(retarget))] == ["v0", "v4"]
    body = client.get(reverse("evaluation-api:run-detail", args=[run.pk])).json()
    assert body["tables"]["table3"]["rows"][0][1:] == [1, 1, 1, 2, 1, 1, 1, 6]
    ids = f"{runs.runs['event_heads'].pk},{runs.runs['naive_av'].pk}"
    compare = client.get(reverse("evaluation-api:run-compare"), {"ids": ids}).json()
    assert compare["tables"]["table2"]["rows"]
    page = client.get(reverse("evaluation:compare") + f"?ids={ids}")
    assert page.status_code == 200 and "Table 2" in page.content.decode()
    tex = client.get(f"/evaluation/runs/compare/tables/table1.tex?ids={ids}")
    assert tex.status_code == 200 and b"\\toprule" in tex.content
    assert client.get(reverse("evaluation-api:run-compare"), {"ids": "x"}).status_code == 400
    other = _client(factories.make_researcher())
    assert other.get(reverse("evaluation:run", args=[run.pk])).status_code == 404
    assert other.get(reverse("evaluation-api:run-compare"), {"ids": ids}).status_code == 404


def test_run_list_shows_own_predict_runs_and_all_to_admins(built):
    runs = build_runs(owner=built.owner)
    admin = factories.UserFactory()
    admin.groups.add(Group.objects.get_or_create(name=roles.ADMIN)[0])
    own = {run.pk for run in runs.runs.values()}

    def listed(user) -> set[int]:
        return {run["id"] for run in _client(user).get(reverse("evaluation-api:run-list")).json()["results"]}

    assert listed(built.owner) == own
    assert listed(factories.make_researcher()) == set()
    assert own <= listed(admin)


def test_table_formats_are_the_exported_ones():
    assert set(exporters.TABLE_FORMATS) == {"csv", "json", "md", "tex"}
