"""The queue's hot path. `next` and `submit` run on every rater click: each read here is one
statement whose cost does not grow with the study's size.

Most are written out (see annotator.selectors.rawsql): on two cores the web process spends
more CPU compiling an ORM query than the database spends answering it. Each raw statement
says beside it what it measured against its ORM version in bench/rater_load.py (32
saturating raters, both versions run side by side on the same CPUs); the rest use the ORM.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token

from annotator import roles
from annotator.models import Rating, Reservation, Study, StudyClip, StudyRater
from annotator.selectors.rawsql import (
    columns,
    fetch_all,
    fetch_one,
    instance,
    study_clip_from_row,
    study_clip_select,
    table,
)
from config.errors import NotFoundError


def user_for_token(*, key: str) -> tuple[AbstractBaseUser, Token] | None:
    """The API token with this key and its user, or None; one statement that also reads the
    user's group names and leaves them where annotator.roles looks first (its per-user
    cache), so the role check that follows costs no query of its own."""
    # Raw: +17% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
    user_model = get_user_model()
    groups = user_model.groups.through
    sql = (
        f"SELECT {columns(Token, 't')}, {columns(user_model, 'u')}, g.name FROM {table(Token)} t"
        f" JOIN {table(user_model)} u ON u.id = t.user_id"
        f" LEFT JOIN {table(groups)} ug ON ug.user_id = u.id LEFT JOIN {table(Group)} g ON g.id = ug.group_id"
        " WHERE t.key = %s"
    )
    rows = fetch_all(sql, [key])
    if not rows:
        return None
    cut = len(Token._meta.concrete_fields)
    token = instance(Token, rows[0][:cut])
    token.user = user = instance(user_model, rows[0][cut:-1])
    roles.user_roles_remember(user, {row[-1] for row in rows if row[-1] is not None})
    return user, token


def study_clip_get(*, study_clip_id: int, related: tuple[str, ...] = ("study", "clip")) -> StudyClip:
    """A study clip with the related rows named (who may see it is for the caller to decide)."""
    try:
        return StudyClip.objects.select_related(*related).get(pk=study_clip_id)
    except StudyClip.DoesNotExist:
        raise NotFoundError(f"Clip {study_clip_id} does not exist.") from None


def study_clip_for_rater(*, rater, study_clip_id: int, now: datetime | None = None) -> StudyClip:
    """A study clip the user may look at: one they hold a live reservation for (a lapsed one
    grants nothing) or rated (a skipped clip was handed back: it grants nothing either), one
    of their own studies, or any for an admin. Anything else is reported as not found.
    Returned with its study and clip; one statement."""
    # Raw: +26% round trips/s over its ORM version at 32 saturating raters (bench/README.md).
    mine = (
        f"EXISTS (SELECT 1 FROM {table(Reservation)}"
        " WHERE study_clip_id = sc.id AND rater_id = %(rater)s AND expires_at > %(now)s)"
        f" OR EXISTS (SELECT 1 FROM {table(Rating)}"
        " WHERE study_clip_id = sc.id AND rater_id = %(rater)s AND skipped = %(no)s)"
    )
    related = ("study", "clip")
    params = {
        "rater": rater.pk,
        "study_clip": study_clip_id,
        "now": connection.ops.adapt_datetimefield_value(now or timezone.now()),
        "no": False,
    }
    row = fetch_one(f"{study_clip_select(related, extra=mine)} WHERE sc.id = %(study_clip)s", params)
    study_clip = None if row is None else study_clip_from_row(row, related)
    if study_clip is None or not (row[-1] or study_clip.study.owner_id == rater.pk or roles.user_is_admin(rater)):
        raise NotFoundError(f"Clip {study_clip_id} is not in your queue.")
    return study_clip


def study_clip_for_member(*, rater, study_clip_id: int) -> StudyClip:
    """A study clip of a study the user rates (in its pool), with its study; else not found.
    What submit and release need before the queue's own checks: a rater of the study gets
    the queue's answer (lapsed, closed, the stored rating), anyone else learns nothing."""
    member = (
        f"EXISTS (SELECT 1 FROM {table(Study.raters.through)} WHERE study_id = sc.study_id AND user_id = %(rater)s)"
    )
    related = ("study",)
    row = fetch_one(
        f"{study_clip_select(related, extra=member)} WHERE sc.id = %(study_clip)s",
        {"rater": rater.pk, "study_clip": study_clip_id},
    )
    if row is None or not row[-1]:
        raise NotFoundError(f"Clip {study_clip_id} is not in your queue.")
    return study_clip_from_row(row, related)


