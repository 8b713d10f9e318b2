"""The dataset in the files training code loads in one line: JSONL, Parquet and the
Hugging Face folder, each read back with `datasets.load_dataset`, and its card."""

import io
import json
import os
import zipfile

import pytest

# datasets reads these when imported: never reach the Hub, never write to the home folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import krippendorff  # noqa: E402
import yaml  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from annotator.models import Study  # noqa: E402
from evaluation import dataset_files, selectors, services  # noqa: E402
from tests.evaluation.builders import build_study  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    return build_study()


def _json_records(study):
    return json.loads(services.study_dataset_export(study=study, fmt="json"))["clips"]


def _load(tmp_path, *args, **kwargs):
    return datasets.load_dataset(*args, cache_dir=str(tmp_path / "hf-cache"), **kwargs)["train"]


def _card_header(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_jsonl_is_the_json_records_one_per_line(built, tmp_path):
    text = services.study_dataset_export(study=built.study, fmt="jsonl")
    records = _json_records(built.study)
    assert [json.loads(line) for line in text.splitlines()] == records
    path = tmp_path / "dataset.jsonl"
    path.write_text(text, encoding="utf-8")
    loaded = _load(tmp_path, "json", data_files=str(path))
    assert loaded["clip_id"] == [record["clip_id"] for record in records]


def test_parquet_loads_with_the_nested_labels_of_the_json(built, tmp_path):
    path = tmp_path / "dataset.parquet"
    path.write_bytes(services.study_dataset_export(study=built.study, fmt="parquet"))
    loaded = _load(tmp_path, "parquet", data_files=str(path))
    assert loaded.to_list() == _json_records(built.study)
    assert loaded.features["labels"].feature["votes"]["present"].dtype == "int32"


def test_hugging_face_folder_loads_by_its_card_and_states_the_study(built, tmp_path):
    body = services.study_dataset_export(study=built.study, fmt="hf", licence="cc-by-4.0")
    folder = tmp_path / "study-hf"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["README.md", dataset_files.HF_DATA_PATH]
        archive.extractall(folder)
    loaded = _load(tmp_path, str(folder))  # the card's `configs` names the data file
    assert loaded.to_list() == _json_records(built.study)

    card = (folder / "README.md").read_text(encoding="utf-8")
    header = _card_header(card)
    assert header["license"] == "cc-by-4.0" and header["pretty_name"] == built.study.name
    assert header["configs"][0]["data_files"][0]["path"] == dataset_files.HF_DATA_PATH
    # agreement by the reference library on the sampled clips' present / absent counts
    data = selectors.study_data(study=built.study)
    sampled = ~data.is_gold[data.labels.clip]
    alpha = krippendorff.alpha(value_counts=data.labels.counts[sampled][:, :2], level_of_measurement="nominal")
    assert f"| Krippendorff's alpha (nominal, present / absent) | {alpha:.3f} |" in card
    assert "| Raters | 3 |" in card and "| Completed ratings | 12 |" in card
    assert "| Serving | fixed: 3 raters per clip |" in card
    assert "| Confirmed labels added by raters (not proposed) | 1 |" in card  # clip-A's c5


def test_card_survives_hostile_names(built, tmp_path):
    Study.objects.filter(pk=built.study.pk).update(name='x" \n---\nlicense: mit <script>|')
    built.study.refresh_from_db()
    body = services.study_dataset_export(study=built.study, fmt="hf")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        card = archive.read("README.md").decode()
    header = _card_header(card)
    assert header["pretty_name"] == built.study.name and header["license"] == "unknown"
    body = card.split("---\n", 2)[2]  # the YAML header holds the name as a quoted string
    assert "<script>" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize("licence", ["", "MIT", "cc by", "a" * 65, "x\nlicense: mit"])
def test_a_licence_that_is_no_id_is_refused(built, licence):
    with pytest.raises(services.ApplicationError, match="not a licence id"):
        services.study_dataset_export(study=built.study, fmt="hf", licence=licence)


def test_api_serves_each_format_with_its_type_and_refuses_a_bad_licence(built):
    client = APIClient()
    client.force_authenticate(built.study.owner)
    base = f"/api/evaluation/studies/{built.study.pk}/dataset"
    types = {
        "jsonl": "application/jsonl; charset=utf-8",
        "parquet": "application/vnd.apache.parquet",
        "hf": "application/zip",
    }
    for fmt, content_type in types.items():
        response = client.get(f"{base}.{fmt}")
        assert response.status_code == 200 and response["Content-Type"] == content_type
    response = client.get(f"{base}.hf", {"licence": "cc-by-4.0"})
    assert response["Content-Disposition"] == f'attachment; filename="study-{built.study.pk}-dataset-hf.zip"'
    response = client.get(f"{base}.hf", {"licence": "<b>"})
    assert response.status_code == 400 and "not a licence id" in response.json()["message"]


def test_dataset_page_refuses_a_bad_licence(built, client):
    client.force_login(built.study.owner)
    response = client.get(f"/evaluation/studies/{built.study.pk}/dataset.hf", {"licence": "Not One"})
    assert response.status_code == 400
    assert client.get(f"/evaluation/studies/{built.study.pk}/dataset.parquet").status_code == 200


def test_export_command_writes_the_binary_formats(built, tmp_path):
    out = tmp_path / "out.zip"
    call_command("export_dataset", study=built.study.pk, out=str(out), format="hf", licence="cc-by-4.0")
    with zipfile.ZipFile(out) as archive:
        assert "license: cc-by-4.0" in archive.read("README.md").decode()
