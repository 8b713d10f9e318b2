"""The precomputation of a study's spectrogram strips, as its study page shows it."""

from __future__ import annotations

from annotator.models import SpectrogramJob, Study


def spectrogram_job_for_study(*, study: Study) -> SpectrogramJob | None:
    """The study's job; None for a study created before the job existed, or outside the
    page and the API (a command, a Label Studio import): its clips are analysed on request."""
    return SpectrogramJob.objects.filter(study=study).first()
