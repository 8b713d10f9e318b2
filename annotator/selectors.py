"""Read paths of the annotator: what raters may see of their queue, what researchers see of
their studies, and the flat judgment rows evaluation works from.

Anything returned to a rater is built here, so the rule "never the original labels, never
the decoy flags, never another rater's answers" lives in one place (study_clip_payload).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

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


def study_clip_for_rater(*, rater, study_clip_id: int) -> StudyClip:
    """A study clip the user may look at: one they hold a reservation or a rating for, one of
    their own studies, or any for an admin. Anything else is reported as not found."""
    study_clip = StudyClip.objects.select_related("study", "clip").filter(pk=study_clip_id).first()
    if study_clip is None or not (
        Reservation.objects.filter(study_clip_id=study_clip_id, rater=rater).exists()
        or Rating.objects.filter(study_clip_id=study_clip_id, rater=rater).exists()
        or study_clip.study.owner_id == rater.pk
        or roles.user_is_admin(rater)
    ):
        raise NotFoundError(f"Clip {study_clip_id} is not in your queue.")
    return study_clip


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
    ratings, reservations = Rating._meta.db_table, Reservation._meta.db_table
    sql = f"""
        SELECT
            (SELECT COUNT(*) FROM {ratings} WHERE study_clip_id = %s AND skipped = %s),
            (SELECT COUNT(*) FROM {reservations} WHERE study_clip_id = %s AND expires_at > %s AND rater_id <> %s),
            (SELECT id FROM {ratings} WHERE study_clip_id = %s AND rater_id = %s),
            (SELECT id FROM {reservations} WHERE study_clip_id = %s AND rater_id = %s),
            (SELECT COUNT(*) FROM {reservations} WHERE study_clip_id = %s AND rater_id = %s AND expires_at > %s)
    """  # table names come from the models; every value is a query parameter
    at = connection.ops.adapt_datetimefield_value(now)
    pk, me = study_clip_id, rater.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, False, pk, at, me, pk, me, pk, me, pk, me, at])
        completed, held, rating_id, reservation_id, live = cursor.fetchone()
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
    labels = [
        {"category_id": category_pk, "name": name, "position": position}
        for category_pk, name, position in StudyClipLabel.objects.filter(study_clip=study_clip)
        .order_by("position")
        .values_list("category_id", "category__name", "position")
    ]
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
    proposal_set_id = study_clip.study.proposal_set_id
    heads = dict(
        Proposal.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).values_list(
            "category_id", "heads"
        )
    )
    for label in labels:
        label["heads"] = list(heads.get(label["category_id"]) or [])
    evidence = ClipEvidence.objects.filter(proposal_set_id=proposal_set_id, clip_id=study_clip.clip_id).first()
    return {
        "event_type": evidence.event_type if evidence else "",
        "instant_seconds": list(evidence.instant_seconds) if evidence else [],
        "onset_seconds": list(evidence.onset_seconds) if evidence else [],
        "heatmap_url": f"{media_url}heatmap.png" if evidence and evidence.heatmap_path else None,
    }


def rater_progress(*, study: Study, rater, now: datetime | None = None) -> dict:
    """done: clips the rater rated or skipped; available: clips they could still be served
    (their own reservation included); total: clips in the study."""
    now = now or timezone.now()
    mine = Rating.objects.filter(study_clip__study=study, rater=rater).aggregate(
        done=Count("pk"), skipped=Count("pk", filter=Q(skipped=True))
    )
    sql, params = _open_clips_sql(study=study, rater=rater, now=now, select="COUNT(*)")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (available,) = cursor.fetchone()
    total = StudyClip.objects.filter(study=study).count()
    return {"done": mine["done"], "skipped": mine["skipped"], "available": available, "total": total}


def study_clips_open_for_rater(*, study: Study, rater, now: datetime, limit: int) -> list[int]:
    """Ids of the study clips the rater could be served now, best first: not rated or
    skipped by them, completed ratings plus others' live reservations below the overlap;
    most loaded (closest to completion) first, then most completed, then by position.

    Read without locks: the queue re-counts a clip under its row lock before reserving it."""
    sql, params = _open_clips_sql(
        study=study,
        rater=rater,
        now=now,
        select="sc.id",
        tail="ORDER BY COALESCE(r.done, 0) + COALESCE(v.held, 0) DESC, COALESCE(r.done, 0) DESC, sc.position LIMIT %s",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def _open_clips_sql(*, study: Study, rater, now: datetime, select: str, tail: str = "") -> tuple[str, list]:
    """The hot query of the queue, in SQL both PostgreSQL and SQLite run: ratings and live
    reservations are aggregated once per study in derived tables and joined to its clips,
    several times cheaper than the ORM's per-clip subqueries or its grouped joins."""
    clips, ratings, reservations = (model._meta.db_table for model in (StudyClip, Rating, Reservation))
    sql = f"""
        SELECT {select}
        FROM {clips} sc
        LEFT JOIN (
            SELECT r.study_clip_id,
                   SUM(CASE WHEN r.skipped THEN 0 ELSE 1 END) AS done,
                   MAX(CASE WHEN r.rater_id = %s THEN 1 ELSE 0 END) AS mine
            FROM {ratings} r JOIN {clips} s ON s.id = r.study_clip_id
            WHERE s.study_id = %s
            GROUP BY r.study_clip_id
        ) r ON r.study_clip_id = sc.id
        LEFT JOIN (
            SELECT v.study_clip_id, COUNT(*) AS held
            FROM {reservations} v JOIN {clips} s ON s.id = v.study_clip_id
            WHERE s.study_id = %s AND v.expires_at > %s AND v.rater_id <> %s
            GROUP BY v.study_clip_id
        ) v ON v.study_clip_id = sc.id
        WHERE sc.study_id = %s
          AND COALESCE(r.mine, 0) = 0
          AND COALESCE(r.done, 0) + COALESCE(v.held, 0) < %s
        {tail}
    """  # table names come from the models; every value is a query parameter
    now_param = connection.ops.adapt_datetimefield_value(now)
    params = [rater.pk, study.pk, study.pk, now_param, rater.pk, study.pk, study.raters_per_clip]
    return sql, params


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
