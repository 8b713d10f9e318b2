"""Reads for steering a study: one of its raters by id, and its audit trail."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from annotator.models import Study, StudyEvent
from config.errors import NotFoundError


def study_rater_get(*, study: Study, rater_id: int):
    """A rater of the study: in its pool now, or removed from it (they keep a standing)."""
    users = (
        get_user_model()
        .objects.filter(Q(rater_studies=study) | Q(study_standings__study=study), pk=rater_id)
        .distinct()
    )
    rater = users.first()
    if rater is None:
        raise NotFoundError(f"User {rater_id} is not a rater of study '{study.name}'.")
    return rater


def study_events(*, study: Study) -> QuerySet[StudyEvent]:
    """The study's audit trail, newest first."""
    return StudyEvent.objects.filter(study=study).select_related("actor", "rater").order_by("-created_at", "-id")
