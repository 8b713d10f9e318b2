"""Read paths of the annotator: what raters may see of their queue, what researchers see of
their studies, and the flat judgment rows evaluation works from.

Anything returned to a rater is built here, so the rule "never the original labels, never
the decoy flags, never another rater's answers" lives in one place (study_clip_payload).
"""

from __future__ import annotations

import functools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotator import roles
from annotator.models import (
    Category,
    Clip,
    ClipEvidence,
    Dataset,
    Judgment,
    Proposal,
    ProposalSet,
    Rating,
    Reservation,
    Study,
    StudyClip,
    StudyClipLabel,
)
from config.errors import NotFoundError

# --------------------------------------------------------------------------------------
# Catalogue (researchers)
# --------------------------------------------------------------------------------------


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.select_related("taxonomy").annotate(clip_count=Count("clips")).order_by("name")


def dataset_get(*, dataset_id: int) -> Dataset:
    dataset = dataset_list().filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFoundError(f"Dataset {dataset_id} does not exist.")
    return dataset


def dataset_summary(*, dataset: Dataset) -> dict:
    """Clip counts per split and per media status."""
    by_split = dict(dataset.clips.values_list("split").annotate(n=Count("pk")).order_by("split"))
    by_status = dict(dataset.clips.values_list("media_status").annotate(n=Count("pk")).order_by("media_status"))
    return {"clips_by_split": by_split, "clips_by_media_status": by_status}


def clip_list(
    *, dataset_id: int | None = None, split: str = "", media_status: str = "", label: str = ""
) -> QuerySet[Clip]:
    """Clips filtered by dataset, split, media status and original label (a category id or
    an exact, case-insensitive category name)."""
    clips = Clip.objects.select_related("dataset").order_by("dataset_id", "clip_id")
    if dataset_id is not None:
        clips = clips.filter(dataset_id=dataset_id)
    if split:
        clips = clips.filter(split=split)
    if media_status:
        clips = clips.filter(media_status=media_status)
    if label:
        by_label = Q(category_id=int(label)) if label.isdigit() else Q(category__name__iexact=label)
        clips = clips.filter(Exists(Clip.labels.through.objects.filter(by_label, clip=OuterRef("pk"))))
    return clips


def clip_get(*, clip_id: int) -> Clip:
    clip = Clip.objects.select_related("dataset").filter(pk=clip_id).first()
    if clip is None:
        raise NotFoundError(f"Clip {clip_id} does not exist.")
    return clip


def clip_label_names(*, clip: Clip) -> list[str]:
    return list(Category.objects.filter(clip_labels__clip=clip).order_by("index").values_list("name", flat=True))


def proposal_set_list(*, dataset_id: int | None = None) -> QuerySet[ProposalSet]:
    sets = ProposalSet.objects.annotate(proposal_count=Count("proposals")).order_by("-created_at", "-pk")
    return sets.filter(dataset_id=dataset_id) if dataset_id is not None else sets


# --------------------------------------------------------------------------------------
# Studies: who may see which
# --------------------------------------------------------------------------------------


def studies_for_researcher(*, user) -> QuerySet[Study]:
    """A researcher's own studies; an admin sees every study."""
    studies = Study.objects.select_related("dataset", "proposal_set", "owner").order_by("-created_at", "-pk")
    studies = studies.annotate(clip_count=Count("study_clips"))
    return studies if roles.user_is_admin(user) else studies.filter(owner=user)


def study_for_researcher(*, user, study_id: int) -> Study:
    study = studies_for_researcher(user=user).filter(pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} does not exist or is not yours.")
    return study


def rater_studies(*, rater) -> QuerySet[Study]:
    """Active studies the rater is in."""
    return Study.objects.filter(raters=rater, status=Study.Status.ACTIVE).order_by("-created_at", "-pk")


