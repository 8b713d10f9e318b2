"""Reserve-ahead: while a rater works on a clip, one more is reserved for them, so the page
can preload its video and spectrogram and switch to it the moment they submit.

The clip held ahead is an ordinary Reservation row (marked `ahead`): every overlap rule
counts it like any other, so no clip is served to more raters than raters_per_clip allows,
whether the study serves fixed or settled. A rater holds at most one ahead: asking again
returns the same one. Unused, it goes back to the pool like any reservation: the page
releases it when the rater leaves (release), and otherwise it lapses at its expiry. When the
rater moves on to it, its clock starts again, once (queue.reservation_ahead_promote).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from annotator import selectors
from annotator.models import Reservation, Study, StudyClip
from annotator.services.queue import (
    LAPSED_MESSAGE,
    clip_reserve_open,
    require_active,
    reservation_ahead_promote,
)
from config.errors import ConflictError, NotFoundError

User = AbstractBaseUser


def clip_ahead_for_rater(
    *, study: Study, rater: User, current_study_clip_id: int, now: datetime | None = None
) -> StudyClip | None:
    """The clip held ahead of `current_study_clip_id` for the rater: the one they hold
    already, else a newly reserved one (as `next` would pick it, the current clip left out).
    None: nothing is left beyond the current clip.

    The current clip must be a live reservation of theirs in the study (ConflictError
    otherwise: it lapsed or was submitted, and the page starts again from `next`); it is the
    clip they work on now, so one held ahead starts its clock here."""
    now = now or timezone.now()
    state = selectors.rater_queue_state(study=study, rater=rater, now=now)
    if not state.is_member:
        raise NotFoundError(f"Study {study.pk} does not exist or you are not rating it.")
    require_active(study=study)
    live = Reservation.objects.filter(rater=rater, study_clip__study=study, expires_at__gt=now)
    if not live.filter(study_clip_id=current_study_clip_id).exists():
        raise ConflictError(LAPSED_MESSAGE)
    reservation_ahead_promote(study=study, rater=rater, study_clip_id=current_study_clip_id, now=now)
    ahead_id = _held_ahead(live=live, current_study_clip_id=current_study_clip_id)
    if ahead_id is None:
        # Reserved in the queue's own short transactions (holding no lock across clips).
        reserved = clip_reserve_open(
            study=study, rater=rater, now=now, exclude=frozenset({current_study_clip_id}), ahead=True
        )
        if reserved is None:
            return None
        ahead_id = _held_ahead(live=live, current_study_clip_id=current_study_clip_id)
    study_clip = selectors.study_clip_get(study_clip_id=ahead_id, related=("clip",))
    study_clip.study = study
    return study_clip


def _held_ahead(*, live, current_study_clip_id: int) -> int | None:
    """The oldest clip the rater holds besides the current one. Two asks of theirs running at
    once may each reserve one: both then keep the oldest and give the others back, so the
    rater ends with one ahead (meanwhile the extra one counts in its clip's load, which errs
    on the side of serving fewer raters, never more)."""
    others = list(
        live.exclude(study_clip_id=current_study_clip_id)
        .order_by("created_at", "id")
        .values_list("pk", "study_clip_id")
    )
    if not others:
        return None
    if len(others) > 1:
        Reservation.objects.filter(pk__in=[pk for pk, _ in others[1:]]).delete()
    return others[0][1]
