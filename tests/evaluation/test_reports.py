"""Background evaluations (the evaluation.compute task's service) and the export commands."""

import json
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import NotFoundError
from evaluation import services
from evaluation.models import EvaluationReport
from tests.evaluation.builders import build_runs, build_study

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def artifacts_dir(tmp_path, settings):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    return settings.ARTIFACTS_DIR


def test_report_create_enqueues_after_commit(django_capture_on_commit_callbacks):
    built = build_study()
    with (
        mock.patch("evaluation.tasks.evaluation_compute.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        report = services.report_create(created_by=built.owner, study=built.study, n_boot=100)
    assert len(callbacks) == 1
    delay.assert_called_once_with(report.pk)
    assert report.status == EvaluationReport.Status.QUEUED


def test_report_compute_writes_tables_files_and_is_idempotent():
    built = build_study()
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        report = services.report_create(created_by=built.owner, study=built.study, n_boot=100, seed=1)
    done = services.report_compute(report_id=report.pk, task_id="t-1")
    assert done.status == EvaluationReport.Status.SUCCEEDED and done.progress == 1.0
    assert set(done.result["tables"]) >= {"human_study", "rater_quality", "missing_labels"}
    for name in ("human_study.csv", "human_study.tex", "rater_quality.md", "cardinality.png", "dataset.json"):
        assert services.report_artifact_path(report=done, name=name).is_file()
    live = services.study_evaluate(study=built.study, n_boot=100, seed=1)
    assert done.result["tables"]["human_study"] == live.tables["human_study"].to_dict()
    finished_at = done.finished_at
    again = services.report_compute(report_id=report.pk, task_id="t-2")  # redelivered task
    assert again.finished_at == finished_at and again.task_id == "t-1"
    with pytest.raises(NotFoundError):
        services.report_artifact_path(report=done, name="../../etc/passwd")


def test_report_of_a_study_without_ratings_fails_cleanly():
    from annotator.models import Rating

    built = build_study()
    Rating.objects.filter(study_clip__study=built.study).delete()
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        report = services.report_create(created_by=built.owner, study=built.study)
    failed = services.report_compute(report_id=report.pk)
    assert failed.status == EvaluationReport.Status.FAILED
    assert "No sampled clip" in failed.error


def test_big_study_page_uses_the_newest_report(monkeypatch):
    built = build_study()
    monkeypatch.setattr(services, "SYNC_LIMIT", 5)
    current = services.study_current(study=built.study)
    assert current.evaluation is None and not current.live
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        report = services.report_create(created_by=built.owner, study=built.study, n_boot=50)
    services.report_compute(report_id=report.pk)
    current = services.study_current(study=built.study)
    assert current.report.pk == report.pk and current.evaluation is not None
    client = APIClient()
    client.force_login(built.owner)
    page = client.get(f"/evaluation/studies/{built.study.pk}/")
    assert f"background evaluation #{report.pk}" in page.content.decode()


def test_api_queues_and_reports_progress(django_capture_on_commit_callbacks):
    built = build_study()
    client = APIClient()
    client.force_login(built.owner)
    with (
        mock.patch("evaluation.tasks.evaluation_compute.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("evaluation-api:report-list"), {"study": built.study.pk, "n_boot": 50})
    assert response.status_code == 202
    report_id = response.json()["id"]
    delay.assert_called_once_with(report_id)
    assert client.get(reverse("evaluation-api:report-detail", args=[report_id])).json()["status"] == "queued"
    services.report_compute(report_id=report_id)
    body = client.get(reverse("evaluation-api:report-detail", args=[report_id])).json()
    assert body["status"] == "succeeded" and "human_study" in body["result"]["tables"]
    file = client.get(reverse("evaluation-api:report-file", args=[report_id, "human_study.csv"]))
    assert file.status_code == 200 and file.content.startswith(b"Measure,")
    bad = client.post(reverse("evaluation-api:report-list"), {"n_boot": 50}, format="json")
    assert bad.status_code == 400
    page = client.get(reverse("evaluation:report", args=[report_id]))
    assert page.status_code == 200 and b"human_study.csv" in page.content


def test_dashboard_compute_button_queues_a_report():
    built = build_study()
    client = APIClient()
    client.force_login(built.owner)
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        response = client.post(f"/evaluation/studies/{built.study.pk}/compute/")
    report = EvaluationReport.objects.get(study=built.study)
    assert response.status_code == 302 and response["Location"] == f"/evaluation/reports/{report.pk}/"


def test_export_tables_command_for_a_study(tmp_path):
    built = build_study()
    out = tmp_path / "tables"
    call_command(
        "export_tables",
        "--study",
        str(built.study.pk),
        "--out",
        str(out),
        "--formats",
        "csv,tex",
        "--plots",
        "svg",
        "--boot",
        "50",
    )
    names = {path.name for path in out.iterdir()}
    assert {"human_study.csv", "human_study.tex", "rater_quality.csv", "cardinality.svg"} <= names
    assert not any(name.endswith(".json") for name in names)


def test_export_tables_command_for_runs(tmp_path):
    runs = build_runs()
    ids = [str(runs.runs[kind].pk) for kind in ("audio_only", "vision_only", "naive_av", "event_heads")]
    call_command("export_tables", "--runs", *ids, "--out", str(tmp_path), "--formats", "json")
    table1 = json.loads((tmp_path / "table1.json").read_text())
    assert table1["rows"][0][1:] == pytest.approx([2 / 6, 3 / 6, 4 / 6, 3 / 6])
    with pytest.raises(CommandError, match="not found"):
        call_command("export_tables", "--runs", "999999", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="Unknown table formats"):
        call_command("export_tables", "--runs", *ids, "--out", str(tmp_path), "--formats", "docx")


def test_export_dataset_command(tmp_path):
    built = build_study()
    out = tmp_path / "dataset.json"
    call_command("export_dataset", "--study", str(built.study.pk), "--out", str(out), "--format", "json")
    assert len(json.loads(out.read_text())["clips"]) == 4
    runs = build_runs()
    out_csv = tmp_path / "av.csv"
    call_command(
        "export_dataset", "--run", str(runs.runs["event_heads"].pk), "--target", "audio-visual", "--out", str(out_csv)
    )
    assert out_csv.read_text().count("\n") == 5  # header + 4 clips
    with pytest.raises(CommandError, match="not found"):
        call_command("export_dataset", "--study", "999999", "--out", str(out))