def study_for_rater(*, rater, study_id: int) -> Study:
    study = rater_studies(rater=rater).filter(pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.")
    return study


# --------------------------------------------------------------------------------------
# The queue's hot path. `next` and `submit` run on every rater click, so their statements
# are written out: one round trip each, and no ORM query compilation, which costs the web
# process more CPU than the database spends answering them. Rows come back as model
# instances through Model.from_db, as the ORM would build them.
# --------------------------------------------------------------------------------------


def _table(model) -> str:
    return model._meta.db_table


@functools.cache
def _columns(model, alias: str) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)


def _instance(model, values: Sequence):
    """The model instance the ORM would build from a row of _columns(model, ...)."""
    fields, converters = _field_converters(model, connection.vendor)
    if converters:
        values = list(values)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, fields, values)


@functools.cache
def _field_converters(model, vendor: str) -> tuple[list[str], list[tuple[int, object, list]]]:
    """Attribute names and the database converters (SQLite booleans and datetimes, JSON
    text, ...) of a model's concrete fields, in column order; per backend, built once."""
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return [field.attname for field in model._meta.concrete_fields], converters


# The relations a study clip can be read with, as select_related would join them.
_STUDY_CLIP_RELATED = {"study": (Study, "st", "st.id = sc.study_id"), "clip": (Clip, "c", "c.id = sc.clip_id")}


@functools.cache
def _study_clip_select(related: tuple[str, ...], extra: str = "") -> str:
    """SELECT <study clip and related columns>[, extra] FROM <study clip joined to them> (alias sc)."""
    columns = [_columns(StudyClip, "sc")]
    joins = [f"FROM {_table(StudyClip)} sc"]
    for name in related:
        model, alias, condition = _STUDY_CLIP_RELATED[name]
        columns.append(_columns(model, alias))
        joins.append(f"JOIN {_table(model)} {alias} ON {condition}")
    return f"SELECT {', '.join(columns + ([extra] if extra else []))} {' '.join(joins)}"


def _study_clip_from_row(row: Sequence, related: tuple[str, ...]) -> StudyClip:
    """A StudyClip with its related rows attached, from a row of _study_clip_select(related)."""
    end = len(StudyClip._meta.concrete_fields)
    study_clip = _instance(StudyClip, row[:end])
    for name in related:
        model = _STUDY_CLIP_RELATED[name][0]
        start, end = end, end + len(model._meta.concrete_fields)
        setattr(study_clip, name, _instance(model, row[start:end]))
    return study_clip


