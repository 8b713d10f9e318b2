"""A researcher's decision takes the place of the raters' vote in the study's consensus: its
tables and dataset export (every format) follow it, and the export marks the label."""

import csv
import io
import json
import zipfile

import numpy as np
import pyarrow.parquet as pq
import pytest

from annotator import services as annotator_services
from annotator.models import Judgment, StudyClip
from evaluation import exporters, metrics, selectors, services, tables
from tests.evaluation.builders import build_study

pytestmark = pytest.mark.django_db

EXACT = 1e-12


@pytest.fixture
def built():
    return build_study()


def _decide(built, key: str, category: str, decision: str, modality: str = "") -> None:
    annotator_services.label_adjudicate(
        study=built.study,
        study_clip=StudyClip.objects.select_related("clip").get(study=built.study, clip=built.clips[key]),
        category=built.categories[category],
        decision=decision,
        modality=modality,
        user=built.owner,
    )


def _vote(data, clip_id: str, category: str) -> tables.LabelVotes:
    return next(
        vote
        for vote in tables.label_votes(data)
        if data.clips.clip_ids[vote.clip] == clip_id and data.categories[vote.label] == category
    )


def _rows(study_tables, key: str) -> dict:
    return {row[0]: row for row in study_tables[key].rows}


# --- the consensus --------------------------------------------------------------------------


def test_study_data_carries_each_labels_decision(built):
    _decide(built, "A", "c1", "present", "V")
    _decide(built, "C", "c4", "absent")

    data = selectors.study_data(study=built.study)

    decided = {
        (data.clips.clip_ids[clip], data.categories[label]): (int(code), int(where))
        for clip, label, code, where in zip(
            data.labels.clip, data.labels.label, data.label_decision, data.label_decision_modality, strict=True
        )
        if code != metrics.NOT_DECIDED
    }
    assert decided == {
        ("clip-A", "c1"): (metrics.DECIDED_PRESENT, metrics.MODALITIES.index("V")),
        ("clip-C", "c4"): (metrics.DECIDED_ABSENT, -1),
    }


def test_a_decision_overrides_the_vote_both_ways(built):
    before = selectors.study_data(study=built.study)
    assert not _vote(before, "clip-A", "c1").confirmed  # 1 present, 1 absent: a tie
    assert _vote(before, "clip-C", "c4").confirmed  # 2 present, 1 unsure

    _decide(built, "A", "c1", "present", "V")
    _decide(built, "C", "c4", "absent")
    data = selectors.study_data(study=built.study)

    tie, clear = _vote(data, "clip-A", "c1"), _vote(data, "clip-C", "c4")
    assert (tie.confirmed, tie.adjudicated, tie.modality) == (True, True, "V")
    assert (clear.confirmed, clear.adjudicated) == (False, True)
    assert (tie.present, tie.absent, tie.unsure) == (1, 1, 1)  # the votes stay as cast
    assert not _vote(data, "clip-A", "c0").adjudicated


def test_a_present_decision_without_a_modality_keeps_the_votes_modality(built):
    Judgment.objects.filter(rating__study_clip__clip=built.clips["A"], category=built.categories["c1"]).filter(
        answer="present"
    ).update(modality="A")
    _decide(built, "A", "c1", "present")

    assert _vote(selectors.study_data(study=built.study), "clip-A", "c1").modality == "A"


def test_clearing_a_decision_gives_the_label_back_to_its_vote(built):
    _decide(built, "A", "c1", "present")
    annotator_services.adjudication_clear(
        study=built.study,
        study_clip=StudyClip.objects.select_related("clip").get(study=built.study, clip=built.clips["A"]),
        category=built.categories["c1"],
        user=built.owner,
    )

    vote = _vote(selectors.study_data(study=built.study), "clip-A", "c1")
    assert (vote.confirmed, vote.adjudicated) == (False, False)


# --- the tables -----------------------------------------------------------------------------


def test_the_human_study_table_counts_an_adjudicated_proposal_as_decided(built):
    before = _rows(services.study_evaluate(study=built.study, n_boot=50, seed=3).tables, "human_study")
    _decide(built, "A", "c1", "present")  # the tie among 5 sampled proposals, 3 confirmed

    after = services.study_evaluate(study=built.study, n_boot=50, seed=3).tables

    rows = _rows(after, "human_study")
    assert before["Proposals confirmed (%)"][1] == pytest.approx(60.0, abs=EXACT)
    assert rows["Proposals confirmed (%)"][1] == pytest.approx(80.0, abs=EXACT)
    assert rows["Correct labels per clip"][1] == pytest.approx(4 / 3, abs=EXACT)
    assert rows["Fleiss' kappa"][1] == pytest.approx(before["Fleiss' kappa"][1], abs=EXACT)  # the raters' own
    assert any("1 labels were adjudicated" in note for note in after["human_study"].notes)
    by_label = _rows(after, "agreement_by_label")
    assert by_label["c1"][2] == pytest.approx(1.0, abs=EXACT)  # A c1 (now decided present); D c1 is gold


