"""Precomputing a study's spectrogram strips when it is created, so no rater waits for the
first analysis of a clip (a quarter of a second each on two cores).

`spectrogram_job_start` records the job on a SpectrogramJob row and queues the
`annotator.spectrograms_prepare` task after commit; `spectrogram_job_run` is its body. Each
clip's document goes to the cache the rater page reads (annotator.spectrogram), which is
keyed by the media file, so the body is idempotent: run again (the broker delivering the
message twice, a retry after the worker died), it finds the clips already done in the cache
and analyses only the rest. The study is usable while it runs: a clip not done yet is
analysed on request, as before.
"""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotator.media_serving import MediaPathError, clip_media_file
from annotator.models import SpectrogramJob, Study, StudyClip
from annotator.spectrogram import SpectrogramError, spectrogram_for_clip

logger = logging.getLogger(__name__)

# The job's row is written at most this often while it runs (the study page reads it).
PROGRESS_INTERVAL_SECONDS = 1.0


def spectrogram_job_start(*, study: Study) -> SpectrogramJob:
    """The study's job, created and queued (after commit) unless it has one already."""
    from annotator import tasks

    with transaction.atomic():
        job, created = SpectrogramJob.objects.get_or_create(
            study=study, defaults={"progress_total": study.study_clips.count(), "message": "queued"}
        )
        if created:
            tasks.spectrograms_prepare.delay_on_commit(job.pk)
    return job


def spectrogram_job_run(*, job_id: int, task_id: str) -> SpectrogramJob | None:
    """Claim the job and analyse every clip of its study not in the cache yet; None when it is
    not this task's to run (finished, or held by another task). A job still `running` under
    this very task id (the message delivered again, a retry) is taken again."""
    claimed = (
        SpectrogramJob.objects.filter(pk=job_id)
        .filter(Q(status=SpectrogramJob.Status.QUEUED) | Q(status=SpectrogramJob.Status.RUNNING, task_id=task_id))
        .update(status=SpectrogramJob.Status.RUNNING, task_id=task_id, attempts=F("attempts") + 1, message="running")
    )
    if claimed != 1:
        logger.info("spectrogram job %s: not claimed by task %s (finished or held elsewhere)", job_id, task_id)
        return None
    job = SpectrogramJob.objects.get(pk=job_id)
    clips = [
        study_clip.clip
        for study_clip in StudyClip.objects.filter(study_id=job.study_id)
        .select_related("clip__dataset")
        .order_by("position")
    ]
    done = unreadable = 0
    written_at = time.monotonic()
    for clip in clips:
        try:
            spectrogram_for_clip(clip=clip, media_path=clip_media_file(clip))
        except (MediaPathError, SpectrogramError) as exc:
            # The page answers this clip with "could not be made", as it would without the job.
            logger.warning("spectrogram of clip %s failed: %s", clip.pk, exc)
            unreadable += 1
        done += 1
        if time.monotonic() - written_at >= PROGRESS_INTERVAL_SECONDS:
            written_at = time.monotonic()
            SpectrogramJob.objects.filter(pk=job_id).update(progress_done=done, unreadable=unreadable)
    message = f"{done - unreadable} of {done} ready" + (f", {unreadable} unreadable" if unreadable else "")
    SpectrogramJob.objects.filter(pk=job_id, status=SpectrogramJob.Status.RUNNING).update(
        status=SpectrogramJob.Status.DONE,
        progress_done=done,
        progress_total=len(clips),
        unreadable=unreadable,
        message=message,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def spectrogram_job_fail(*, job_id: int, error: str) -> None:
    """Mark a job that is not finished failed (an unexpected error ended its task)."""
    SpectrogramJob.objects.filter(pk=job_id).exclude(
        status__in=[SpectrogramJob.Status.DONE, SpectrogramJob.Status.FAILED]
    ).update(status=SpectrogramJob.Status.FAILED, message=error[:2000], finished_at=timezone.now())
