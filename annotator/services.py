"""Write paths of the annotator: creating studies, serving the rating queue, storing ratings.

Concurrency rule of the queue: every write that adds load to a study clip (a reservation,
a completed rating) happens while the writer holds that StudyClip's row lock, and the load
is re-counted from the ratings and reservations tables after the lock is taken. On
PostgreSQL this makes over-serving impossible; on SQLite (no row locks) the database
serialises writers and the unique constraints on (study_clip, rater) back the rest.
StudyClip.completed_count, which orders the queue, is written under the same lock from
that count; being only an ordering hint, a stale value cannot make the queue over-serve.

`next` and `submit` run on every rater click: their statements are few, each written out
(see the hot path section of annotator.selectors) and none grows with the study's size.
"""

from __future__ import annotations

import logging
import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotator import roles, selectors
from annotator.models import (
    Category,
    Clip,
    ClipLabel,
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
from config.errors import ApplicationError, ConflictError, NotFoundError

logger = logging.getLogger(__name__)

User = AbstractBaseUser
ANSWERS = frozenset(Judgment.Answer.values)
# How many ranked candidates one pass of the queue tries to lock before ranking again.
CANDIDATES_PER_PASS = 8
QUEUE_PASSES = 20
MAX_SECONDS_SPENT = 24 * 3600.0


# --------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------


def study_create(
    *,
    name: str,
    dataset: Dataset,
    proposal_set: ProposalSet,
    owner: User,
    raters: Sequence[User],
    sample_size: int,
    seed: int = 0,
    stratified: bool = True,
    split: str = "",
    raters_per_clip: int = 3,
    decoys_per_clip: int = 1,
    gold_rate: float = 0.0,
    show_evidence: bool = False,
    reservation_timeout_seconds: int = 600,
    instructions: str = "",
) -> Study:
    """Sample a study's clips (seeded, optionally class-stratified), add gold clips, and fix
    the labels each clip shows: its proposals plus decoys, shuffled with the seed."""
    name = (name or "").strip()
    split = (split or "").strip()
    _validate_study_settings(
        name=name,
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        sample_size=sample_size,
        raters_per_clip=raters_per_clip,
        decoys_per_clip=decoys_per_clip,
        gold_rate=gold_rate,
        reservation_timeout_seconds=reservation_timeout_seconds,
    )
    rater_list = _validated_raters(raters)
    rng = random.Random(seed)

    eligible = _eligible_clips(dataset=dataset, proposal_set=proposal_set, split=split)
    eligible_ids = list(eligible.order_by("pk").values_list("pk", flat=True))
    where = f"media ok, with a proposal in '{proposal_set.name}'" + (f", split '{split}'" if split else "")
    if len(eligible_ids) < sample_size:
        raise ApplicationError(
            f"sample_size is {sample_size} but only {len(eligible_ids)} clips are eligible ({where}).",
            extra={"eligible": len(eligible_ids)},
        )
    labels_by_clip = _original_labels(clips=eligible)

    if stratified:
        sampled = _stratified_sample(eligible_ids, labels_by_clip, sample_size, rng)
    else:
        sampled = rng.sample(eligible_ids, sample_size)

    gold_count = round(gold_rate * sample_size)
    chosen = set(sampled)
    gold_pool = [pk for pk in eligible_ids if pk not in chosen and labels_by_clip.get(pk)]
    if gold_count > len(gold_pool):
        raise ApplicationError(
            f"gold_rate {gold_rate} needs {gold_count} extra clips with original labels, "
            f"but only {len(gold_pool)} remain outside the sample ({where}).",
            extra={"gold_available": len(gold_pool)},
        )
    gold = rng.sample(gold_pool, gold_count)

    ordered = [(pk, False) for pk in sampled] + [(pk, True) for pk in gold]
    rng.shuffle(ordered)

    with transaction.atomic():
        study = Study.objects.create(
            name=name,
            dataset=dataset,
            proposal_set=proposal_set,
            owner=owner,
            instructions=instructions or "",
            sample_size=sample_size,
            seed=seed,
            stratified=stratified,
            split=split,
            raters_per_clip=raters_per_clip,
            decoys_per_clip=decoys_per_clip,
            gold_rate=gold_rate,
            show_evidence=show_evidence,
            reservation_timeout_seconds=reservation_timeout_seconds,
        )
        study.raters.set(rater_list)
        StudyClip.objects.bulk_create(
            [
                StudyClip(study=study, clip_id=clip_pk, position=position, is_gold=is_gold)
                for position, (clip_pk, is_gold) in enumerate(ordered)
            ],
            batch_size=1000,
        )
        _create_shown_labels(study=study, labels_by_clip=labels_by_clip, rng=rng)
    _planner_statistics_refresh(models=(StudyClip, StudyClipLabel))
    logger.info("study %s created: %d clips (%d gold), %d raters", study.pk, len(ordered), len(gold), len(rater_list))
    return study


def _planner_statistics_refresh(*, models: Sequence[type]) -> None:
    """Have PostgreSQL re-sample tables a bulk insert just grew. Autovacuum would do it within
    a minute or so; until then the planner, believing a new study has a handful of clips,
    sorts all of them instead of reading the queue's index in order. Costs tens of ms."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def study_add_raters(*, study: Study, raters: Sequence[User]) -> Study:
    """Add raters to a study's pool; users already in it are left as they are."""
    study.raters.add(*_validated_raters(raters))
    return study


def study_close(*, study: Study) -> Study:
    """Close a study: nothing more is served or accepted, and open reservations lapse."""
    with transaction.atomic():
        Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)
        Reservation.objects.filter(study_clip__study=study).delete()
    study.status = Study.Status.CLOSED
    return study


