"""A rater removed with their ratings excluded leaves the consensus, the tables and the
dataset export; removed with their ratings kept, nothing changes."""

import json

import pytest

from annotator import services as annotator_services
from evaluation import selectors, services
from tests.evaluation.builders import build_study

pytestmark = pytest.mark.django_db


def _labels(study, *, include_rejected: bool = True) -> dict[tuple[str, str], dict]:
    """The export's labels by (clip, label): every shown or added one, or the consensus only."""
    payload = json.loads(services.study_dataset_export(study=study, fmt="json", include_rejected=include_rejected))
    return {(clip["clip_id"], label["label"]): label for clip in payload["clips"] for label in clip["labels"]}


def test_excluded_ratings_leave_the_tables_and_the_export():
    built = build_study()
    before = _labels(built.study)
    assert before["clip-A", "c5"]["votes"]["present"] == 2  # added by r1 and r2
    assert ("clip-A", "c5") in _labels(built.study, include_rejected=False)
    # When r1 is removed with their ratings excluded
    annotator_services.rater_remove(
        study=built.study, rater=built.raters["r1"], actor=built.owner, exclude_ratings=True
    )
    data = selectors.study_data(study=built.study)
    # Then the study is read as if r1 had never rated
    assert data.n_raters == 2
    assert built.raters["r1"].pk not in data.rater_pks
    assert data.items.counts.sum() == 30 - 10  # r1's ten answers on shown labels are gone
    after = _labels(built.study)
    assert after["clip-A", "c0"]["votes"] == {"present": 2, "absent": 0, "unsure": 0}
    assert after["clip-A", "c5"]["votes"]["present"] == 1
    assert ("clip-A", "c5") not in _labels(built.study, include_rejected=False)  # one vote of two: out
    rows = {
        row[0] for row in services.study_evaluate(study=built.study, n_boot=50, seed=1).tables["rater_quality"].rows
    }
    assert built.raters["r1"].username not in rows
    assert built.raters["r2"].username in rows


def test_ratings_kept_on_removal_stay_in_the_consensus():
    built = build_study()
    before = _labels(built.study)
    annotator_services.rater_remove(
        study=built.study, rater=built.raters["r1"], actor=built.owner, exclude_ratings=False
    )
    assert _labels(built.study) == before
    assert selectors.study_data(study=built.study).n_raters == 3