def study_clip_for_update(
    *, study_clip_id: int, related: tuple[str, ...] = ("study", "clip"), skip_locked: bool = False
) -> StudyClip | None:
    """A study clip with the related rows named, read while taking its row lock (the caller
    runs in a transaction). None when it does not exist or, with skip_locked, when another
    transaction holds the lock. On SQLite, which has no row locks, a plain read: there the
    caller's write transaction (BEGIN IMMEDIATE) already excludes every other writer."""
    # Raw: +31% round trips/s over its ORM version at 32 saturating raters (bench/README.md).
    lock = ""
    if connection.features.has_select_for_update:
        lock = " FOR UPDATE OF sc" if connection.features.has_select_for_update_of else " FOR UPDATE"
        if skip_locked:
            lock += " SKIP LOCKED"
    row = fetch_one(f"{study_clip_select(related)} WHERE sc.id = %s{lock}", [study_clip_id])
    return None if row is None else study_clip_from_row(row, related)


@dataclass(frozen=True)
class QueueState:
    """Where a rater stands in a study's queue, as clip_next_for_rater needs it."""

    is_member: bool  # the rater is in the study's pool
    held_study_clip_id: int | None  # their oldest live reservation in the study
    has_lapsed: bool  # they hold lapsed reservations in the study
    state: str = StudyRater.State.ACTIVE  # their standing: active, paused or removed
    qualification: str = StudyRater.Qualification.NONE  # passed, failed, admitted or "" (not taken)


def rater_queue_state(*, study: Study, rater, now: datetime) -> QueueState:
    """Pool membership, standing and the rater's own reservations in the study, in one statement."""
    # Raw: +27% round trips/s over its ORM version at 32 saturating raters (bench/README.md).
    members, clips, reservations = table(Study.raters.through), table(StudyClip), table(Reservation)
    standings = table(StudyRater)
    own = (
        f"FROM {reservations} v JOIN {clips} s ON s.id = v.study_clip_id"
        " WHERE s.study_id = %(study)s AND v.rater_id = %(rater)s"
    )
    sql = f"""
        SELECT
            EXISTS (SELECT 1 FROM {members} WHERE study_id = %(study)s AND user_id = %(rater)s),
            (SELECT v.study_clip_id {own} AND v.expires_at > %(now)s ORDER BY v.created_at, v.id LIMIT 1),
            EXISTS (SELECT 1 {own} AND v.expires_at <= %(now)s),
            (SELECT state FROM {standings} WHERE study_id = %(study)s AND rater_id = %(rater)s),
            (SELECT qualification FROM {standings} WHERE study_id = %(study)s AND rater_id = %(rater)s)
    """  # table names come from the models; every value is a query parameter
    params = {"study": study.pk, "rater": rater.pk, "now": connection.ops.adapt_datetimefield_value(now)}
    is_member, held, lapsed, state, qualification = fetch_one(sql, params)
    return QueueState(
        bool(is_member),
        held,
        bool(lapsed),
        state or StudyRater.State.ACTIVE,
        qualification or StudyRater.Qualification.NONE,
    )


def study_clips_open_for_rater(*, study: Study, rater, now: datetime, limit: int) -> list[int]:
    """Ids of the study clips the rater could be served now, best first: not rated or
    skipped by them, completed ratings plus others' live reservations below the overlap;
    most loaded (closest to completion) first, then most completed, then by position.

    Read without locks: the queue re-counts a clip under its row lock before reserving it.
    The cost does not grow with the study. A window of the clips below the overlap is read
    in serving order from the `studyclip_queue_order` index (completed_count, position),
    then filtered; the clips others hold live reservations on (a handful) are added, as
    holding raises a clip's rank. An open clip past the window ranks below every open clip
    in it, so when the window holds `limit` open clips the answer is exact. When it does
    not and was full, the rater's own ratings and others' reservations filled it (raters
    working side by side leave a trail of clips they rated at the head of the order): it
    is read again 4 times wider, until it holds `limit` open clips or every clip below the
    overlap. Each pass costs one index probe per clip in its window, so the cost follows
    that trail, not the rater's history: leaving their ratings out through one hashed
    look-up of all of them (as this did before) read 25,000 ratings per call for a rater
    1/8 of the way through a 200k-clip study, 30 to 60 ms, on most calls with 8 raters
    (bench/README.md, rater_load_scale)."""
    params = {**_open_params(study=study, rater=rater, now=now), "limit": limit, "window": 4 * limit}
    open_sql, window_sql = _open_clips_sql()
    while True:
        rows = fetch_all(open_sql, params)
        window_size = rows[0][1] if rows else fetch_one(window_sql, params)[0]
        if len(rows) == limit or window_size < params["window"]:
            return [study_clip_pk for study_clip_pk, _ in rows]
        params["window"] *= 4


