"""The queue: serving a rater their next clip (reserving it), giving a reservation back, and
keeping the ordering hint completed_count in step with the ratings.

Concurrency rule: every write that adds load to a study clip (a reservation, a completed
rating) happens while the writer holds that StudyClip's row lock, and the load is re-counted
from the ratings and reservations tables after the lock is taken. On PostgreSQL this makes
over-serving impossible; on SQLite (no row locks) the database serialises writers and the
unique constraints on (study_clip, rater) back the rest. StudyClip.completed_count, which
orders the queue, is written under the same lock from that count; being only an ordering
hint, a stale value cannot make the queue over-serve.

A reservation grants its rater the clip until `expires_at`, no longer: access
(selectors.study_clip_for_rater) and submit check the expiry, and lapsed rows are deleted,
the rater's own on their next `next`, everyone's by the periodic task
`annotator.reservations_purge` (reservations_purge below). `next` does not purge the whole
study's: that would add a statement to every click, and nothing reads a lapsed row anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotator import selectors
from annotator.models import Rating, Reservation, Study, StudyClip, StudyRater
from config.errors import ConflictError, NotFoundError

User = AbstractBaseUser
# How many ranked candidates one pass of the queue tries to lock before ranking again.
CANDIDATES_PER_PASS = 8
QUEUE_PASSES = 20
# Lapsed reservations deleted per statement by reservations_purge: short transactions that
# never hold many row locks at once, whatever piled up.
PURGE_BATCH_SIZE = 1000
LAPSED_MESSAGE = "Your reservation for this clip lapsed; ask for the next clip."


def clip_next_for_rater(*, study: Study, rater: User, now: datetime | None = None) -> StudyClip | None:
    """The rater's live reservation if they hold one, else a newly reserved clip: one they
    have not rated or skipped, whose completed ratings plus live reservations are below the
    study's overlap, closest to completion first, then by position. None: nothing is left."""
    now = now or timezone.now()
    state = selectors.rater_queue_state(study=study, rater=rater, now=now)
    if not state.is_member:
        raise NotFoundError(f"Study {study.pk} does not exist or you are not rating it.")
    require_active(study=study)
    require_standing(study=study, state=state.state, qualification=state.qualification)
    if state.has_lapsed:
        Reservation.objects.filter(rater=rater, study_clip__study=study, expires_at__lte=now).delete()
    if state.held_study_clip_id is not None:
        # Served as the current clip now: one held ahead starts its clock (once).
        reservation_ahead_promote(study=study, rater=rater, study_clip_id=state.held_study_clip_id, now=now)
        study_clip = selectors.study_clip_get(study_clip_id=state.held_study_clip_id, related=("clip",))
        study_clip.study = study
        return study_clip
    return clip_reserve_open(study=study, rater=rater, now=now)


def clip_reserve_open(
    *, study: Study, rater: User, now: datetime, exclude: frozenset[int] = frozenset(), ahead: bool = False
) -> StudyClip | None:
    """Reserve the best open clip for the rater, leaving out the study clips in `exclude` (the
    ones they hold: the ranking counts only others' reservations). None: nothing is left."""
    for _ in range(QUEUE_PASSES):
        ranked = selectors.study_clips_open_for_rater(study=study, rater=rater, now=now, limit=CANDIDATES_PER_PASS)
        candidates = [pk for pk in ranked if pk not in exclude]
        if not candidates:
            if len(ranked) < CANDIDATES_PER_PASS:
                return None
            raise ConflictError("The queue is busy; ask for the next clip again.")
        busy: list[int] = []
        for pk in candidates:
            reserved = _reserve(study_clip_pk=pk, rater=rater, study=study, now=now, wait=False, ahead=ahead)
            if isinstance(reserved, StudyClip):
                return reserved
            if reserved is _LOCKED:
                busy.append(pk)
        if busy:
            # Every open candidate was full or locked by another rater's short transaction:
            # wait for the first locked one (holding no other lock: no deadlock), re-count it.
            reserved = _reserve(study_clip_pk=busy[0], rater=rater, study=study, now=now, wait=True, ahead=ahead)
            if isinstance(reserved, StudyClip):
                return reserved
        # Otherwise the candidates filled up since they were ranked: rank again.
    raise ConflictError("The queue is busy; ask for the next clip again.")


