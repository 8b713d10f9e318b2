"""A study is read as of one moment: while raters submit, evaluation and exports see every
rating with all its answers or none of them (annotator.selectors.snapshots). Outside a
transaction, as the evaluation task and the export views call it, the reads run side by
side on connections of their own; inside one they run in turn: both read the same."""

import threading
from dataclasses import fields

import numpy as np
import pytest
from django.db import connection, transaction

from annotator import models as am
from annotator.selectors import judgments as annotator_judgments
from evaluation import selectors
from tests.evaluation.builders import build_study

pytestmark = pytest.mark.django_db(transaction=True)


def _as_compared(data: selectors.StudyData) -> dict:
    out = {}
    for field in fields(data):
        value = getattr(data, field.name)
        if field.name in ("study", "labels", "clips"):
            continue
        out[field.name] = value.tolist() if isinstance(value, np.ndarray) else value
    out["counts"] = np.asarray(data.labels.counts).tolist()
    out["clip_pks"] = data.clips.pks.tolist()
    return out


def _rate_clip_a(study_pk: int, rater_pk: int) -> None:
    """Another rater's submit, committed from a connection of its own."""
    try:
        with transaction.atomic():
            study_clip = am.StudyClip.objects.get(study_id=study_pk, clip__clip_id="clip-A")
            rating = am.Rating.objects.create(study_clip=study_clip, rater_id=rater_pk, seconds_spent=5.0)
            am.Judgment.objects.bulk_create(
                am.Judgment(rating=rating, study_id=study_pk, category_id=label.category_id, answer="present")
                for label in study_clip.shown_labels.all()
            )
    finally:
        connection.close()


def test_study_data_reads_the_same_in_turn_and_side_by_side():
    built = build_study()

    side_by_side = selectors.study_data(study=built.study)
    with transaction.atomic():
        in_turn = selectors.study_data(study=built.study)

    assert _as_compared(side_by_side) == _as_compared(in_turn)
    assert len(side_by_side.rating_rater) == 12


def test_a_rating_submitted_while_a_study_is_read_is_not_half_read(monkeypatch):
    built = build_study()
    before = selectors.study_data(study=built.study)
    real_in_snapshot = annotator_judgments.in_snapshot
    snapshots = []

    def submit_then_read(snapshot, reads):
        snapshots.append(snapshot)
        worker = threading.Thread(target=_rate_clip_a, args=(built.study.pk, built.raters["r4"].pk))
        worker.start()
        worker.join()
        return real_in_snapshot(snapshot, reads)

    monkeypatch.setattr(annotator_judgments, "in_snapshot", submit_then_read)
    during = selectors.study_data(study=built.study)
    monkeypatch.undo()
    after = selectors.study_data(study=built.study)

    assert snapshots and snapshots[0] is not None  # read side by side, in a shared snapshot
    assert _as_compared(during) == _as_compared(before)  # the rating committed meanwhile: not in it
    assert len(after.rating_rater) == len(before.rating_rater) + 1
    assert len(after.judgment_item) == len(before.judgment_item) + 3
