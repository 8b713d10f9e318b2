"""Progress: how far a study is, as its rater and its researcher see it, and the flat
judgment rows evaluation works from."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from annotator.models import GoldLabel, Judgment, Rating, Reservation, Study, StudyClip, StudyClipLabel, StudyRater


def rater_progress(*, study: Study, rater, now: datetime | None = None) -> dict:
    """done: clips the rater rated or skipped; available: clips they could still be served
    (their own reservation included); total: clips in the study. One statement that walks
    the study's index once and the rater's own ratings, not every clip's ratings:
    available = clips below the overlap - those the rater rated or skipped - those others'
    live reservations fill (the last two never overlap)."""
    now = now or timezone.now()
    overlap = study.raters_per_clip
    clips = StudyClip.objects.filter(study=study).order_by()
    below = clips.filter(completed_count__lt=overlap)
    mine = Rating.objects.filter(study_clip__study=study, rater=rater).order_by()
    filled_by_others = (
        below.filter(pk__in=_study_clips_held_by_others(rater=rater, now=now))
        .alias(mine=_rated_by(rater=rater), load=F("completed_count") + _held_by_others(rater=rater, now=now))
        .filter(mine=0, load__gte=overlap)
    )
    total, done, skipped, available = (
        Study.objects.filter(pk=study.pk)
        .values_list(
            _SubqueryCount(clips.values("pk")),
            _SubqueryCount(mine.values("pk")),
            _SubqueryCount(mine.filter(skipped=True).values("pk")),
            _SubqueryCount(below.values("pk"))
            - _SubqueryCount(mine.filter(study_clip__completed_count__lt=overlap).values("pk"))
            - _SubqueryCount(filled_by_others.values("pk")),
        )
        .order_by()
        .get()
    )
    return {"done": done, "skipped": skipped, "available": available, "total": total}


class _SubqueryCount(Subquery):
    """COUNT(*) of a queryset's rows as a scalar subquery. Correlated through OuterRef it is
    one index probe per outer row, a plan that holds whatever the table statistics say (a
    NOT EXISTS becomes an anti-join, which stale statistics can make walk a whole table)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _held_by_others(*, rater, now: datetime) -> _SubqueryCount:
    """A study clip's live reservations held by raters other than `rater` (per outer row)."""
    reservations = Reservation.objects.filter(study_clip=OuterRef("pk"), expires_at__gt=now).exclude(rater=rater)
    return _SubqueryCount(reservations.values("pk"))


def _rated_by(*, rater) -> _SubqueryCount:
    """1 when `rater` rated or skipped the outer study clip, else 0."""
    return _SubqueryCount(Rating.objects.filter(study_clip=OuterRef("pk"), rater=rater).order_by().values("pk"))


def _study_clips_held_by_others(*, rater, now: datetime) -> QuerySet:
    """Ids of the study clips other raters hold live reservations on (a handful)."""
    return Reservation.objects.filter(expires_at__gt=now).exclude(rater=rater).values("study_clip_id")


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
            reserved=_SubqueryCount(
                Reservation.objects.filter(study_clip=OuterRef("pk"), expires_at__gt=now).values("pk")
            ),
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
    category_name and answer None). source is the label's (proposal, decoy or added: the
    judgments of a rater who added a label have added_by_rater too); is_decoy marks decoys;
    modality is A / V / AV or blank. clip_id is the Clip's primary key, clip_name its
    dataset id. Raters removed with their ratings excluded are left out."""
    excluded = StudyRater.objects.filter(study=study, ratings_excluded=True).values("rater_id")
    sources = {
        (study_clip_pk, category_pk): source
        for study_clip_pk, category_pk, source in StudyClipLabel.objects.filter(study_clip__study=study).values_list(
            "study_clip_id", "category_id", "source"
        )
    }
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
        Judgment.objects.filter(study=study)
        .exclude(rating__rater__in=excluded)
        .order_by("rating__study_clip__position", "rating__rater_id", "category_id")
        .values(*rating_fields.values(), "category_id", "category__name", "answer", "modality", "added_by_rater")
    )
    rows = []
    for judgment in judgments:
        row = {key: judgment[field] for key, field in rating_fields.items()}
        row.update(
            category_id=judgment["category_id"],
            category_name=judgment["category__name"],
            answer=judgment["answer"],
            modality=judgment["modality"],
            added_by_rater=judgment["added_by_rater"],
        )
        # A label added before labels were kept per clip has no row: it was added.
        default = StudyClipLabel.Source.ADDED if judgment["added_by_rater"] else StudyClipLabel.Source.PROPOSAL
        row["source"] = sources.get((row["study_clip_id"], judgment["category_id"]), default)
        row["is_decoy"] = row["source"] == StudyClipLabel.Source.DECOY
        rows.append(row)
    skipped_fields = {key: field.removeprefix("rating__") for key, field in rating_fields.items()}
    skipped_fields["rating_id"] = "pk"
    skipped = (
        Rating.objects.filter(study_clip__study=study, skipped=True)
        .exclude(rater__in=excluded)
        .order_by("study_clip__position", "rater_id")
        .values(*skipped_fields.values())
    )
    for rating in skipped:
        row = {key: rating[field] for key, field in skipped_fields.items()}
        row.update(category_id=None, category_name=None, answer=None, modality="", added_by_rater=False, is_decoy=False)
        row["source"] = ""
        rows.append(row)
    return rows


def study_gold_truth(*, study: Study) -> tuple[dict[tuple[int, int], bool], bool]:
    """(clip pk, category pk) -> known present / absent for the study's gold clips, and whether
    the dataset has any gold labels at all (without, gold clips are scored on their original
    labels as known present, nothing as known absent)."""
    gold_clips = StudyClip.objects.filter(study=study, is_gold=True).values("clip_id")
    truth = {
        (clip_pk, category_pk): present
        for clip_pk, category_pk, present in GoldLabel.objects.filter(clip_id__in=gold_clips).values_list(
            "clip_id", "category_id", "present"
        )
    }
    has_gold = bool(truth) or GoldLabel.objects.filter(clip__dataset_id=study.dataset_id).exists()
    return truth, has_gold
