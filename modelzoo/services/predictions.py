"""The chunks a prediction run fans out into (planned, claimed, beaten, done), the predictions
stored per clip, and the proposal set raters review made from them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotator import selectors as annotator_selectors
from annotator.models import ProposalSet
from config.errors import ApplicationError
from modelzoo import selectors
from modelzoo.models import ModelRun, Prediction, PredictionChunk
from modelzoo.nn.config import CONFIGS
from modelzoo.services.heartbeat import Heartbeat, row_beat, stale_before

if TYPE_CHECKING:
    from modelzoo.nn.infer import ClipPrediction

logger = logging.getLogger(__name__)


def prediction_chunks_plan(*, run: ModelRun, clip_pks: Sequence[int]) -> list[list[int]]:
    """The clips of each chunk of ``run`` still waiting for a worker, in order. The first plan
    cuts ``clip_pks`` into chunks of ``run.chunk_size``; planning again (the planning worker was
    lost) keeps those chunks, so a message sent twice finds its chunk taken or done."""
    with transaction.atomic():
        if not PredictionChunk.objects.filter(run=run).exists():
            size = run.chunk_size
            PredictionChunk.objects.bulk_create(
                PredictionChunk(run=run, index=index, clip_pks=list(clip_pks[start : start + size]))
                for index, start in enumerate(range(0, len(clip_pks), size))
            )
    queued = PredictionChunk.objects.filter(run=run, status=PredictionChunk.Status.QUEUED).order_by("index")
    return [list(pks) for pks in queued.values_list("clip_pks", flat=True)]


def prediction_chunk_claim(*, run_id: int, clip_pks: Sequence[int], task_id: str) -> PredictionChunk | None:
    """Take the chunk of ``clip_pks`` for ``task_id``, like ``model_run_claim``: a queued chunk,
    or this task's own once its heartbeat went stale; None when there is nothing to do (done,
    held by a live worker, or not a chunk of this run's plan)."""
    now = timezone.now()
    claimable = Q(status=PredictionChunk.Status.QUEUED) | Q(
        status=PredictionChunk.Status.RUNNING, task_id=task_id, heartbeat_at__lt=stale_before()
    )
    chunk = PredictionChunk.objects.filter(run_id=run_id, clip_pks=list(clip_pks))
    taken = chunk.filter(claimable).update(
        status=PredictionChunk.Status.RUNNING, task_id=task_id, heartbeat_at=now, attempts=F("attempts") + 1
    )
    return chunk.get() if taken else None


def prediction_chunk_heartbeat(*, chunk: PredictionChunk, task_id: str) -> Heartbeat:
    holder = Q(status=PredictionChunk.Status.RUNNING, task_id=task_id)
    return Heartbeat(
        beat=lambda: row_beat(model=PredictionChunk, pk=chunk.pk, holder=holder),
        name=f"run-{chunk.run_id}-chunk-{chunk.index}-heartbeat",
    )


def prediction_chunk_done(*, chunk: PredictionChunk, task_id: str) -> bool:
    """Its predictions are stored; False when another task holds the chunk now."""
    return bool(
        PredictionChunk.objects.filter(pk=chunk.pk, status=PredictionChunk.Status.RUNNING, task_id=task_id).update(
            status=PredictionChunk.Status.DONE, heartbeat_at=timezone.now()
        )
    )


def _prediction_fields(prediction: ClipPrediction, heatmap_path: str) -> dict:
    label_probs = prediction.label_probs or {}
    return {
        "heads": {
            head: {"top5": [[int(index), float(prob)] for index, prob in top], "label_prob": label_probs.get(head)}
            for head, top in prediction.heads.items()
        },
        "vote_index": None if prediction.error else prediction.vote,
        "union_indices": [int(index) for index in prediction.union],
        "event_type": prediction.event_type or "",
        "instant_steps": [int(step) for step in prediction.instant_steps],
        "onset_steps": [int(step) for step in prediction.onset_steps],
        "modality_confidence": {key: float(value) for key, value in prediction.modality_confidence.items()},
        "heatmap_path": heatmap_path,
        "flags": list(prediction.flags),
        "error": prediction.error or "",
    }


