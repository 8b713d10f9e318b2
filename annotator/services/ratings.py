"""Storing ratings: a rater's answers for a clip they hold a live reservation for, validated
against the labels the clip shows; idempotent (submitting again returns the stored rating)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotator import selectors
from annotator.models import Judgment, Rating, Reservation, StudyClip
from annotator.services import clip_labels
from annotator.services.answers import answers_check
from annotator.services.queue import LAPSED_MESSAGE, completed_count_sync, require_active
from annotator.services.standing import rater_auto_pause_check
from config.errors import ApplicationError, ConflictError, NotFoundError

User = AbstractBaseUser
MAX_SECONDS_SPENT = 24 * 3600.0


def rating_submit(
    *,
    study_clip: StudyClip,
    rater: User,
    answers: Mapping[int, str],
    added_category_ids: Sequence[int] = (),
    modalities: Mapping[int, str] | None = None,
    seconds_spent: float | None = None,
    skipped: bool = False,
) -> Rating:
    """Store a rater's answers for a clip they hold a live reservation for. Submitting again
    returns the stored rating unchanged. A skipped clip stores no judgments (answers sent
    with it are ignored).

    `modalities` says for a present answer or an added label whether it is heard (A), seen
    (V) or both (AV), in studies that ask; one left out is recorded as not given. A label the
    rater adds becomes a label the clip's later raters are shown (services.clip_labels).

    Raises ConflictError when the study is closed, or when the rater has no rating and no
    live reservation (it lapsed, whether or not its row was purged since: one answer);
    ApplicationError for answers that do not fit the labels shown (services.answers)."""
    try:
        with transaction.atomic():
            return _rating_store(
                study_clip_pk=study_clip.pk,
                rater=rater,
                answers=answers,
                added_category_ids=added_category_ids,
                modalities=modalities or {},
                seconds_spent=seconds_spent,
                skipped=skipped,
            )
    except IntegrityError:
        # A concurrent duplicate was stored first; only possible without row locks (SQLite).
        stored = Rating.objects.filter(study_clip_id=study_clip.pk, rater=rater).first()
        if stored is None:
            raise
        return stored


def _rating_store(
    *,
    study_clip_pk: int,
    rater: User,
    answers: Mapping[int, str],
    added_category_ids: Sequence[int],
    modalities: Mapping[int, str],
    seconds_spent: float | None,
    skipped: bool,
) -> Rating:
    """The body of rating_submit, run inside its transaction while holding the clip's lock."""
    locked = selectors.study_clip_for_update(study_clip_id=study_clip_pk, related=("study",))
    if locked is None:
        raise NotFoundError(f"Clip {study_clip_pk} does not exist.")
    # Taken under the lock: label changes are stamped after every reservation that got in first.
    now = timezone.now()
    load = selectors.study_clip_load(study_clip_id=study_clip_pk, rater=rater, now=now)
    if load.rating_id is not None:
        return Rating.objects.get(pk=load.rating_id)
    study = locked.study
    require_active(study=study)
    if load.reservation_id is None:
        # A live reservation counted in the clip's load, so storing cannot over-fill it.
        raise ConflictError(LAPSED_MESSAGE)
    seconds = validated_seconds(seconds_spent)
    judgments: list[Judgment] = []
    added_something = False
    labels: list = []
    if not skipped:
        labels = selectors.study_clip_labels(study_clip_id=study_clip_pk)
        checked = answers_check(
            labels=labels,
            reserved_at=load.reserved_at or now,
            answers=answers,
            added=added_category_ids,
            modalities=modalities,
            dataset_id=study.dataset_id,
            ask_modality=study.ask_modality,
        )
        judgments = [
            Judgment(category_id=pk, answer=answer, modality=modality) for pk, answer, modality in checked.answered
        ]
        judgments += [
            Judgment(category_id=pk, answer=Judgment.Answer.PRESENT, modality=modality, added_by_rater=True)
            for pk, modality in checked.added
        ]
        added_something = clip_labels.added_labels_store(
            study_clip=locked, study=study, rater=rater, labels=labels, added=[pk for pk, _ in checked.added], now=now
        )
    rating = _rating_insert(study_clip=locked, rater=rater, skipped=skipped, seconds_spent=seconds, judgments=judgments)
    Reservation.objects.filter(pk=load.reservation_id).delete()
    if skipped:
        completed_count_sync(study_clip=locked, completed=load.completed)
        return rating
    completed = load.completed + 1
    quiet = 0 if added_something else locked.quiet_ratings + 1
    completed_count_sync(study_clip=locked, completed=completed, quiet_ratings=quiet)
    if locked.is_gold:
        clip_labels.gold_tally_add(study=study, study_clip=locked, rater=rater, judgments=judgments)
    rater_auto_pause_check(study=study, study_clip=locked, rater=rater, judgments=judgments)
    if added_something or clip_labels.review_needed(study=study, study_clip=locked, labels=labels):
        clip_labels.clip_review_apply(study_clip=locked, study=study, completed=completed, quiet_ratings=quiet, now=now)
    return rating


def _rating_insert(
    *, study_clip: StudyClip, rater: User, skipped: bool, seconds_spent: float | None, judgments: Sequence[Judgment]
) -> Rating:
    """Rating.objects.create plus Judgment.objects.bulk_create, written out as two plain
    INSERTs (the submit hot path; no signals or save() logic exist to bypass)."""
    # Raw: +15% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
    values = {
        "study_clip_id": study_clip.pk,
        "rater_id": rater.pk,
        "skipped": bool(skipped),
        "seconds_spent": seconds_spent,
        "submitted_at": timezone.now(),
    }
    params = [*values.values()]
    params[-1] = connection.ops.adapt_datetimefield_value(values["submitted_at"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Rating._meta.db_table} ({', '.join(values)}) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            params,
        )
        (values["id"],) = cursor.fetchone()
        if judgments:
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(judgments))
            params = [
                value
                for judgment in judgments
                for value in (
                    values["id"],
                    study_clip.study_id,
                    judgment.category_id,
                    judgment.answer,
                    judgment.modality,
                    bool(judgment.added_by_rater),
                )
            ]
            columns = "rating_id, study_id, category_id, answer, modality, added_by_rater"
            cursor.execute(f"INSERT INTO {Judgment._meta.db_table} ({columns}) VALUES {rows}", params)
    values.update(version=1, revised_at=None)  # the columns' defaults
    fields = [field.attname for field in Rating._meta.concrete_fields]
    rating = Rating.from_db(connection.alias, fields, [values[name] for name in fields])
    rating.study_clip, rating.rater = study_clip, rater
    return rating


def validated_seconds(seconds_spent: float | None) -> float | None:
    """A rater's time on a clip: None, or seconds between 0 and a day."""
    if seconds_spent is None:
        return None
    try:
        seconds = float(seconds_spent)
    except (TypeError, ValueError):
        raise ApplicationError(f"seconds_spent {seconds_spent!r} is not a number.") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS_SPENT:
        raise ApplicationError(f"seconds_spent must lie between 0 and {MAX_SECONDS_SPENT:.0f} (got {seconds_spent!r}).")
    return seconds
