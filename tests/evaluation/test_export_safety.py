"""Exports open safely: in every CSV a text cell a spreadsheet would run as a formula
(=, +, -, @, tab, CR first) starts with a quote, numbers stay numbers; in every Markdown
export raw HTML is escaped."""

import csv
import io
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from annotator.models import Category, Dataset
from evaluation import exporters, services
from evaluation.tables import Column, Table
from tests.evaluation.builders import build_runs, build_study

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x")', "@SUM(1)", "+1", "-1+1"]
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def artifacts_dir(tmp_path, settings):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"


def _rename_categories(categories, names) -> None:
    for category, name in zip(categories, names, strict=False):
        Category.objects.filter(pk=category.pk).update(name=name)


@pytest.fixture
def study():
    """The known study with categories c0..c3 and raters r1..r3 named as formulas."""
    built = build_study()
    _rename_categories([built.categories[f"c{i}"] for i in range(4)], FORMULAS)
    for key, name in zip(("r1", "r2", "r3"), FORMULAS, strict=False):
        get_user_model().objects.filter(pk=built.raters[key].pk).update(username=name)
    return built


@pytest.fixture
def runs():
    """The known predict runs with categories k0..k3 named as formulas, on a dataset so named."""
    built = build_runs()
    _rename_categories(Category.objects.filter(taxonomy=built.dataset.taxonomy).order_by("index"), FORMULAS)
    Dataset.objects.filter(pk=built.dataset.pk).update(name=FORMULAS[1])
    return built


def _get(user, url: str) -> str:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.content.decode()


def _cells(text: str) -> set[str]:
    return {cell for row in csv.reader(io.StringIO(text)) for cell in row}


def _assert_neutralised(text: str, names=FORMULAS) -> None:
    cells = _cells(text)
    for name in names:
        assert "'" + name in cells
        assert name not in cells


def test_study_table_csvs_neutralise_category_and_rater_names_and_keep_negative_numbers(study):
    base = f"/api/evaluation/studies/{study.study.pk}/tables/"

    by_label = _get(study.owner, base + "agreement_by_label.csv")
    raters = _get(study.owner, base + "rater_quality.csv")

    _assert_neutralised(by_label)
    _assert_neutralised(raters, FORMULAS[:3])
    assert "-1.0" in _cells(by_label)  # c1's Fleiss' kappa: a number, not text to neutralise


def test_study_dataset_csv_neutralises_labels(study):
    text = _get(study.owner, f"/api/evaluation/studies/{study.study.pk}/dataset.csv?all=1")

    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["label"] for row in rows} >= {"'" + name for name in FORMULAS}
    assert {row["original_labels"] for row in rows} >= {"'" + FORMULAS[0], "'" + FORMULAS[2]}


def test_run_table_and_retarget_csvs_neutralise_category_and_dataset_names(runs):
    run = runs.runs["event_heads"]
    base = f"/api/evaluation/runs/{run.pk}/"

    types = _get(runs.owner, base + "tables/category_event_types.csv")
    table1 = _get(runs.owner, base + "tables/table1.csv")
    retarget = _get(runs.owner, base + "retarget/instant.csv")

    _assert_neutralised(types)
    assert "'@SUM(1) (test)" in _cells(table1)
    assert {row["original_labels"] for row in csv.DictReader(io.StringIO(retarget))} == {"'" + FORMULAS[0]}


def test_report_files_neutralise_csv_and_escape_markdown(study):
    Category.objects.filter(pk=study.categories["c5"].pk).update(name=SCRIPT)
    with mock.patch("evaluation.tasks.evaluation_compute.delay"):
        report = services.report_create(created_by=study.owner, study=study.study, n_boot=10)
    report = services.report_compute(report_id=report.pk)

    def artifact(name: str) -> str:
        return services.report_artifact_path(report=report, name=name).read_text(encoding="utf-8")

    _assert_neutralised(artifact("agreement_by_label.csv"))
    _assert_neutralised(artifact("dataset.csv"), FORMULAS[:3])  # c3 (-1+1) is rejected: not listed
    markdown = artifact("missing_labels.md")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown and "<script>" not in markdown


def test_study_and_run_markdown_tables_escape_raw_html(study, runs):
    Category.objects.filter(pk=study.categories["c0"].pk).update(name=SCRIPT)
    Category.objects.filter(taxonomy=runs.dataset.taxonomy, index=0).update(name=SCRIPT)
    run = runs.runs["event_heads"]

    for markdown in (
        _get(study.owner, f"/api/evaluation/studies/{study.study.pk}/tables/agreement_by_label.md"),
        _get(runs.owner, f"/api/evaluation/runs/{run.pk}/tables/category_event_types.md"),
    ):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
        assert "<script>" not in markdown


# --- the one cell rule (exporters.csv_cell) -----------------------------------------------------


@pytest.mark.parametrize("text", [*FORMULAS, "\tx", "\rx", "-0.25"])
def test_text_cells_that_a_spreadsheet_would_run_get_a_quote(text):
    assert exporters.csv_cell(text) == "'" + text


@pytest.mark.parametrize("value, cell", [(-0.25, "-0.25"), (-3, "-3"), (0.1 + 0.2, "0.30000000000000004"), (None, "")])
def test_numbers_stay_numbers(value, cell):
    assert exporters.csv_cell(value) == cell


def test_a_table_csv_reads_back_exactly_quotes_included():
    texts = [*FORMULAS, "'=already quoted", "plain", "'quoted but harmless"]
    table = Table(
        key="k",
        title="t",
        columns=(Column("name"), Column("value", "float")),
        rows=[(text, -0.25) for text in texts],
    )

    text = exporters.table_to_csv(table)
    back = exporters.table_from_csv(text, key="k", title="t", columns=table.columns)

    assert back.rows == table.rows
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(text)) for cell in row[:1])