def reservation_ahead_promote(*, study: Study, rater: User, study_clip_id: int, now: datetime) -> bool:
    """The rater moves on to a clip they held ahead: its reservation runs from now, for the
    study's timeout, and is held ahead no more (so this happens once per reservation). Its
    created_at stays: the labels the rater must answer are those of the page they preloaded.
    True when a reservation held ahead was promoted."""
    expires_at = now + timedelta(seconds=study.reservation_timeout_seconds)
    promoted = Reservation.objects.filter(
        study_clip_id=study_clip_id, rater=rater, ahead=True, expires_at__gt=now
    ).update(ahead=False, expires_at=expires_at)
    return bool(promoted)


_LOCKED = object()  # sentinel: another transaction holds the row


def _reserve(
    *, study_clip_pk: int, rater: User, study: Study, now: datetime, wait: bool, ahead: bool = False
) -> StudyClip | object | None:
    """Lock one study clip, re-count its load under the lock and reserve it for the rater.
    Returns the clip, None when it has no room (or the rater already rated it), or _LOCKED
    when another transaction holds the row and `wait` is False."""
    with transaction.atomic():
        study_clip = selectors.study_clip_for_update(
            study_clip_id=study_clip_pk, related=("clip",), skip_locked=not wait
        )
        if study_clip is None:
            return _LOCKED if not wait else None
        if study_clip.settled:  # settled since the ranking read it: served no more
            return None
        expires_at = now + timedelta(seconds=study.reservation_timeout_seconds)
        claimed = _reservation_claim(
            study_clip=study_clip,
            rater=rater,
            overlap=study.raters_per_clip,
            now=now,
            expires_at=expires_at,
            ahead=ahead,
        )
        if not claimed:
            completed_count_sync(study_clip=study_clip)  # the ranking saw room: make sure it was not stale
            return None
    study_clip.study = study
    return study_clip


def _reservation_claim(
    *, study_clip: StudyClip, rater: User, overlap: int, now: datetime, expires_at: datetime, ahead: bool
) -> bool:
    """Reserve the clip for the rater unless they rated (or skipped) it or its completed
    ratings plus others' live reservations reach the overlap; counted from the ratings and
    reservations tables in the same statement, so the caller must hold the clip's row lock.
    The rater's own row (a lapsed one, or one a parallel request of theirs just made) gets
    the new expiry and start (the labels the rater must answer are those shown since).
    `ahead` marks a reservation held ahead of the clip the rater works on (it counts the same).
    True when the rater now holds the clip."""
    # Raw: the ORM has no INSERT ... SELECT; its two statements (load, then upsert) measured +1%, but add one to next.
    ratings, reservations = Rating._meta.db_table, Reservation._meta.db_table
    sql = f"""
        INSERT INTO {reservations} (study_clip_id, rater_id, created_at, expires_at, ahead)
        SELECT %(clip)s, %(rater)s, %(now)s, %(expires)s, %(ahead)s
        WHERE NOT EXISTS (SELECT 1 FROM {ratings} WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s)
          AND (SELECT COUNT(*) FROM {ratings} WHERE study_clip_id = %(clip)s AND skipped = %(no)s)
            + (SELECT COUNT(*) FROM {reservations}
               WHERE study_clip_id = %(clip)s AND expires_at > %(now)s AND rater_id <> %(rater)s) < %(overlap)s
        ON CONFLICT (study_clip_id, rater_id)
            DO UPDATE SET expires_at = excluded.expires_at, created_at = excluded.created_at, ahead = excluded.ahead
        RETURNING id
    """  # table names come from the models; every value is a query parameter
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "clip": study_clip.pk,
        "rater": rater.pk,
        "now": adapt(now),
        "expires": adapt(expires_at),
        "no": False,
        "overlap": overlap,
        "ahead": ahead,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def completed_count_sync(
    *, study_clip: StudyClip, completed: int | None = None, quiet_ratings: int | None = None
) -> None:
    """Set the clip's completed_count from its ratings (`completed`, when the caller just
    counted them under the row lock, which the caller holds), and its quiet_ratings when
    given, in one statement. Writes only when a stored value differs."""
    if completed is None:
        completed = Rating.objects.filter(study_clip_id=study_clip.pk, skipped=False).count()
    quiet = study_clip.quiet_ratings if quiet_ratings is None else quiet_ratings
    if (completed, quiet) != (study_clip.completed_count, study_clip.quiet_ratings):
        # Raw: +7% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StudyClip._meta.db_table} SET completed_count = %s, quiet_ratings = %s WHERE id = %s",
                [completed, quiet, study_clip.pk],
            )
        study_clip.completed_count, study_clip.quiet_ratings = completed, quiet