def test_the_missing_labels_table_follows_the_decisions(built):
    _decide(built, "A", "c1", "present")  # not an original label of clip A
    _decide(built, "A", "c5", "absent")  # the added label the raters confirmed

    rows = services.study_evaluate(study=built.study, n_boot=50, seed=3).tables["missing_labels"].rows

    listed = {(row[0], row[1]) for row in rows}
    assert ("clip-A", "c1") in listed
    assert ("clip-A", "c5") not in listed


def test_the_modality_table_counts_the_modality_the_decision_gave(built):
    _decide(built, "A", "c1", "present", "V")

    data = selectors.study_data(study=built.study)
    table = tables.study_tables(data, n_boot=20)["modality_by_label"]

    every = {row[0]: row for row in table.rows}["All labels"]
    assert every[3:6] == (0.0, 1.0, 0.0)  # the one label with a modality: seen only


def test_study_items_keep_their_decisions_when_subset(built):
    _decide(built, "A", "c1", "present")
    data = selectors.study_data(study=built.study)

    sample = data.sample_items()

    assert sample.decision is not None and int((sample.decision == metrics.DECIDED_PRESENT).sum()) == 1
    assert sample.confirmed().sum() == metrics.majority_confirmed(sample.counts).sum() + 1


# --- the dataset export ---------------------------------------------------------------------


def _labels_of(records, clip_id: str) -> dict:
    record = next(record for record in records if record["clip_id"] == clip_id)
    return {label["label"]: label for label in record["labels"]}


def test_the_dataset_records_mark_adjudicated_labels(built):
    _decide(built, "A", "c1", "present", "AV")
    _decide(built, "A", "c0", "absent")

    data = selectors.study_data(study=built.study)
    confirmed = _labels_of(exporters.study_dataset_records(data), "clip-A")
    every = _labels_of(exporters.study_dataset_records(data, include_rejected=True), "clip-A")

    assert set(confirmed) == {"c1", "c5"}  # c0 (3 present) decided absent; c1 (a tie) decided present
    assert confirmed["c1"]["adjudicated"] is True and confirmed["c1"]["modality"] == "AV"
    assert confirmed["c5"]["adjudicated"] is False
    assert every["c0"]["confirmed"] is False and every["c0"]["adjudicated"] is True
    assert every["c0"]["votes"] == {"present": 3, "absent": 0, "unsure": 0}


def test_every_dataset_format_marks_the_adjudicated_label(built):
    _decide(built, "A", "c1", "present", "V")
    export = services.study_dataset_export

    rows = list(csv.DictReader(io.StringIO(export(study=built.study, fmt="csv"))))
    row = next(row for row in rows if (row["clip_id"], row["label"]) == ("clip-A", "c1"))
    assert (row["confirmed"], row["adjudicated"], row["modality"]) == ("1", "1", "V")
    assert {row["adjudicated"] for row in rows if row["label"] != "c1" or row["clip_id"] != "clip-A"} <= {"0", ""}

    document = json.loads(export(study=built.study, fmt="json"))
    assert _labels_of(document["clips"], "clip-A")["c1"]["adjudicated"] is True
    assert "adjudicated" in document["rule"]

    lines = [json.loads(line) for line in export(study=built.study, fmt="jsonl").splitlines()]
    assert _labels_of(lines, "clip-A")["c1"]["adjudicated"] is True

    parquet = pq.read_table(io.BytesIO(export(study=built.study, fmt="parquet"))).to_pylist()
    assert _labels_of(parquet, "clip-A")["c1"]["adjudicated"] is True
    assert _labels_of(parquet, "clip-A")["c5"]["adjudicated"] is False


def test_the_hugging_face_card_counts_the_adjudicated_labels(built):
    _decide(built, "A", "c1", "present")
    archive = zipfile.ZipFile(io.BytesIO(services.study_dataset_export(study=built.study, fmt="hf")))

    card = archive.read("README.md").decode()
    assert "| Labels adjudicated by the researcher | 1 |" in card
    assert "`adjudicated`" in card


# --- the rules, as plain arrays -------------------------------------------------------------


def test_decided_takes_each_decision_over_the_vote():
    confirmed = np.array([True, True, False, False])
    decision = np.array([metrics.NOT_DECIDED, metrics.DECIDED_ABSENT, metrics.DECIDED_PRESENT, metrics.NOT_DECIDED])

    assert metrics.decided(confirmed, decision).tolist() == [True, False, True, False]
    with pytest.raises(ValueError):
        metrics.decided(confirmed, decision[:3])


def test_decided_modality_takes_a_present_decisions_modality():
    consensus = np.array([0, 1, -1, 2])
    decision = np.array([metrics.DECIDED_PRESENT, metrics.DECIDED_PRESENT, metrics.DECIDED_PRESENT, -1])
    modality = np.array([2, -1, 1, 0])

    assert metrics.decided_modality(consensus, decision, modality).tolist() == [2, 1, 1, 2]