# A study clip `s`'s live reservations held by raters other than %(rater)s, and whether `s` is
# open to %(rater)s: below the overlap counting those, and not rated or skipped by them. Both
# are scalar subqueries on purpose: each is one probe of a (study_clip_id, rater_id) index per
# clip looked at, a plan that holds whatever the table statistics say (PostgreSQL turns a NOT
# EXISTS into an anti-join, which stale statistics can make walk all of the rater's ratings).
_HELD = (
    f"(SELECT COUNT(*) FROM {table(Reservation)} v"
    " WHERE v.study_clip_id = s.id AND v.expires_at > %(now)s AND v.rater_id <> %(rater)s)"
)
_MINE = f"(SELECT COUNT(*) FROM {table(Rating)} r WHERE r.study_clip_id = s.id AND r.rater_id = %(rater)s)"


# Raw: +66% round trips/s over its ORM version at 32 saturating raters (bench/README.md).
@functools.cache
def _open_clips_sql() -> tuple[str, str]:
    """The statement behind study_clips_open_for_rater, and the one counting its window."""
    # The clips below the overlap in serving order (the queue's index), at most %(window)s.
    window = f"""
        SELECT s.id, s.completed_count, s.position FROM {table(StudyClip)} s
        WHERE s.study_id = %(study)s AND s.settled = %(no)s AND s.completed_count < %(overlap)s
        ORDER BY s.completed_count DESC, s.position
        LIMIT %(window)s
    """
    # The window's clips open to the rater, and the clips others hold, best first; with the
    # window's size, which tells the caller whether it saw every clip below the overlap.
    open_clips = f"""
        WITH w AS ({window}), candidates AS (
            SELECT s.id, s.completed_count, s.position, {_HELD} AS held FROM w AS s WHERE {_MINE} = 0
            UNION
            SELECT s.id, s.completed_count, s.position, {_HELD} AS held FROM {table(StudyClip)} s
            WHERE s.id IN (
                SELECT v.study_clip_id FROM {table(Reservation)} v
                WHERE v.expires_at > %(now)s AND v.rater_id <> %(rater)s
            ) AND s.study_id = %(study)s AND s.settled = %(no)s AND s.completed_count < %(overlap)s AND {_MINE} = 0
        )
        SELECT s.id, (SELECT COUNT(*) FROM w) FROM candidates AS s
        WHERE s.completed_count + s.held < %(overlap)s
        ORDER BY s.completed_count + s.held DESC, s.completed_count DESC, s.position
        LIMIT %(limit)s
    """  # table names come from the models; every value is a query parameter
    return open_clips, f"SELECT COUNT(*) FROM ({window}) AS w"


def _open_params(*, study: Study, rater, now: datetime) -> dict:
    return {
        "study": study.pk,
        "rater": rater.pk,
        "now": connection.ops.adapt_datetimefield_value(now),
        "overlap": study.raters_per_clip,
        "no": False,
    }


@dataclass(frozen=True)
class ClipLoad:
    """A study clip's load as one rater's submit sees it."""

    completed: int  # ratings that were not skipped
    rating_id: int | None  # the rater's own rating (skipped or not)
    reservation_id: int | None  # the rater's own LIVE reservation; a lapsed one counts as none
    reserved_at: datetime | None  # when that reservation was made: the labels shown from then on


def study_clip_load(*, study_clip_id: int, rater, now: datetime) -> ClipLoad:
    """One statement, so that callers holding the clip's row lock read a consistent load."""
    # Raw: +42% round trips/s over its ORM version at 32 saturating raters (bench/README.md).
    ratings, reservations = table(Rating), table(Reservation)
    sql = f"""
        SELECT
            (SELECT COUNT(*) FROM {ratings} WHERE study_clip_id = %(clip)s AND skipped = %(no)s),
            (SELECT id FROM {ratings} WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s),
            v.id, v.created_at
        FROM (SELECT 1) AS one LEFT JOIN {reservations} v
            ON v.study_clip_id = %(clip)s AND v.rater_id = %(rater)s AND v.expires_at > %(now)s
    """  # table names come from the models; every value is a query parameter
    params = {
        "clip": study_clip_id,
        "rater": rater.pk,
        "now": connection.ops.adapt_datetimefield_value(now),
        "no": False,
    }
    completed, rating_id, reservation_id, reserved_at = fetch_one(sql, params)
    reserved_at = _aware(reserved_at)
    return ClipLoad(completed, rating_id, reservation_id, reserved_at)


def _aware(value: datetime | str | None) -> datetime | None:
    """A raw statement's timestamp as the ORM reads it: SQLite returns the stored text, and
    both backends a naive UTC value."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