def _fetch_one(sql: str, params) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetch_all(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def user_for_token(*, key: str) -> tuple[AbstractBaseUser, Token] | None:
    """The API token with this key and its user, or None; one statement that also reads the
    user's group names and leaves them where annotator.roles looks first (its per-user
    cache), so the role check that follows costs no query of its own."""
    user_model = get_user_model()
    groups = user_model.groups.through
    sql = (
        f"SELECT {_columns(Token, 't')}, {_columns(user_model, 'u')}, g.name FROM {_table(Token)} t"
        f" JOIN {_table(user_model)} u ON u.id = t.user_id"
        f" LEFT JOIN {_table(groups)} ug ON ug.user_id = u.id LEFT JOIN {_table(Group)} g ON g.id = ug.group_id"
        " WHERE t.key = %s"
    )
    rows = _fetch_all(sql, [key])
    if not rows:
        return None
    cut = len(Token._meta.concrete_fields)
    token = _instance(Token, rows[0][:cut])
    token.user = user = _instance(user_model, rows[0][cut:-1])
    roles.user_roles_remember(user, {row[-1] for row in rows if row[-1] is not None})
    return user, token


def study_get(*, study_id: int) -> Study:
    """A study by id (who may use it is for the caller to decide)."""
    row = _fetch_one(f"SELECT {_columns(Study, 'st')} FROM {_table(Study)} st WHERE st.id = %s", [study_id])
    if row is None:
        raise NotFoundError(f"Study {study_id} does not exist.")
    return _instance(Study, row)


def study_clip_get(*, study_clip_id: int, related: tuple[str, ...] = ("study", "clip")) -> StudyClip:
    """A study clip with the related rows named (who may see it is for the caller to decide)."""
    row = _fetch_one(f"{_study_clip_select(related)} WHERE sc.id = %s", [study_clip_id])
    if row is None:
        raise NotFoundError(f"Clip {study_clip_id} does not exist.")
    return _study_clip_from_row(row, related)


def study_clip_for_rater(*, rater, study_clip_id: int) -> StudyClip:
    """A study clip the user may look at: one they hold a reservation or a rating for, one of
    their own studies, or any for an admin. Anything else is reported as not found.
    Returned with its study and clip; one statement."""
    mine = (
        f"EXISTS (SELECT 1 FROM {_table(Reservation)} WHERE study_clip_id = sc.id AND rater_id = %(rater)s)"
        f" OR EXISTS (SELECT 1 FROM {_table(Rating)} WHERE study_clip_id = sc.id AND rater_id = %(rater)s)"
    )
    related = ("study", "clip")
    row = _fetch_one(
        f"{_study_clip_select(related, extra=mine)} WHERE sc.id = %(study_clip)s",
        {"rater": rater.pk, "study_clip": study_clip_id},
    )
    study_clip = None if row is None else _study_clip_from_row(row, related)
    if study_clip is None or not (row[-1] or study_clip.study.owner_id == rater.pk or roles.user_is_admin(rater)):
        raise NotFoundError(f"Clip {study_clip_id} is not in your queue.")
    return study_clip


def study_clip_for_update(
    *, study_clip_id: int, related: tuple[str, ...] = ("study", "clip"), skip_locked: bool = False
) -> StudyClip | None:
    """A study clip with the related rows named, read while taking its row lock (the caller
    runs in a transaction). None when it does not exist or, with skip_locked, when another
    transaction holds the lock. On SQLite, which has no row locks, a plain read: there the
    caller's write transaction (BEGIN IMMEDIATE) already excludes every other writer."""
    lock = ""
    if connection.features.has_select_for_update:
        lock = " FOR UPDATE OF sc" if connection.features.has_select_for_update_of else " FOR UPDATE"
        if skip_locked:
            lock += " SKIP LOCKED"
    row = _fetch_one(f"{_study_clip_select(related)} WHERE sc.id = %s{lock}", [study_clip_id])
    return None if row is None else _study_clip_from_row(row, related)


def study_clip_shown_category_ids(*, study_clip_id: int) -> set[int]:
    """The categories a study clip shows (fixed when the study was created)."""
    rows = _fetch_all(f"SELECT category_id FROM {_table(StudyClipLabel)} WHERE study_clip_id = %s", [study_clip_id])
    return {category_pk for (category_pk,) in rows}


@dataclass(frozen=True)
class QueueState:
    """Where a rater stands in a study's queue, as clip_next_for_rater needs it."""

    is_member: bool  # the rater is in the study's pool
    held_study_clip_id: int | None  # their oldest live reservation in the study
    has_lapsed: bool  # they hold lapsed reservations in the study


def rater_queue_state(*, study: Study, rater, now: datetime) -> QueueState:
    """Pool membership and the rater's own reservations in the study, in one statement."""
    members, clips, reservations = _table(Study.raters.through), _table(StudyClip), _table(Reservation)
    own = (
        f"FROM {reservations} v JOIN {clips} s ON s.id = v.study_clip_id"
        " WHERE s.study_id = %(study)s AND v.rater_id = %(rater)s"
    )
    sql = f"""
        SELECT
            EXISTS (SELECT 1 FROM {members} WHERE study_id = %(study)s AND user_id = %(rater)s),
            (SELECT v.study_clip_id {own} AND v.expires_at > %(now)s ORDER BY v.created_at, v.id LIMIT 1),
            EXISTS (SELECT 1 {own} AND v.expires_at <= %(now)s)
    """  # table names come from the models; every value is a query parameter
    params = {"study": study.pk, "rater": rater.pk, "now": connection.ops.adapt_datetimefield_value(now)}
    is_member, held, lapsed = _fetch_one(sql, params)
    return QueueState(bool(is_member), held, bool(lapsed))


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
    not and was full, the rater's own ratings filled it (a rater ahead of the others leaves
    a trail of clips only they have rated at the head of the order): it is read again
    leaving those out through one hashed look-up, then wider if need be."""
    params = {**_open_params(study=study, rater=rater, now=now), "limit": limit, "window": 4 * limit}
    without_mine = False
    while True:
        open_sql, window_sql = _open_clips_sql(without_mine=without_mine)
        rows = _fetch_all(open_sql, params)
        window_size = rows[0][1] if rows else _fetch_one(window_sql, params)[0]
        if len(rows) == limit or window_size < params["window"]:
            return [study_clip_pk for study_clip_pk, _ in rows]
        if without_mine:
            params["window"] *= 4
        without_mine = True


# A study clip `s`'s live reservations held by raters other than %(rater)s, and whether `s` is
# open to %(rater)s: below the overlap counting those, and not rated or skipped by them. Both
# are scalar subqueries on purpose: each is one probe of a (study_clip_id, rater_id) index per
# clip looked at, a plan that holds whatever the table statistics say (PostgreSQL turns a NOT
# EXISTS into an anti-join, which stale statistics can make walk all of the rater's ratings).
_HELD = (
    f"(SELECT COUNT(*) FROM {_table(Reservation)} v"
    " WHERE v.study_clip_id = s.id AND v.expires_at > %(now)s AND v.rater_id <> %(rater)s)"
)
_MINE = f"(SELECT COUNT(*) FROM {_table(Rating)} r WHERE r.study_clip_id = s.id AND r.rater_id = %(rater)s)"
_OPEN = f"s.completed_count < %(overlap)s AND {_MINE} = 0 AND s.completed_count + {_HELD} < %(overlap)s"


@functools.cache
def _open_clips_sql(*, without_mine: bool) -> tuple[str, str]:
    """The statement behind study_clips_open_for_rater, and the one counting its window."""
    # The clips below the overlap in serving order (the queue's index), at most %(window)s;
    # without_mine leaves out the rater's own (the subquery runs once, into a hash table).
    mine = f"AND s.id NOT IN (SELECT study_clip_id FROM {_table(Rating)} WHERE rater_id = %(rater)s)"
    window = f"""
        SELECT s.id, s.completed_count, s.position FROM {_table(StudyClip)} s
        WHERE s.study_id = %(study)s AND s.completed_count < %(overlap)s {mine if without_mine else ""}
        ORDER BY s.completed_count DESC, s.position
        LIMIT %(window)s
    """
    # The window's clips open to the rater, and the clips others hold, best first; with the
    # window's size, which tells the caller whether it saw every clip below the overlap.
    open_clips = f"""
        WITH w AS ({window}), candidates AS (
            SELECT s.id, s.completed_count, s.position, {_HELD} AS held FROM w AS s WHERE {_MINE} = 0
            UNION
            SELECT s.id, s.completed_count, s.position, {_HELD} AS held FROM {_table(StudyClip)} s
            WHERE s.id IN (
                SELECT v.study_clip_id FROM {_table(Reservation)} v
                WHERE v.expires_at > %(now)s AND v.rater_id <> %(rater)s
            ) AND s.study_id = %(study)s AND s.completed_count < %(overlap)s AND {_MINE} = 0
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
    }


