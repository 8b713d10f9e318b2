"""Run a prediction run, fanned out over GPU workers: plan -> chunks -> finalise.

``modelzoo.predict`` claims the run and splits the clips still to predict into chunks;
each chunk is one ``modelzoo.predict_chunk`` task (any GPU worker takes it), which skips
clips already predicted (a redelivered chunk does no work twice) and reports whether the run
is now complete; the chunk that completes it enqueues ``modelzoo.predict_finalize``, which
stores the proposals and marks the run succeeded (exactly one finaliser wins).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import av
from django.conf import settings

from modelzoo import heatmaps, selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn import infer
from modelzoo.nn.config import get_config
from modelzoo.nn.media import MediaError, decode_clip_raw

# torchvision (imported by modelzoo.nn) switches PyAV's FFmpeg log callback on; with FFmpeg's
# frame-threaded decoders that callback deadlocks on the GIL when a decoder is freed. Off again.
av.logging.set_level(None)

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
NOT_USABLE = "the clip's media is not usable (media status is not ok)"


def model_run_predict_plan(*, run_id: int, task_id: str) -> list[list[int]] | None:
    """Claim the run; the chunks of clip primary keys still to predict (None: not ours)."""
    claim = services.model_run_claim(run_id=run_id, task_id=task_id)
    if claim is None:
        return None
    run = claim.run
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run.pk)
        return None
    items = selectors.dataset_clip_items(dataset=run.dataset, split=run.split, clip_ids=run.clip_ids)
    pks = [item.clip_pk for item in items]
    done = selectors.run_predicted_clip_pks(run_id=run.pk, clip_pks=pks)
    remaining = [pk for pk in pks if pk not in done]
    chunks = [remaining[start : start + run.chunk_size] for start in range(0, len(remaining), run.chunk_size)]
    services.model_run_prepare(
        run_id=run.pk,
        device=services.device_choose(),
        items_total=len(pks),
        message=f"{len(remaining)} clips in {len(chunks)} chunks queued",
    )
    services.model_run_timing_add(run_id=run.pk, chunks=len(chunks), planned_at=time.time())
    return chunks


def model_run_predict_chunk(
    *, run_id: int, clip_pks: list[int], echo: Callable[[dict[str, Any]], None] | None = None
) -> bool:
    """Predict one chunk; True when this chunk completed the run (the caller finalises)."""
    run = selectors.run_get(run_id=run_id)
    if run.status != ModelRun.Status.RUNNING:
        logger.info("run %s is %s: chunk skipped", run_id, run.status)
        return False
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run_id)
        return False
    done = selectors.run_predicted_clip_pks(run_id=run_id, clip_pks=clip_pks)
    pending = [pk for pk in clip_pks if pk not in done]
    if pending:
        _predict_and_store(run=run, clip_pks=pending, echo=echo)
    count = selectors.run_prediction_count(run_id=run_id)
    run.refresh_from_db(fields=["items_total"])
    services.model_run_progress(
        run_id=run_id, progress=count / max(run.items_total, 1), message=f"{count}/{run.items_total} clips predicted"
    )
    return count >= run.items_total


def _predict_and_store(*, run: ModelRun, clip_pks: list[int], echo) -> None:
    source = run.source_run
    assert source is not None
    items = selectors.clip_items_by_pk(dataset=run.dataset, clip_pks=clip_pks)
    services.model_run_items_lost(run_id=run.pk, count=len(clip_pks) - len(items))
    usable_pks = selectors.usable_clip_pks(clip_pks=[item.clip_pk for item in items])
    to_predict = [item for item in items if item.clip_pk in usable_pks]
    base = selectors.run_prediction_count(run_id=run.pk)
    last = [0.0]

    def on_progress(event: dict[str, Any]) -> None:
        if echo is not None:
            echo(event)
        if time.monotonic() - last[0] >= PROGRESS_INTERVAL_SECONDS:
            last[0] = time.monotonic()
            done = base + event["done"]
            services.model_run_progress(
                run_id=run.pk, progress=done / max(run.items_total, 1), message=f"{done}/{run.items_total} clips"
            )

    started = time.monotonic()
    predictions = infer.predict(
        checkpoint_path=source.checkpoint_path,
        items=[item.path for item in to_predict],
        device=services.device_choose(),
        label_indices=[item.label_index for item in to_predict],
        batch_size=source.batch_size,
        with_heatmaps=run.with_heatmaps,
        on_progress=on_progress,
    )
    by_pk = dict(zip((item.clip_pk for item in to_predict), predictions, strict=True))
    for item in items:
        if item.clip_pk not in usable_pks:
            by_pk[item.clip_pk] = infer.ClipPrediction(path=item.path, error=NOT_USABLE)
    heatmap_paths = _write_heatmaps(run=run, items=to_predict, predictions=by_pk) if run.with_heatmaps else {}
    services.predictions_store(run=run, predictions=by_pk, heatmap_paths=heatmap_paths)
    logger.info("run %s: %d clips predicted in %.1f s", run.pk, len(by_pk), time.monotonic() - started)


def _write_heatmaps(*, run: ModelRun, items, predictions) -> dict[int, str]:
    config = get_config(run.config_name)
    paths = {}
    for item in items:
        prediction = predictions[item.clip_pk]
        if prediction.error or prediction.heatmap is None:
            continue
        try:
            frames = decode_clip_raw(item.path, config).video.permute(1, 2, 3, 0).numpy()
        except MediaError as exc:
            logger.warning("run %s: no heatmap for %s: %s", run.pk, item.clip_id, exc)
            continue
        paths[item.clip_pk] = heatmaps.heatmap_write(
            media_root=settings.MEDIA_ROOT,
            run_id=run.pk,
            clip_pk=item.clip_pk,
            frames=frames,
            maps=prediction.heatmap,
            instant_steps=prediction.instant_steps,
        )
    return paths


def model_run_predict_finalize(*, run_id: int, task_id: str) -> ModelRun | None:
    """Store the proposals (when asked) and mark the run succeeded; one finaliser only."""
    if not services.model_run_finalize_claim(run_id=run_id, task_id=task_id):
        return None
    run = selectors.run_get(run_id=run_id)
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run_id)
        return selectors.run_get(run_id=run_id)
    count = selectors.run_prediction_count(run_id=run_id)
    if count < run.items_total:
        raise RuntimeError(f"run {run_id}: finalising with {count} of {run.items_total} clips predicted")
    message = f"{count} clips predicted"
    if run.make_proposals:
        services.model_run_progress(run_id=run_id, progress=1.0, message="storing proposals")
        proposal_set = services.proposals_from_predictions(run=run)
        message += f", proposals in '{proposal_set.name}'"
    failed = selectors.run_predictions(run=run).exclude(error="").count()
    if failed:
        message += f", {failed} unreadable"
    services.model_run_succeed(run_id=run_id, message=message)
    return selectors.run_get(run_id=run_id)


def model_run_predict_inline(
    *, run_id: int, task_id: str, echo: Callable[[dict[str, Any]], None] | None = None
) -> ModelRun | None:
    """The whole prediction run in this process (``manage.py predict --inline``)."""
    chunks = model_run_predict_plan(run_id=run_id, task_id=task_id)
    if chunks is None:
        return selectors.run_get(run_id=run_id)
    complete = not chunks
    total, before = sum(len(chunk) for chunk in chunks), 0
    for chunk in chunks:

        def chunk_echo(event: dict[str, Any], before: int = before) -> None:
            if echo is not None:
                echo(event | {"fraction": (before + event["done"]) / max(total, 1)})

        complete = model_run_predict_chunk(run_id=run_id, clip_pks=chunk, echo=chunk_echo)
        before += len(chunk)
    if complete:
        return model_run_predict_finalize(run_id=run_id, task_id=task_id)
    return selectors.run_get(run_id=run_id)