PREDICTION_FIELDS = (
    "heads",
    "vote_index",
    "union_indices",
    "event_type",
    "instant_steps",
    "onset_steps",
    "modality_confidence",
    "heatmap_path",
    "flags",
    "error",
)


def predictions_store(
    *, run: ModelRun, predictions: Mapping[int, ClipPrediction], heatmap_paths: Mapping[int, str] | None = None
) -> int:
    """Store a prediction per clip primary key; storing a clip again replaces its row."""
    heatmap_paths = heatmap_paths or {}
    rows = [
        Prediction(run=run, clip_id=clip_pk, **_prediction_fields(prediction, heatmap_paths.get(clip_pk, "")))
        for clip_pk, prediction in predictions.items()
    ]
    Prediction.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["run", "clip"], update_fields=list(PREDICTION_FIELDS)
    )
    return len(rows)


def _step_seconds(steps: Sequence[int], step_seconds: float) -> tuple[float, ...]:
    """Centre of each time step, in seconds from the clip start."""
    return tuple(round((step + 0.5) * step_seconds, 3) for step in steps)


def proposals_from_predictions(*, run: ModelRun) -> ProposalSet:
    """Store the union labels of a predict run as the proposal set ``run.proposal_set_name``:
    each label with the heads that proposed it and its best score, plus per clip evidence
    (event type, instant and onset moments in seconds, localisation heatmap)."""
    from annotator.importers.proposals import EvidenceRow, ProposalRow, proposal_set_store
    from modelzoo.nn.model import HEAD_NAMES

    def head_order(head: str) -> tuple[int, str]:  # jsonb keeps no key order: the paper's order
        return (HEAD_NAMES.index(head) if head in HEAD_NAMES else len(HEAD_NAMES), head)

    if not run.proposal_set_name:
        raise ApplicationError(f"run {run.pk} has no proposal set name")
    names = selectors.category_names_by_index(taxonomy=run.dataset.taxonomy)
    step_seconds = CONFIGS[run.config_name].step_seconds
    proposals: list[ProposalRow] = []
    evidence: list[EvidenceRow] = []
    for prediction in selectors.run_predictions(run=run).filter(error=""):
        clip_id = prediction.clip.clip_id
        for index in prediction.union_indices:
            heads = [
                (head, data["top5"][0][1])
                for head, data in sorted(prediction.heads.items(), key=lambda item: head_order(item[0]))
                if data["top5"] and data["top5"][0][0] == index
            ]
            proposals.append(
                ProposalRow(
                    clip_id=clip_id,
                    category_name=names[index],
                    score=max((prob for _, prob in heads), default=None),
                    heads=tuple(head for head, _ in heads),
                )
            )
        evidence.append(
            EvidenceRow(
                clip_id=clip_id,
                event_type=prediction.event_type,
                instant_seconds=_step_seconds(prediction.instant_steps, step_seconds),
                onset_seconds=_step_seconds(prediction.onset_steps, step_seconds),
                heatmap_path=prediction.heatmap_path,
            )
        )
    report = proposal_set_store(
        dataset=run.dataset,
        name=run.proposal_set_name,
        source=ProposalSet.Source.MODEL,
        source_ref=f"model-run:{run.pk}",
        proposals=proposals,
        evidence=evidence,
    )
    if report.errors:
        logger.warning("run %s: %d proposal rows refused, first: %s", run.pk, len(report.errors), report.errors[0])
    proposal_set = annotator_selectors.proposal_set_get(dataset=run.dataset, name=run.proposal_set_name)
    ModelRun.objects.filter(pk=run.pk).update(proposal_set=proposal_set)
    run.proposal_set = proposal_set
    return proposal_set