@dataclass(frozen=True)
class ClipLoad:
    """A study clip's load as one rater's request sees it."""

    completed: int  # ratings that were not skipped
    held_by_others: int  # live reservations of other raters
    rating_id: int | None  # the rater's own rating (skipped or not)
    reservation_id: int | None  # the rater's own reservation, live or lapsed
    reservation_live: bool


def study_clip_load(*, study_clip_id: int, rater, now: datetime) -> ClipLoad:
    """One statement, so that callers holding the clip's row lock read a consistent load."""
    ratings, reservations = _table(Rating), _table(Reservation)
    sql = f"""
        SELECT
            (SELECT COUNT(*) FROM {ratings} WHERE study_clip_id = %(clip)s AND skipped = %(no)s),
            (SELECT COUNT(*) FROM {reservations}
             WHERE study_clip_id = %(clip)s AND expires_at > %(now)s AND rater_id <> %(rater)s),
            (SELECT id FROM {ratings} WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s),
            (SELECT id FROM {reservations} WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s),
            (SELECT COUNT(*) FROM {reservations}
             WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s AND expires_at > %(now)s)
    """  # table names come from the models; every value is a query parameter
    params = {
        "clip": study_clip_id,
        "rater": rater.pk,
        "now": connection.ops.adapt_datetimefield_value(now),
        "no": False,
    }
    completed, held, rating_id, reservation_id, live = _fetch_one(sql, params)
    return ClipLoad(completed, held, rating_id, reservation_id, bool(live))