def _validate_study_settings(
    *,
    name: str,
    dataset: Dataset,
    proposal_set: ProposalSet,
    owner: User,
    sample_size: int,
    raters_per_clip: int,
    decoys_per_clip: int,
    gold_rate: float,
    reservation_timeout_seconds: int,
) -> None:
    if not name:
        raise ApplicationError("A study needs a name.")
    if len(name) > Study._meta.get_field("name").max_length:
        raise ApplicationError("The study name is longer than 200 characters.")
    if proposal_set.dataset_id != dataset.pk:
        raise ApplicationError(f"Proposal set '{proposal_set.name}' belongs to another dataset than '{dataset.name}'.")
    if not roles.user_is_researcher(owner):
        raise ApplicationError(f"{owner} is not a researcher and cannot own a study.")
    for field, value, minimum in (
        ("sample_size", sample_size, 1),
        ("raters_per_clip", raters_per_clip, 1),
        ("decoys_per_clip", decoys_per_clip, 0),
        ("reservation_timeout_seconds", reservation_timeout_seconds, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ApplicationError(f"{field} must be a whole number of at least {minimum} (got {value!r}).")
    if isinstance(gold_rate, bool) or not isinstance(gold_rate, int | float) or not 0 <= gold_rate <= 1:
        raise ApplicationError(f"gold_rate must lie between 0 and 1 (got {gold_rate!r}).")


def _validated_raters(raters: Sequence[User]) -> list[User]:
    unique = list({user.pk: user for user in raters}.values())
    not_raters = [str(user) for user in unique if not roles.user_is_rater(user)]
    if not_raters:
        raise ApplicationError(f"Not raters: {', '.join(sorted(not_raters))}.", extra={"not_raters": not_raters})
    return unique


def _eligible_clips(*, dataset: Dataset, proposal_set: ProposalSet, split: str):
    clips = Clip.objects.filter(dataset=dataset, media_status=Clip.MediaStatus.OK).filter(
        Exists(Proposal.objects.filter(proposal_set=proposal_set, clip=OuterRef("pk")))
    )
    return clips.filter(split=split) if split else clips


def _original_labels(*, clips) -> dict[int, list[int]]:
    labels: dict[int, list[int]] = defaultdict(list)
    rows = ClipLabel.objects.filter(clip__in=clips.values("pk")).order_by("clip_id", "category_id")
    for clip_pk, category_pk in rows.values_list("clip_id", "category_id"):
        labels[clip_pk].append(category_pk)
    return labels


def _stratified_sample(
    clip_ids: list[int], labels_by_clip: Mapping[int, list[int]], size: int, rng: random.Random
) -> list[int]:
    """Round-robin over the original classes (clips without labels form one stratum), each
    stratum shuffled with the seeded RNG, so every class is represented as evenly as the
    data allows. A multi-label clip sits in each of its classes' strata and is taken once."""
    strata: dict[int | None, list[int]] = defaultdict(list)
    for clip_pk in clip_ids:
        for category_pk in labels_by_clip.get(clip_pk) or [None]:
            strata[category_pk].append(clip_pk)
    keys = sorted(strata, key=lambda key: (key is None, key or 0))
    rng.shuffle(keys)
    for key in keys:
        rng.shuffle(strata[key])
    cursors = dict.fromkeys(keys, 0)
    chosen: list[int] = []
    taken: set[int] = set()
    active = keys
    while active and len(chosen) < size:
        still_active = []
        for key in active:
            members, cursor = strata[key], cursors[key]
            while cursor < len(members) and members[cursor] in taken:
                cursor += 1
            if cursor < len(members):
                chosen.append(members[cursor])
                taken.add(members[cursor])
                cursor += 1
            cursors[key] = cursor
            if cursor < len(members):
                still_active.append(key)
            if len(chosen) == size:
                break
        active = still_active
    return chosen


def _create_shown_labels(*, study: Study, labels_by_clip: Mapping[int, list[int]], rng: random.Random) -> None:
    study_clips = list(study.study_clips.order_by("position").values_list("pk", "clip_id"))
    proposed: dict[int, set[int]] = defaultdict(set)
    proposals = Proposal.objects.filter(
        proposal_set_id=study.proposal_set_id, clip__in=StudyClip.objects.filter(study=study).values("clip")
    )
    for clip_pk, category_pk in proposals.values_list("clip_id", "category_id"):
        proposed[clip_pk].add(category_pk)
    taxonomy = sorted(Category.objects.filter(taxonomy_id=study.dataset.taxonomy_id).values_list("pk", flat=True))
    rows: list[StudyClipLabel] = []
    for study_clip_pk, clip_pk in study_clips:
        shown = sorted(proposed[clip_pk])
        excluded = proposed[clip_pk] | set(labels_by_clip.get(clip_pk, ()))
        pool = [category_pk for category_pk in taxonomy if category_pk not in excluded]
        decoys = rng.sample(pool, min(study.decoys_per_clip, len(pool)))
        labels = [(category_pk, False) for category_pk in shown] + [(category_pk, True) for category_pk in decoys]
        rng.shuffle(labels)
        rows.extend(
            StudyClipLabel(study_clip_id=study_clip_pk, category_id=category_pk, is_decoy=is_decoy, position=position)
            for position, (category_pk, is_decoy) in enumerate(labels)
        )
    StudyClipLabel.objects.bulk_create(rows, batch_size=2000)


# --------------------------------------------------------------------------------------
# The queue
# --------------------------------------------------------------------------------------


def clip_next_for_rater(*, study: Study, rater: User, now: datetime | None = None) -> StudyClip | None:
    """The rater's live reservation if they hold one, else a newly reserved clip: one they
    have not rated or skipped, whose completed ratings plus live reservations are below the
    study's overlap, closest to completion first, then by position. None: nothing is left."""
    now = now or timezone.now()
    state = selectors.rater_queue_state(study=study, rater=rater, now=now)
    if not state.is_member:
        raise NotFoundError(f"Study {study.pk} does not exist or you are not rating it.")
    _require_active(study)
    if state.has_lapsed:
        Reservation.objects.filter(rater=rater, study_clip__study=study, expires_at__lte=now).delete()
    if state.held_study_clip_id is not None:
        study_clip = selectors.study_clip_get(study_clip_id=state.held_study_clip_id, related=("clip",))
        study_clip.study = study
        return study_clip

    for _ in range(QUEUE_PASSES):
        candidates = selectors.study_clips_open_for_rater(study=study, rater=rater, now=now, limit=CANDIDATES_PER_PASS)
        if not candidates:
            return None
        busy: list[int] = []
        for pk in candidates:
            reserved = _reserve(study_clip_pk=pk, rater=rater, study=study, now=now, wait=False)
            if isinstance(reserved, StudyClip):
                return reserved
            if reserved is _LOCKED:
                busy.append(pk)
        if busy:
            # Every open candidate was full or locked by another rater's short transaction:
            # wait for the first locked one (holding no other lock: no deadlock), re-count it.
            reserved = _reserve(study_clip_pk=busy[0], rater=rater, study=study, now=now, wait=True)
            if isinstance(reserved, StudyClip):
                return reserved
        # Otherwise the candidates filled up since they were ranked: rank again.
    raise ConflictError("The queue is busy; ask for the next clip again.")


_LOCKED = object()  # sentinel: another transaction holds the row


def _reserve(*, study_clip_pk: int, rater: User, study: Study, now: datetime, wait: bool) -> StudyClip | object | None:
    """Lock one study clip, re-count its load under the lock and reserve it for the rater.
    Returns the clip, None when it has no room (or the rater already rated it), or _LOCKED
    when another transaction holds the row and `wait` is False."""
    with transaction.atomic():
        study_clip = selectors.study_clip_for_update(
            study_clip_id=study_clip_pk, related=("clip",), skip_locked=not wait
        )
        if study_clip is None:
            return _LOCKED if not wait else None
        expires_at = now + timedelta(seconds=study.reservation_timeout_seconds)
        claimed = _reservation_claim(
            study_clip=study_clip, rater=rater, overlap=study.raters_per_clip, now=now, expires_at=expires_at
        )
        if not claimed:
            _completed_count_sync(study_clip=study_clip)  # the ranking saw room: make sure it was not stale
            return None
    study_clip.study = study
    return study_clip


def _reservation_claim(
    *, study_clip: StudyClip, rater: User, overlap: int, now: datetime, expires_at: datetime
) -> bool:
    """Reserve the clip for the rater unless they rated (or skipped) it or its completed
    ratings plus others' live reservations reach the overlap; counted from the ratings and
    reservations tables in the same statement, so the caller must hold the clip's row lock.
    The rater's own row (a lapsed one, or one a parallel request of theirs just made) gets
    the new expiry. True when the rater now holds the clip."""
    ratings, reservations = Rating._meta.db_table, Reservation._meta.db_table
    sql = f"""
        INSERT INTO {reservations} (study_clip_id, rater_id, created_at, expires_at)
        SELECT %(clip)s, %(rater)s, %(now)s, %(expires)s
        WHERE NOT EXISTS (SELECT 1 FROM {ratings} WHERE study_clip_id = %(clip)s AND rater_id = %(rater)s)
          AND (SELECT COUNT(*) FROM {ratings} WHERE study_clip_id = %(clip)s AND skipped = %(no)s)
            + (SELECT COUNT(*) FROM {reservations}
               WHERE study_clip_id = %(clip)s AND expires_at > %(now)s AND rater_id <> %(rater)s) < %(overlap)s
        ON CONFLICT (study_clip_id, rater_id) DO UPDATE SET expires_at = excluded.expires_at
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
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _completed_count_sync(*, study_clip: StudyClip, completed: int | None = None) -> None:
    """Set the clip's completed_count from its ratings (`completed`, when the caller just
    counted them under the row lock). Writes only when the stored value differs."""
    if completed is None:
        completed = Rating.objects.filter(study_clip_id=study_clip.pk, skipped=False).count()
    if completed != study_clip.completed_count:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StudyClip._meta.db_table} SET completed_count = %s WHERE id = %s", [completed, study_clip.pk]
            )
        study_clip.completed_count = completed


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
    """Give a reserved clip back to the pool without rating it. True when one was held."""
    deleted, _ = Reservation.objects.filter(study_clip=study_clip, rater=rater).delete()
    return bool(deleted)


def _require_active(study: Study) -> None:
    if study.status != Study.Status.ACTIVE:
        raise ConflictError(f"Study '{study.name}' is closed.")


# --------------------------------------------------------------------------------------
# Ratings
# --------------------------------------------------------------------------------------


def rating_submit(
    *,
    study_clip: StudyClip,
    rater: User,
    answers: Mapping[int, str],
    added_category_ids: Sequence[int] = (),
    seconds_spent: float | None = None,
    skipped: bool = False,
) -> Rating:
    """Store a rater's answers for a clip they reserved. Submitting again returns the stored
    rating unchanged. A skipped clip stores no judgments (answers sent with it are ignored).

    Raises ApplicationError when the rater holds no reservation and has no rating, when an
    answer names a label that was not shown or is not present/absent/unsure, when a shown
    label is left unanswered, or when an added label lies outside the dataset's taxonomy;
    ConflictError when the rater's reservation lapsed and the clip has since been filled."""
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
    _require_active(study)
    if load.reservation_id is None:
        raise ApplicationError("You hold no reservation for this clip; ask for the next clip.")
    if not load.reservation_live and not skipped and load.completed + load.held_by_others >= study.raters_per_clip:
        raise ConflictError("Your reservation for this clip lapsed and other raters have filled it.")
    judgments = [] if skipped else _validated_judgments(study_clip=locked, answers=answers, added=added_category_ids)
    rating = _rating_insert(
        study_clip=locked, rater=rater, skipped=skipped, seconds_spent=_validated_seconds(seconds_spent),
        judgments=judgments,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Reservation._meta.db_table} WHERE id = %s", [load.reservation_id])
    _completed_count_sync(study_clip=locked, completed=load.completed + (0 if skipped else 1))
    return rating


def _rating_insert(
    *, study_clip: StudyClip, rater: User, skipped: bool, seconds_spent: float | None, judgments: Sequence[Judgment]
) -> Rating:
    """Rating.objects.create plus Judgment.objects.bulk_create, written out as two plain
    INSERTs (the submit hot path; no signals or save() logic exist to bypass)."""
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
