"""Proposal sets: CSV and JSON files, and proposal_set_store as modelzoo calls it."""

import json

import numpy as np
import pytest

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