# --------------------------------------------------------------------------------------
# What a rater sees
# --------------------------------------------------------------------------------------


def study_clip_media_url(*, study_clip_id: int) -> str:
    return f"/media/clips/{study_clip_id}/"


def study_clip_payload(*, study_clip: StudyClip) -> dict:
    """What the rater page shows for a clip. Built from an allow-list of fields: never the
    original labels, never which label is a decoy, never another rater's answers."""
    study = study_clip.study
    clip = study_clip.clip
    rows = _fetch_all(
        f"SELECT l.category_id, c.name, l.position FROM {_table(StudyClipLabel)} l"
        f" JOIN {_table(Category)} c ON c.id = l.category_id WHERE l.study_clip_id = %s ORDER BY l.position",
        [study_clip.pk],
    )
    labels = [{"category_id": category_pk, "name": name, "position": position} for category_pk, name, position in rows]
    media_url = study_clip_media_url(study_clip_id=study_clip.pk)
    payload = {
        "study_clip_id": study_clip.pk,
        "study_id": study.pk,
        "clip_id": clip.clip_id,
        "instructions": study.instructions,
        "media_url": media_url,
        "spectrogram_url": f"{media_url}spectrogram.json",
        "duration_seconds": clip.duration_seconds,
        "has_audio": clip.has_audio,
        "labels": labels,
        "evidence": None,
    }
    if study.show_evidence:
        payload["evidence"] = _evidence(study_clip=study_clip, labels=labels, media_url=media_url)
    return payload


def _evidence(*, study_clip: StudyClip, labels: list[dict], media_url: str) -> dict:
    """The model's evidence. Which heads proposed each label is left out when the study
    shows decoys: no head proposes a decoy, so the heads would give every decoy away."""
    study = study_clip.study
    proposal_set_id = study.proposal_set_id
    label_heads = study.decoys_per_clip == 0
    if label_heads:
        heads = dict(
            Proposal.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).values_list(
                "category_id", "heads"
            )
        )
        for label in labels:
            label["heads"] = list(heads.get(label["category_id"]) or [])
    evidence = ClipEvidence.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).first()
    return {
        "label_heads": label_heads,
        "event_type": evidence.event_type if evidence else "",
        "instant_seconds": list(evidence.instant_seconds) if evidence else [],
        "onset_seconds": list(evidence.onset_seconds) if evidence else [],
        "heatmap_url": f"{media_url}heatmap.png" if evidence and evidence.heatmap_path else None,
    }


def rating_payload(*, rating: Rating) -> dict:
    """A stored rating as its rater sees it: their own answers, nothing of anyone else's."""
    rows = _fetch_all(
        f"SELECT category_id, answer, added_by_rater FROM {_table(Judgment)} WHERE rating_id = %s ORDER BY id",
        [rating.pk],
    )
    return {
        "id": rating.pk,
        "study_clip_id": rating.study_clip_id,
        "skipped": rating.skipped,
        "seconds_spent": rating.seconds_spent,
        "submitted_at": rating.submitted_at,
        "judgments": [
            {"category_id": category_pk, "answer": answer, "added_by_rater": bool(added)}
            for category_pk, answer, added in rows
        ],
    }


