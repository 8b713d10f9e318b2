"""The demo's model runs: one training run per model kind, the study's proposals over every
clip, held-out predictions for the tables, and the validation accuracy it prints."""

from __future__ import annotations

import pytest

from annotator.models import Clip
from modelzoo import demo
from modelzoo.models import ModelRun
from tests.builders import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world(clips_per_class=(2, 2, 2), raters=1, split="train")
    held_out = Clip.objects.filter(dataset=world.dataset).order_by("pk")[:2]
    Clip.objects.filter(pk__in=[clip.pk for clip in held_out]).update(split=demo.HELD_OUT_SPLIT)
    return world


def _finished(run: ModelRun, tmp_path) -> ModelRun:
    checkpoint = tmp_path / f"run-{run.pk}.pt"
    checkpoint.write_bytes(b"weights")
    run.status, run.checkpoint_path = ModelRun.Status.SUCCEEDED, str(checkpoint)
    run.save(update_fields=["status", "checkpoint_path"])
    return run


def test_the_demo_trains_the_event_heads_and_the_three_baselines_once_each(world):
    plan = demo.DemoPlan()
    kinds = [ModelRun.ModelKind.EVENT_HEADS, *demo.BASELINE_KINDS]
    runs = [demo.demo_training_run(dataset=world.dataset, plan=plan, owner=world.owner, model_kind=k) for k in kinds]

    assert [run.model_kind for run in runs] == kinds
    assert {(run.split, run.val_split, run.epochs, run.learning_rate) for run in runs} == {
        ("train", "val", plan.epochs, plan.learning_rate)
    }
    again = [demo.demo_training_run(dataset=world.dataset, plan=plan, owner=world.owner, model_kind=k) for k in kinds]
    assert [run.pk for run in again] == [run.pk for run in runs]  # a rerun reuses them


def test_held_out_predictions_make_no_proposals_while_the_studys_cover_every_clip(world, tmp_path):
    training = _finished(
        demo.demo_training_run(dataset=world.dataset, plan=demo.DemoPlan(), owner=world.owner), tmp_path
    )

    proposals = demo.demo_prediction_run(source_run=training, owner=world.owner)
    held_out = demo.demo_prediction_run(source_run=training, owner=world.owner, split=demo.HELD_OUT_SPLIT)

    assert (proposals.split, proposals.make_proposals, proposals.with_heatmaps) == ("", True, True)
    assert (held_out.split, held_out.make_proposals, held_out.with_heatmaps) == ("test", False, False)
    assert held_out.proposal_set_name == ""
    assert demo.demo_prediction_run(source_run=training, owner=world.owner, split="test").pk == held_out.pk


def test_the_printed_validation_accuracy_is_the_last_epochs_vote():
    run = ModelRun(metrics=[{"epoch": 1, "val": {"vote_accuracy": 0.5}}, {"epoch": 2, "val": {"vote_accuracy": 0.85}}])
    assert demo.validation_vote_accuracy(run) == 0.85
    assert demo.validation_vote_accuracy(ModelRun(metrics=[{"epoch": 1, "train_loss": 1.0}])) is None
    assert demo.validation_vote_accuracy(ModelRun(metrics=[])) is None