def study_clip_counts_refresh(*, study: Study) -> int:
    """Recompute every clip's completed_count in a study from its ratings (after ratings
    were edited or deleted outside rating_submit, e.g. in the admin). Returns how many
    clips changed. The queue stays correct without it (it re-counts under the lock), but
    serves in a better order with it."""
    completed = (
        Rating.objects.filter(study_clip=OuterRef("pk"), skipped=False)
        .order_by()
        .values("study_clip")
        .annotate(n=Count("pk"))
        .values("n")
    )
    real = Coalesce(Subquery(completed), 0)
    with transaction.atomic():
        stale = StudyClip.objects.filter(study=study).annotate(real=real).exclude(completed_count=F("real"))
        return StudyClip.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).update(completed_count=real)


def reservation_release(*, study_clip: StudyClip, rater: User) -> bool:
    """Give a reserved clip back to the pool without rating it. True when one was held.
    Idempotent, on a closed study too (closing already gave every reservation back)."""
    deleted, _ = Reservation.objects.filter(study_clip=study_clip, rater=rater).delete()
    return bool(deleted)


def reservations_purge(*, now: datetime | None = None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete every reservation that lapsed by `now`, `batch_size` rows per statement (on
    the expires_at index), until none is left. Returns how many were deleted. Safe beside
    the queue: a lapsed row grants nothing and counts for no clip's load, and a rater's
    `next` that renews their own lapsed row concurrently either wins (the row is live and
    no longer matches) or finds it gone and inserts a new one."""
    now = now or timezone.now()
    total = 0
    while True:
        batch = list(Reservation.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        deleted, _ = Reservation.objects.filter(pk__in=batch, expires_at__lte=now).delete()
        total += deleted
        if len(batch) < batch_size:
            return total


PAUSED_MESSAGE = "The researcher has paused your work on this study; you will be able to go on once they resume you."
QUALIFY_MESSAGE = "This study asks you to pass its qualification first."
FAILED_MESSAGE = "You did not pass this study's qualification; the researcher can let you try again."


def require_standing(*, study: Study, state: str, qualification: str) -> None:
    """Refuse the main queue to a paused rater, and to one who has not qualified in a study
    that asks for it (extra.qualification says which: required or failed)."""
    if state == StudyRater.State.PAUSED:
        raise ConflictError(PAUSED_MESSAGE, extra={"standing": "paused"})
    if study.qualification_clips and qualification not in StudyRater.QUALIFIED:
        failed = qualification == StudyRater.Qualification.FAILED
        raise ConflictError(
            FAILED_MESSAGE if failed else QUALIFY_MESSAGE, extra={"qualification": "failed" if failed else "required"}
        )


def require_active(*, study: Study) -> None:
    """Refuse to serve or store anything for a paused or closed study."""
    if study.status != Study.Status.ACTIVE:
        raise ConflictError(f"Study '{study.name}' is {study.get_status_display()}.")
