"""Proposal sets: CSV and JSON files, and proposal_set_store as modelzoo calls it."""

import json
import logging
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from annotator.importers.proposal_files import proposals_import
from annotator.importers.proposals import EvidenceRow, ProposalRow, proposal_set_store
from annotator.importers.report import ImportInputError
from annotator.models import ClipEvidence, Proposal, ProposalSet
from tests.factories import CategoryFactory, ClipFactory, DatasetFactory, TaxonomyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    taxonomy = TaxonomyFactory(name="animals")
    for index, name in enumerate(["dog barking", "cat meowing", "bird chirping, tweeting"]):
        CategoryFactory(taxonomy=taxonomy, name=name, index=index)
    dataset = DatasetFactory(name="pets", taxonomy=taxonomy)
    for clip_id in ["c1", "c2", "c3"]:
        ClipFactory(dataset=dataset, clip_id=clip_id)
    return dataset


def stored(name="props"):
    return sorted(
        (p.clip.clip_id, p.category.name, p.score, p.heads)
        for p in Proposal.objects.filter(proposal_set__name=name).select_related("clip", "category")
    )


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_proposals_land_with_scores_and_heads_and_bad_rows_by_line(dataset, tmp_path):
    path = write(
        tmp_path,
        "props.csv",
        "clip_id,label,score,heads\n"
        "c1,dog barking,0.9,continuous;audio\n"
        'c1,"bird chirping, tweeting",,\n'
        "c2,cat meowing,0.25,instant\n"
        "c9,cat meowing,0.5,\n"
        "c2,unicorn,0.5,\n"
        "c3,dog barking,high,\n"
        "c2,cat meowing,0.3,\n",
    )

    report = proposals_import(dataset=dataset, name="props", path=path)

    assert stored() == [
        ("c1", "bird chirping, tweeting", None, []),
        ("c1", "dog barking", 0.9, ["continuous", "audio"]),
        ("c2", "cat meowing", 0.25, ["instant"]),
    ]
    assert [(error.line, error.message) for error in report.errors] == [
        (5, "unknown clip 'c9' (not in dataset 'pets')"),
        (6, "unknown label 'unicorn' (not in the dataset's taxonomy)"),
        (7, "score 'high' is not a number"),
        (8, "clip 'c2' already has label 'cat meowing' (first on line 4)"),
    ]
    proposal_set = ProposalSet.objects.get(dataset=dataset, name="props")
    assert (proposal_set.source, proposal_set.source_ref) == ("file", str(path))


def test_json_proposals_with_evidence_and_errors_at_the_item_line(dataset, tmp_path):
    items = [
        {
            "clip_id": "c1",
            "labels": [{"label": "dog barking", "score": 0.8, "heads": ["visual"]}, {"label": "cat meowing"}],
            "event_type": "continuous",
            "instant_seconds": [3],
            "onset_seconds": [1.0, 6.5],
        },
        {"clip_id": "c2", "labels": [{"label": "cat meowing", "score": "high"}]},
        {"clip_id": "c3", "labels": [{"label": "bird chirping, tweeting", "score": None, "heads": []}]},
    ]
    path = write(tmp_path, "props.json", "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n")

    report = proposals_import(dataset=dataset, name="props", path=path)

    assert stored() == [
        ("c1", "cat meowing", None, []),
        ("c1", "dog barking", 0.8, ["visual"]),
        ("c3", "bird chirping, tweeting", None, []),
    ]
    assert [(error.line, error.message) for error in report.errors] == [
        (3, "clip 'c2', label 1: score 'high' is not a finite number")
    ]
    evidence = ClipEvidence.objects.get(proposal_set__name="props")
    assert (evidence.clip.clip_id, evidence.event_type) == ("c1", "continuous")
    assert (evidence.instant_seconds, evidence.onset_seconds) == ([3.0], [1.0, 6.5])


def test_rerun_replaces_the_set_and_counts_changes(dataset, tmp_path):
    path = write(
        tmp_path, "props.csv", "clip_id,label,score\nc1,dog barking,0.9\nc2,cat meowing,0.2\nc3,dog barking,1\n"
    )
    proposals_import(dataset=dataset, name="props", path=path)
    again = proposals_import(dataset=dataset, name="props", path=path)
    path.write_text("clip_id,label,score\nc1,dog barking,0.9\nc2,cat meowing,0.7\nc3,cat meowing,0.1\n")

    replaced = proposals_import(dataset=dataset, name="props", path=path)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (replaced.created, replaced.updated, replaced.unchanged, replaced.extra["deleted"]) == (1, 1, 1, 1)
    assert stored() == [("c1", "dog barking", 0.9, []), ("c2", "cat meowing", 0.7, []), ("c3", "cat meowing", 0.1, [])]
    assert ProposalSet.objects.filter(name="props").count() == 1


