"""Run a prediction run, fanned out over GPU workers: plan -> chunks -> finalise.

``modelzoo.predict`` claims the run and cuts the clips still to predict into chunks (rows,
``PredictionChunk``); each chunk is one ``modelzoo.predict_chunk`` task (any GPU worker takes
it), which claims its chunk, beats it while predicting, skips clips already predicted and
reports whether the run is now complete; the chunk that completes it enqueues
``modelzoo.predict_finalize``, which stores the proposals and marks the run succeeded (exactly
one finaliser wins). A chunk whose worker was lost is queued again by the reaper
(``services.model_runs_reap``); a message delivered twice finds its chunk taken or done.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import av
from django.conf import settings

from modelzoo import heatmaps, selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn import infer
from modelzoo.nn.config import get_config
from modelzoo.nn.events import PredictProgress
from modelzoo.nn.media import MediaError, decode_clip_raw

# torchvision (imported by modelzoo.nn) switches PyAV's FFmpeg log callback on; with FFmpeg's
# frame-threaded decoders that callback deadlocks on the GIL when a decoder is freed. Off again.
av.logging.set_level(None)

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
NOT_USABLE = "the clip's media is not usable (media status is not ok)"


def model_run_predict_plan(*, run_id: int, task_id: str) -> list[list[int]] | None:
    """Claim the run; the chunks of clip primary keys waiting for a worker (None: not ours).

    The caller sends them, then releases the run to its chunks (``services.model_run_release``).
    """
    claim = services.model_run_claim(run_id=run_id, task_id=task_id)
    if claim is None:
        return None
    run = claim.run
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run.pk)
        return None
    with services.model_run_heartbeat(run_id=run.pk, task_id=task_id):  # a dataset of 200,000 clips takes a while
        items = selectors.dataset_clip_items(dataset=run.dataset, split=run.split, clip_ids=run.clip_ids)
        pks = [item.clip_pk for item in items]
        done = selectors.run_predicted_clip_pks(run_id=run.pk, clip_pks=pks)
        chunks = services.prediction_chunks_plan(run=run, clip_pks=[pk for pk in pks if pk not in done])
        services.model_run_prepare(
            run_id=run.pk,
            device=services.device_choose(),
            items_total=len(pks),
            message=f"{sum(map(len, chunks))} clips in {len(chunks)} chunks queued",
        )
        services.model_run_timing_add(run_id=run.pk, chunks=len(chunks), planned_at=time.time())
    return chunks


def model_run_predict_chunk(
    *, run_id: int, clip_pks: list[int], task_id: str = "", echo: Callable[[PredictProgress], None] | None = None
) -> bool:
    """Predict one chunk for ``task_id``; True when the run is now complete (the caller
    finalises). A chunk done, or held by a worker that still beats it, is not predicted again."""
    run = selectors.run_get(run_id=run_id)
    if run.status != ModelRun.Status.RUNNING:
        logger.info("run %s is %s: chunk skipped", run_id, run.status)
        return False
    if run.cancel_requested:
        services.model_run_mark_cancelled(run_id=run_id)
        return False
    chunk = services.prediction_chunk_claim(run_id=run_id, clip_pks=clip_pks, task_id=task_id)
    if chunk is None:
        logger.info("run %s: chunk of %d clips is done or held by another task: skipped", run_id, len(clip_pks))
        return selectors.run_prediction_count(run_id=run_id) >= run.items_total
    with services.prediction_chunk_heartbeat(chunk=chunk, task_id=task_id) as heartbeat:
        done = selectors.run_predicted_clip_pks(run_id=run_id, clip_pks=clip_pks)
        pending = [pk for pk in clip_pks if pk not in done]
        if pending:
            _predict_and_store(run=run, clip_pks=pending, echo=echo)
    if heartbeat.lost or not services.prediction_chunk_done(chunk=chunk, task_id=task_id):
        logger.warning("run %s: chunk %d is held by another worker now", run_id, chunk.index)
        return False
    count = selectors.run_prediction_count(run_id=run_id)
    run.refresh_from_db(fields=["items_total"])
    services.model_run_progress(
        run_id=run_id, progress=count / max(run.items_total, 1), message=f"{count}/{run.items_total} clips predicted"
    )
    return count >= run.items_total


def _predict_and_store(*, run: ModelRun, clip_pks: list[int], echo: Callable[[PredictProgress], None] | None) -> None:
    source = run.source_run
    assert source is not None
    items = selectors.clip_items_by_pk(dataset=run.dataset, clip_pks=clip_pks)
    services.model_run_items_lost(run_id=run.pk, count=len(clip_pks) - len(items))
    usable_pks = selectors.usable_clip_pks(clip_pks=[item.clip_pk for item in items])
    to_predict = [item for item in items if item.clip_pk in usable_pks]
    base = selectors.run_prediction_count(run_id=run.pk)
    last = [0.0]

    def on_progress(event: PredictProgress) -> None:
        if echo is not None:
            echo(event)
        if time.monotonic() - last[0] >= PROGRESS_INTERVAL_SECONDS:
            last[0] = time.monotonic()
            done = base + event.done
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
    """Store the proposals (when asked) and mark the run succeeded; one finaliser only, which
    beats the run meanwhile (lost, the run is planned again and finalised by another)."""
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
    with services.model_run_heartbeat(run_id=run_id, task_id=task_id, finalizing=True) as heartbeat:
        if run.make_proposals:
            services.model_run_progress(run_id=run_id, progress=1.0, message="storing proposals")
            proposal_set = services.proposals_from_predictions(run=run)
            message += f", proposals in '{proposal_set.name}'"
    if heartbeat.lost:
        logger.warning("run %s: another finaliser holds it now", run_id)
        return None
    failed = selectors.run_predictions(run=run).exclude(error="").count()
    if failed:
        message += f", {failed} unreadable"
    services.model_run_succeed(run_id=run_id, message=message)
    return selectors.run_get(run_id=run_id)


def model_run_predict_inline(
    *, run_id: int, task_id: str, echo: Callable[[PredictProgress], None] | None = None
) -> ModelRun | None:
    """The whole prediction run in this process (``manage.py predict --inline``); ``echo``
    gets each chunk's events with ``fraction`` of the whole run."""
    chunks = model_run_predict_plan(run_id=run_id, task_id=task_id)
    if chunks is None:
        return selectors.run_get(run_id=run_id)
    complete = not chunks
    total, before = sum(len(chunk) for chunk in chunks), 0
    # This process holds the run throughout (no release to other workers): it beats it.
    with services.model_run_heartbeat(run_id=run_id, task_id=task_id):
        for chunk in chunks:

            def chunk_echo(event: PredictProgress, before: int = before) -> None:
                if echo is not None:
                    echo(dataclasses.replace(event, fraction=(before + event.done) / max(total, 1)))

            complete = model_run_predict_chunk(run_id=run_id, clip_pks=chunk, task_id=task_id, echo=chunk_echo)
            before += len(chunk)
    if complete:
        return model_run_predict_finalize(run_id=run_id, task_id=task_id)
    return selectors.run_get(run_id=run_id)