def rater_progress(*, study: Study, rater, now: datetime | None = None) -> dict:
    """done: clips the rater rated or skipped; available: clips they could still be served
    (their own reservation included); total: clips in the study. One statement that walks
    the study's index once and the rater's own ratings, not every clip's ratings:
    available = clips below the overlap - those the rater rated or skipped - those others'
    live reservations fill (the last two never overlap)."""
    clips, ratings, reservations = _table(StudyClip), _table(Rating), _table(Reservation)
    sql = f"""
        SELECT
            (SELECT COUNT(*) FROM {clips} s WHERE s.study_id = %(study)s),
            (SELECT COUNT(*) FROM {ratings} r JOIN {clips} s ON s.id = r.study_clip_id
             WHERE s.study_id = %(study)s AND r.rater_id = %(rater)s),
            (SELECT COUNT(*) FROM {ratings} r JOIN {clips} s ON s.id = r.study_clip_id
             WHERE s.study_id = %(study)s AND r.rater_id = %(rater)s AND r.skipped = %(yes)s),
            (SELECT COUNT(*) FROM {clips} s WHERE s.study_id = %(study)s AND s.completed_count < %(overlap)s)
          - (SELECT COUNT(*) FROM {ratings} r JOIN {clips} s ON s.id = r.study_clip_id
             WHERE s.study_id = %(study)s AND r.rater_id = %(rater)s AND s.completed_count < %(overlap)s)
          - (SELECT COUNT(*) FROM {clips} s
             WHERE s.id IN (SELECT v.study_clip_id FROM {reservations} v
                            WHERE v.expires_at > %(now)s AND v.rater_id <> %(rater)s)
               AND s.study_id = %(study)s AND s.completed_count < %(overlap)s AND {_MINE} = 0
               AND s.completed_count + {_HELD} >= %(overlap)s)
    """  # table names come from the models; every value is a query parameter
    params = {**_open_params(study=study, rater=rater, now=now or timezone.now()), "yes": True}
    total, done, skipped, available = _fetch_one(sql, params)
    return {"done": done, "skipped": skipped, "available": available, "total": total}


def _count(queryset) -> Coalesce:
    counted = queryset.order_by().values("study_clip").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted), 0)


# --------------------------------------------------------------------------------------
# What a researcher sees
# --------------------------------------------------------------------------------------


def study_progress(*, study: Study, now: datetime | None = None) -> dict:
    """Totals, one row per rater (done, skipped, median seconds per completed clip, live
    reservations) and one row per clip (completed, skipped, reserved, still needed)."""
    now = now or timezone.now()
    overlap = study.raters_per_clip
    clip_rows = [
        {
            "study_clip_id": row["pk"],
            "clip_id": row["clip__clip_id"],
            "position": row["position"],
            "is_gold": row["is_gold"],
            "completed": row["completed"],
            "skipped": row["skipped"],
            "reserved": row["reserved"],
            "needed": max(overlap - row["completed"], 0),
        }
        for row in StudyClip.objects.filter(study=study)
        .annotate(
            completed=Count("ratings", filter=Q(ratings__skipped=False)),
            skipped=Count("ratings", filter=Q(ratings__skipped=True)),
            reserved=_count(Reservation.objects.filter(study_clip=OuterRef("pk"), expires_at__gt=now)),
        )
        .order_by("position")
        .values("pk", "clip__clip_id", "position", "is_gold", "completed", "skipped", "reserved")
    ]
    rater_rows = _rater_rows(study=study, now=now)
    needed = len(clip_rows) * overlap
    completed = sum(min(row["completed"], overlap) for row in clip_rows)
    return {
        "study_id": study.pk,
        "status": study.status,
        "totals": {
            "clips": len(clip_rows),
            "gold_clips": sum(row["is_gold"] for row in clip_rows),
            "raters": len(rater_rows),
            "raters_per_clip": overlap,
            "ratings_needed": needed,
            "ratings_completed": completed,
            "ratings_skipped": sum(row["skipped"] for row in clip_rows),
            "reserved": sum(row["reserved"] for row in clip_rows),
            "clips_complete": sum(row["completed"] >= overlap for row in clip_rows),
            "fraction_complete": completed / needed if needed else 0.0,
        },
        "raters": rater_rows,
        "clips": clip_rows,
    }