def test_store_from_code_accepts_numpy_scores_and_reports_rows_by_position(dataset):
    # given rows as a model run produces them
    proposals = [
        ProposalRow("c1", "dog barking", np.float32(0.75), ("continuous", "onset")),
        ProposalRow("c2", "cat meowing", float("nan")),
        ProposalRow("c2", "dog barking", 0.5, ("visual",)),
    ]
    evidence = [EvidenceRow("c1", "instant", (2.0,), (), "heatmaps/c1.png"), EvidenceRow("c7", "instant")]

    report = proposal_set_store(
        dataset=dataset, name="run-3", source="model", source_ref="model-run:3", proposals=proposals, evidence=evidence
    )

    assert stored("run-3") == [
        ("c1", "dog barking", 0.75, ["continuous", "onset"]),
        ("c2", "dog barking", 0.5, ["visual"]),
    ]
    assert [(error.line, error.message) for error in report.errors] == [
        (2, "score nan is not a finite number"),
        (2, "evidence for unknown clip 'c7' (not in dataset 'pets')"),
    ]
    assert report.extra["evidence_created"] == 1
    assert ClipEvidence.objects.get(proposal_set__name="run-3").heatmap_path == "heatmaps/c1.png"
    assert ProposalSet.objects.get(name="run-3").source == "model"


def test_storing_again_without_evidence_removes_the_old_evidence(dataset):
    rows = [ProposalRow("c1", "dog barking", 0.5)]
    proposal_set_store(
        dataset=dataset, name="run", source="model", proposals=rows, evidence=[EvidenceRow("c1", "continuous")]
    )

    report = proposal_set_store(dataset=dataset, name="run", source="model", proposals=rows)

    assert report.extra["evidence_deleted"] == 1
    assert not ClipEvidence.objects.exists()


def test_unusable_proposal_input_leaves_the_stored_set_untouched(dataset, tmp_path):
    good = write(tmp_path, "good.csv", "clip_id,label\nc1,dog barking\n")
    proposals_import(dataset=dataset, name="props", path=good)

    with pytest.raises(ImportInputError, match="no usable proposal"):
        proposals_import(dataset=dataset, name="props", path=write(tmp_path, "bad.csv", "clip_id,label\nc9,dog\n"))
    with pytest.raises(ImportInputError, match="invalid JSON at line 3"):
        proposals_import(
            dataset=dataset, name="props", path=write(tmp_path, "bad.json", '[\n{"clip_id": "c1"},\n{oops}\n]')
        )
    with pytest.raises(ImportInputError, match="holds a list"):
        proposals_import(dataset=dataset, name="props", path=write(tmp_path, "obj.json", '{"clip_id": "c1"}'))
    with pytest.raises(ImportInputError, match="lacks the column"):
        proposals_import(dataset=dataset, name="props", path=write(tmp_path, "hdr.csv", "clip,label\nc1,dog barking\n"))
    with pytest.raises(ImportInputError, match="unknown proposal source"):
        proposal_set_store(dataset=dataset, name="props", source="oracle", proposals=[])

    assert stored() == [("c1", "dog barking", None, [])]


def test_scores_outside_zero_to_one_are_refused_with_their_row(dataset, tmp_path):
    # given a CSV, a JSON file and rows from code with scores above 1 and below 0
    csv_path = write(
        tmp_path, "props.csv", "clip_id,label,score\nc1,dog barking,1.5\nc2,cat meowing,-0.2\nc3,dog barking,1\n"
    )
    item = {"clip_id": "c1", "labels": [{"label": "cat meowing", "score": 0}, {"label": "dog barking", "score": 7}]}
    json_path = write(tmp_path, "props.json", "[\n" + json.dumps(item) + "\n]\n")

    from_csv = proposals_import(dataset=dataset, name="csv", path=csv_path)
    from_json = proposals_import(dataset=dataset, name="json", path=json_path)
    rows = [ProposalRow("c1", "dog barking", np.float32(1.25)), ProposalRow("c2", "dog barking", 0.5)]
    from_code = proposal_set_store(dataset=dataset, name="run", source="model", proposals=rows)

    # then each is reported at its line (or position) and only scores in [0, 1] are stored
    assert [(error.line, error.message) for error in from_csv.errors] == [
        (2, "score 1.5 is outside [0, 1]"),
        (3, "score -0.2 is outside [0, 1]"),
    ]
    assert [(error.line, error.message) for error in from_json.errors] == [(2, "score 7 is outside [0, 1]")]
    assert [(error.line, error.message) for error in from_code.errors] == [(1, "score 1.25 is outside [0, 1]")]
    assert stored("csv") == [("c3", "dog barking", 1.0, [])]
    assert stored("json") == [("c1", "cat meowing", 0.0, [])]
    assert stored("run") == [("c2", "dog barking", 0.5, [])]


def test_import_report_its_log_line_and_the_command_count_the_same_errors(dataset, tmp_path, caplog):
    # given three rows the reader refuses (columns, score) and two the store refuses (clip, label)
    path = write(
        tmp_path,
        "props.csv",
        "clip_id,label,score\n"
        "c1,dog barking,0.5\n"
        "c1,too,many,columns\n"
        "c2,cat meowing,high\n"
        "c3,dog barking,\n"
        "c3,cat meowing,nan\n"
        "c9,dog barking,0.1\n"
        "c2,unicorn,0.1\n",
    )
    out = StringIO()

    with caplog.at_level(logging.INFO, logger="annotator.importers.proposals"):
        call_command("import_proposals", "--dataset", "pets", "--name", "props", "--file", str(path), stdout=out)

    logged = [record.getMessage() for record in caplog.records if record.name == "annotator.importers.proposals"]
    assert len(logged) == 1 and logged[0].endswith("2 created, 0 updated, 0 unchanged, 5 row errors")
    printed = out.getvalue().splitlines()
    assert printed[0] == "proposal set props of pets: 2 created, 0 updated, 0 unchanged, 5 row errors"
    assert len([line for line in printed if line.startswith("  line ")]) == 5
