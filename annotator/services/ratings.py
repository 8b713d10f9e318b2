"""Storing ratings: a rater's answers for a clip they hold a live reservation for, validated
against the labels the clip shows; idempotent (submitting again returns the stored rating)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotator import selectors
from annotator.models import Category, Judgment, Rating, Reservation, Study, StudyClip
from annotator.services.queue import LAPSED_MESSAGE, completed_count_sync, require_active
from config.errors import ApplicationError, ConflictError, NotFoundError

User = AbstractBaseUser
ANSWERS = frozenset(Judgment.Answer.values)
MAX_SECONDS_SPENT = 24 * 3600.0
# A rating answers the labels shown (a study shows a clip's proposals plus a few decoys) and
# adds a few the rater missed: the submit API refuses more than this before reading them.
MAX_ANSWERS = 200
MAX_ADDED = 20


def rating_submit(
    *,
    study_clip: StudyClip,
    rater: User,
    answers: Mapping[int, str],
    added_category_ids: Sequence[int] = (),
    seconds_spent: float | None = None,
    skipped: bool = False,
) -> Rating:
    """Store a rater's answers for a clip they hold a live reservation for. Submitting again
    returns the stored rating unchanged. A skipped clip stores no judgments (answers sent
    with it are ignored).

    Raises ConflictError when the study is closed, or when the rater has no rating and no
    live reservation (it lapsed, whether or not its row was purged since: one answer);
    ApplicationError when an answer names a label that was not shown or is not
    present/absent/unsure, when a shown label is left unanswered, or when an added label
    lies outside the dataset's taxonomy or more than MAX_ADDED are added."""
    try:
        with transaction.atomic():
            return _rating_store(
                study_clip_pk=study_clip.pk,
                rater=rater,
                answers=answers,
                added_category_ids=added_category_ids,
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
    seconds_spent: float | None,
    skipped: bool,
) -> Rating:
    """The body of rating_submit, run inside its transaction while holding the clip's lock."""
    now = timezone.now()
    locked = selectors.study_clip_for_update(study_clip_id=study_clip_pk, related=("study",))
    if locked is None:
        raise NotFoundError(f"Clip {study_clip_pk} does not exist.")
    load = selectors.study_clip_load(study_clip_id=study_clip_pk, rater=rater, now=now)
    if load.rating_id is not None:
        return Rating.objects.get(pk=load.rating_id)
    study = locked.study
    require_active(study=study)
    if load.reservation_id is None:
        # A live reservation counted in the clip's load, so storing cannot over-fill it.
        raise ConflictError(LAPSED_MESSAGE)
    judgments = [] if skipped else _validated_judgments(study_clip=locked, answers=answers, added=added_category_ids)
    rating = _rating_insert(
        study_clip=locked, rater=rater, skipped=skipped, seconds_spent=_validated_seconds(seconds_spent),
        judgments=judgments,
    )  # fmt: skip
    Reservation.objects.filter(pk=load.reservation_id).delete()
    completed_count_sync(study_clip=locked, completed=load.completed + (0 if skipped else 1))
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
            rows = ", ".join(["(%s, %s, %s, %s)"] * len(judgments))
            params = [
                value
                for judgment in judgments
                for value in (values["id"], judgment.category_id, judgment.answer, bool(judgment.added_by_rater))
            ]
            cursor.execute(
                f"INSERT INTO {Judgment._meta.db_table} (rating_id, category_id, answer, added_by_rater) VALUES {rows}",
                params,
            )
    fields = [field.attname for field in Rating._meta.concrete_fields]
    rating = Rating.from_db(connection.alias, fields, [values[name] for name in fields])
    rating.study_clip, rating.rater = study_clip, rater
    return rating


def _validated_judgments(*, study_clip: StudyClip, answers: Mapping[int, str], added: Sequence[int]) -> list[Judgment]:
    shown = selectors.study_clip_shown_category_ids(study_clip_id=study_clip.pk)
    parsed: dict[int, str] = {}
    for key, answer in (answers or {}).items():
        category_pk = _as_id(key, what="answer key")
        if category_pk not in shown:
            raise ApplicationError(f"Category {key} was not shown for this clip.", extra={"category_id": key})
        if answer not in ANSWERS:
            raise ApplicationError(
                f"Answer {answer!r} for category {key} is not one of {', '.join(sorted(ANSWERS))}.",
                extra={"category_id": key},
            )
        parsed[category_pk] = answer
    missing = sorted(shown - parsed.keys())
    if missing:
        raise ApplicationError(
            f"Answer every shown label (missing: {', '.join(map(str, missing))}).", extra={"missing": missing}
        )
    added_ids = list(dict.fromkeys(_as_id(value, what="added category") for value in added or ()))
    if len(added_ids) > MAX_ADDED:
        raise ApplicationError(f"Add at most {MAX_ADDED} labels to a clip.", extra={"added": len(added_ids)})
    overlapping = sorted(set(added_ids) & shown)
    if overlapping:
        raise ApplicationError(
            f"Added labels {overlapping} are already shown; answer them instead.", extra={"added": overlapping}
        )
    if added_ids:
        taxonomy_id = Study.objects.filter(pk=study_clip.study_id).values_list("dataset__taxonomy_id", flat=True)
        known = set(Category.objects.filter(pk__in=added_ids, taxonomy_id__in=taxonomy_id).values_list("pk", flat=True))
        unknown = [pk for pk in added_ids if pk not in known]
        if unknown:
            raise ApplicationError(
                f"Added categories {unknown} are not in this dataset's taxonomy.", extra={"unknown": unknown}
            )
    return [Judgment(category_id=pk, answer=answer) for pk, answer in parsed.items()] + [
        Judgment(category_id=pk, answer=Judgment.Answer.PRESENT, added_by_rater=True) for pk in added_ids
    ]


def _as_id(value: object, *, what: str) -> int:
    if isinstance(value, bool):
        raise ApplicationError(f"{what} {value!r} is not a category id.")
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ApplicationError(f"{what} {value!r} is not a category id.") from None


def _validated_seconds(seconds_spent: float | None) -> float | None:
    if seconds_spent is None:
        return None
    try:
        seconds = float(seconds_spent)
    except (TypeError, ValueError):
        raise ApplicationError(f"seconds_spent {seconds_spent!r} is not a number.") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS_SPENT:
        raise ApplicationError(f"seconds_spent must lie between 0 and {MAX_SECONDS_SPENT:.0f} (got {seconds_spent!r}).")
    return seconds
