"""Prediction runs: planning in chunks, idempotent chunks, finalising into proposals."""

from unittest import mock

import pytest

from annotator.media_serving import dataset_media_root
from annotator.models import Clip, ClipEvidence, Proposal, ProposalSet
from config.errors import ApplicationError
from modelzoo import inference, selectors, services, tasks
from modelzoo.models import ModelRun, Prediction
from modelzoo.nn import infer
from tests.factories import DatasetFactory


def _start(trained_run, **overrides) -> ModelRun:
    arguments = {"source_run": trained_run, "chunk_size": 5, "proposal_set_name": "tiny proposals"}
    return services.model_run_start_prediction(**(arguments | overrides))


def test_start_prediction_enqueues_after_commit(trained_run, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(tasks.model_run_predict, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = _start(trained_run)
    delay.assert_called_once_with(run.pk)
    assert (run.kind, run.status, run.source_run, run.dataset) == (
        "predict",
        "queued",
        trained_run,
        trained_run.dataset,
    )
    assert run.items_total == 12 and run.make_proposals


def test_start_prediction_refuses_an_unfinished_model(trained_run):
    trained_run.status = ModelRun.Status.RUNNING
    trained_run.save()
    with pytest.raises(ApplicationError, match="not a finished training run"):
        _start(trained_run)
    assert not ModelRun.objects.filter(kind="predict").exists()


def test_start_prediction_refuses_a_dataset_of_another_taxonomy(trained_run):
    with pytest.raises(ApplicationError, match="taxonomy"):
        _start(trained_run, dataset=DatasetFactory())


def test_start_prediction_refuses_unknown_clip_ids(trained_run):
    with pytest.raises(ApplicationError, match="not in synthetic: nope"):
        _start(trained_run, clip_ids=["syn5_00000", "nope"])


def test_the_plan_splits_remaining_clips_into_chunks(trained_run):
    run = _start(trained_run)
    chunks = inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    assert [len(chunk) for chunk in chunks] == [5, 5, 2]
    assert sorted(pk for chunk in chunks for pk in chunk) == sorted(
        Clip.objects.filter(dataset=run.dataset).values_list("pk", flat=True)
    )
    assert inference.model_run_predict_plan(run_id=run.pk, task_id="another task") is None


def test_the_predict_task_fans_chunks_out_as_a_group(trained_run):
    run = _start(trained_run)
    with mock.patch.object(tasks, "group") as group:
        tasks.model_run_predict.apply(args=[run.pk], task_id="plan")
    signatures = list(group.call_args.args[0])
    assert [sig.task for sig in signatures] == ["modelzoo.predict_chunk"] * 3
    assert [len(sig.args[1]) for sig in signatures] == [5, 5, 2]
    group.return_value.apply_async.assert_called_once_with()


def test_chunks_store_predictions_skip_done_clips_and_the_last_one_finalises(trained_run, settings):
    run = _start(trained_run, chunk_size=8)
    chunks = inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    assert inference.model_run_predict_chunk(run_id=run.pk, clip_pks=chunks[0]) is False
    assert Prediction.objects.filter(run=run).count() == 8
    with mock.patch.object(inference.infer, "predict", wraps=infer.predict) as predict:
        # A redelivered first chunk predicts nothing again; the second completes the run.
        assert inference.model_run_predict_chunk(run_id=run.pk, clip_pks=chunks[0]) is False
        assert inference.model_run_predict_chunk(run_id=run.pk, clip_pks=chunks[1]) is True
    assert [len(call.kwargs["items"]) for call in predict.call_args_list] == [4]

    finished = inference.model_run_predict_finalize(run_id=run.pk, task_id="final")
    assert inference.model_run_predict_finalize(run_id=run.pk, task_id="other finaliser") is None
    assert finished.status == "succeeded" and finished.progress == 1.0
    assert finished.proposal_set.name == "tiny proposals"

    predictions = list(selectors.run_predictions(run=finished))
    assert len(predictions) == 12 and not any(p.error for p in predictions)
    for prediction in predictions:
        assert set(prediction.heads) == {"continuous", "instant", "onset", "visual", "audio"}
        assert all(len(head["top5"]) == 3 for head in prediction.heads.values())  # 3 classes
        assert prediction.vote_index in range(3) and 1 <= len(prediction.union_indices) <= 3
        assert prediction.event_type in prediction.heads  # every synthetic clip is labelled
        assert (settings.MEDIA_ROOT / prediction.heatmap_path).is_file()

    proposals = Proposal.objects.filter(proposal_set=finished.proposal_set)
    assert proposals.count() == sum(len(p.union_indices) for p in predictions)
    assert all(proposal.heads and 0 < proposal.score <= 1 for proposal in proposals)
    evidence = ClipEvidence.objects.filter(proposal_set=finished.proposal_set)
    assert evidence.count() == 12
    assert all(e.heatmap_path.startswith(f"heatmaps/run-{run.pk}/") for e in evidence)


def test_a_cancelled_prediction_run_stops_at_the_next_chunk(trained_run):
    run = _start(trained_run)
    chunks = inference.model_run_predict_plan(run_id=run.pk, task_id="plan")
    services.model_run_cancel(run=run)
    assert inference.model_run_predict_chunk(run_id=run.pk, clip_pks=chunks[0]) is False
    run.refresh_from_db()
    assert run.status == "cancelled" and not Prediction.objects.filter(run=run).exists()


def test_an_unreadable_clip_is_an_error_on_that_clip_only(trained_run):
    clip = Clip.objects.filter(dataset=trained_run.dataset).order_by("pk").first()
    # Inside the dataset's media folder: a path leading outside it is refused before any read.
    broken = dataset_media_root(trained_run.dataset) / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    Clip.objects.filter(pk=clip.pk).update(media_path="broken.mp4")
    run = _start(trained_run, with_heatmaps=False)
    finished = inference.model_run_predict_inline(run_id=run.pk, task_id="inline")
    assert finished.status == "succeeded"
    assert "1 unreadable" in finished.progress_message
    failed = Prediction.objects.get(run=run, clip=clip)
    assert failed.error and failed.vote_index is None and failed.heads == {}
    assert Prediction.objects.filter(run=run, error="").count() == 11
    assert not Proposal.objects.filter(proposal_set=finished.proposal_set, clip=clip).exists()


def _prediction(**fields) -> infer.ClipPrediction:
    defaults = {
        "path": "x.mp4",
        "heads": {
            "continuous": [(0, 0.7), (1, 0.2), (2, 0.1)],
            "instant": [(1, 0.6), (0, 0.3), (2, 0.1)],
            "onset": [(0, 0.5), (1, 0.4), (2, 0.1)],
            "visual": [(0, 0.9), (2, 0.05), (1, 0.05)],
            "audio": [(2, 0.8), (0, 0.1), (1, 0.1)],
        },
        "vote": 0,
        "union": [0, 2, 1],
        "event_type": "visual",
        "label_probs": {"continuous": 0.7, "instant": 0.3, "onset": 0.5, "visual": 0.9, "audio": 0.1},
        "instant_steps": [3, 4, 7],
        "onset_steps": [0, 10],
        "modality_confidence": {"audio_visual": 0.7, "visual": 0.9, "audio": 0.8},
        "flags": ["no_audio"],
    }
    return infer.ClipPrediction(**(defaults | fields))


def test_predictions_store_is_idempotent_per_run_and_clip(trained_run):
    run = _start(trained_run)
    clip = Clip.objects.filter(dataset=run.dataset).first()
    services.predictions_store(run=run, predictions={clip.pk: _prediction(vote=1)})
    services.predictions_store(run=run, predictions={clip.pk: _prediction()}, heatmap_paths={clip.pk: "h.png"})
    stored = Prediction.objects.get(run=run)
    assert stored.vote_index == 0 and stored.heatmap_path == "h.png"
    assert stored.heads["visual"] == {"top5": [[0, 0.9], [2, 0.05], [1, 0.05]], "label_prob": 0.9}
    assert stored.modality_confidence == {"audio_visual": 0.7, "visual": 0.9, "audio": 0.8}


def test_proposals_name_the_heads_behind_each_union_label(trained_run):
    run = _start(trained_run, proposal_set_name="by hand")
    clip = Clip.objects.filter(dataset=run.dataset).order_by("clip_id").first()
    services.predictions_store(run=run, predictions={clip.pk: _prediction()}, heatmap_paths={clip.pk: "h.png"})
    proposal_set = services.proposals_from_predictions(run=run)
    assert (proposal_set.name, proposal_set.source, proposal_set.source_ref) == (
        "by hand",
        "model",
        f"model-run:{run.pk}",
    )
    names = selectors.category_names_by_index(taxonomy=run.dataset.taxonomy)
    rows = {p.category.name: (p.score, p.heads) for p in Proposal.objects.filter(proposal_set=proposal_set)}
    assert rows == {
        names[0]: (0.9, ["continuous", "onset", "visual"]),
        names[2]: (0.8, ["audio"]),
        names[1]: (0.6, ["instant"]),
    }
    evidence = ClipEvidence.objects.get(proposal_set=proposal_set, clip=clip)
    # tiny config: 20 steps over 10 s, a step's moment is its centre.
    assert evidence.instant_seconds == [1.75, 2.25, 3.75]
    assert evidence.onset_seconds == [0.25, 5.25]
    assert (evidence.event_type, evidence.heatmap_path) == ("visual", "h.png")
    run.refresh_from_db()
    assert run.proposal_set == proposal_set
    # Storing again replaces the set rather than adding to it.
    services.proposals_from_predictions(run=run)
    assert ProposalSet.objects.filter(dataset=run.dataset, name="by hand").count() == 1
    assert Proposal.objects.filter(proposal_set=proposal_set).count() == 3