def _rater_rows(*, study: Study, now: datetime) -> list[dict]:
    done: dict[int, int] = defaultdict(int)
    skipped: dict[int, int] = defaultdict(int)
    seconds: dict[int, list[float]] = defaultdict(list)
    for rater_pk, was_skipped, spent in Rating.objects.filter(study_clip__study=study).values_list(
        "rater_id", "skipped", "seconds_spent"
    ):
        if was_skipped:
            skipped[rater_pk] += 1
            continue
        done[rater_pk] += 1
        if spent is not None:
            seconds[rater_pk].append(spent)
    reserved = dict(
        Reservation.objects.filter(study_clip__study=study, expires_at__gt=now)
        .values_list("rater_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    members = dict(study.raters.values_list("pk", "username"))
    extra = (set(done) | set(skipped)) - set(members)
    if extra:  # raters removed from the pool keep their rows
        members.update(study.raters.model.objects.filter(pk__in=extra).values_list("pk", "username"))
    return [
        {
            "rater_id": pk,
            "username": username,
            "done": done.get(pk, 0),
            "skipped": skipped.get(pk, 0),
            "reserved": reserved.get(pk, 0),
            "median_seconds": statistics.median(seconds[pk]) if seconds.get(pk) else None,
        }
        for pk, username in sorted(members.items(), key=lambda item: item[1])
    ]


def study_judgments(*, study: Study) -> list[dict]:
    """Flat rows for evaluation, one per judgment plus one per skipped rating (category_id,
    category_name and answer None). is_decoy marks shown decoys; added labels have
    added_by_rater. clip_id is the Clip's primary key, clip_name its dataset id."""
    decoys = set(
        StudyClipLabel.objects.filter(study_clip__study=study, is_decoy=True).values_list(
            "study_clip_id", "category_id"
        )
    )
    rating_fields = {
        "rating_id": "rating_id",
        "study_clip_id": "rating__study_clip_id",
        "clip_id": "rating__study_clip__clip_id",
        "clip_name": "rating__study_clip__clip__clip_id",
        "rater_id": "rating__rater_id",
        "is_gold": "rating__study_clip__is_gold",
        "skipped": "rating__skipped",
        "seconds_spent": "rating__seconds_spent",
    }
    judgments = (
        Judgment.objects.filter(rating__study_clip__study=study)
        .order_by("rating__study_clip__position", "rating__rater_id", "category_id")
        .values(*rating_fields.values(), "category_id", "category__name", "answer", "added_by_rater")
    )
    rows = []
    for judgment in judgments:
        row = {key: judgment[field] for key, field in rating_fields.items()}
        row.update(
            category_id=judgment["category_id"],
            category_name=judgment["category__name"],
            answer=judgment["answer"],
            added_by_rater=judgment["added_by_rater"],
            is_decoy=(row["study_clip_id"], judgment["category_id"]) in decoys,
        )
        rows.append(row)
    skipped_fields = {key: field.removeprefix("rating__") for key, field in rating_fields.items()}
    skipped_fields["rating_id"] = "pk"
    skipped = (
        Rating.objects.filter(study_clip__study=study, skipped=True)
        .order_by("study_clip__position", "rater_id")
        .values(*skipped_fields.values())
    )
    for rating in skipped:
        row = {key: rating[field] for key, field in skipped_fields.items()}
        row.update(category_id=None, category_name=None, answer=None, added_by_rater=False, is_decoy=False)
        rows.append(row)
    return rows
