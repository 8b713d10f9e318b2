"""A rater's own recent ratings in a study, as they revise them: the history list, one rating
with its clip and answers, and whether it may be revised (the rule, written once here, that
services.rating_revise enforces); for the study's owner, a rating's versions.

What a rater gets back is their own work only: the labels they judged with their answers,
the clip's media and the study's evidence option as the rate page shows them (never the
label's source, the reference labels or another rater's answers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from annotator.models import Category, Judgment, Rating, RatingVersion, Study, StudyClip, StudyClipLabel, StudyRater
from annotator.selectors.feedback import RatedAnswer, feedback_applies, gold_disagreements, gold_truths
from annotator.selectors.payloads import study_clip_payload
from annotator.selectors.queue import rater_queue_state, study_clip_get
from annotator.selectors.studies import study_for_researcher
from config.errors import NotFoundError

# A rater may revise their last this-many ratings in a study (skipped ones count in the window).
REVISABLE_RATINGS = 10


@dataclass(frozen=True)
class Refusal:
    """Why a rating cannot be revised now: a code for clients, a message for the rater."""

    code: str
    message: str


def revision_refusal(
    *, study: Study, is_member: bool, standing: str, skipped: bool, recent: bool, feedback_shown: bool
) -> Refusal | None:
    """The rule for revising a rating, None when it may be revised: the study is active, the
    rater still rates it and is not paused, the rating was not skipped, it is among their
    REVISABLE_RATINGS latest in the study, and (a gold clip in a study with feedback) the
    feedback did not show them the clip's known answers."""
    if study.status != Study.Status.ACTIVE:
        return Refusal(
            f"study_{study.status}",
            f"Study '{study.name}' is {study.get_status_display()}: ratings can be changed only while it is active.",
        )
    if not is_member or standing == StudyRater.State.REMOVED:
        return Refusal("removed", "You no longer rate this study: your ratings in it cannot be changed.")
    if standing == StudyRater.State.PAUSED:
        return Refusal(
            "paused",
            "The researcher has paused your work on this study; you can change your ratings once they resume you.",
        )
    if skipped:
        return Refusal("skipped", "You skipped this clip: it went back to the queue, so there is no answer to change.")
    if not recent:
        return Refusal(
            "too_old", f"Only your last {REVISABLE_RATINGS} ratings in a study can be changed; this one is older."
        )
    if feedback_shown:
        return Refusal("feedback_shown", "The feedback on this clip showed you its known answers: they are final.")
    return None


def rater_recent_rating_ids(*, study_id: int, rater, limit: int = REVISABLE_RATINGS) -> list[int]:
    """The rater's latest ratings in the study (skipped ones included), newest first."""
    ratings = Rating.objects.filter(rater=rater, study_clip__study_id=study_id)
    return list(ratings.order_by("-submitted_at", "-pk").values_list("pk", flat=True)[:limit])


def rating_answers(*, rating_ids: Iterable[int]) -> dict[int, list[RatedAnswer]]:
    """Rating pk -> its judgments, in the order they were stored (the page's label order,
    then the labels the rater added)."""
    out: dict[int, list[RatedAnswer]] = {}
    rows = (
        Judgment.objects.filter(rating_id__in=list(rating_ids))
        .order_by("rating_id", "pk")
        .values_list("rating_id", "category_id", "category__name", "answer", "modality", "added_by_rater")
    )
    for rating_pk, *fields in rows:
        out.setdefault(rating_pk, []).append(RatedAnswer(*fields))
    return out


def _feedback_shown(*, study: Study, study_clip: StudyClip, answers: Sequence[RatedAnswer], truth: dict) -> bool:
    if not feedback_applies(study=study, study_clip=study_clip):
        return False
    return bool(gold_disagreements(answers=answers, truth=truth, ask_modality=study.ask_modality))


def _refusals(
    *, study: Study, rater, ratings: Sequence[Rating], answers: dict[int, list[RatedAnswer]], recent: set[int]
) -> dict[int, Refusal | None]:
    """Rating pk -> why it cannot be revised (None: it can), for ratings of `study`."""
    state = rater_queue_state(study=study, rater=rater, now=timezone.now())
    gold_clips = {r.study_clip.clip_id for r in ratings if feedback_applies(study=study, study_clip=r.study_clip)}
    truths = gold_truths(clip_ids=gold_clips) if gold_clips else {}
    return {
        rating.pk: revision_refusal(
            study=study,
            is_member=state.is_member,
            standing=state.state,
            skipped=rating.skipped,
            recent=rating.pk in recent,
            feedback_shown=_feedback_shown(
                study=study,
                study_clip=rating.study_clip,
                answers=answers.get(rating.pk, []),
                truth=truths.get(rating.study_clip.clip_id, {}),
            ),
        )
        for rating in ratings
    }


def _answer_rows(answers: Sequence[RatedAnswer]) -> list[dict]:
    return [
        {
            "category_id": a.category_id,
            "name": a.name,
            "answer": a.answer,
            "modality": a.modality,
            "added_by_rater": a.added_by_rater,
        }
        for a in answers
    ]


def _refusal_fields(refusal: Refusal | None) -> dict:
    return {"revisable": refusal is None, "refusal": refusal.message if refusal else ""}


def rater_history(*, study: Study, rater, limit: int = REVISABLE_RATINGS) -> list[dict]:
    """The rater's latest ratings in a study they rate, newest first: each with the labels
    they judged and their answers, its version, when it was submitted and last revised,
    and whether it may be revised now (and if not, why). NotFoundError for a study they do
    not rate (one they were removed from included)."""
    if not rater_queue_state(study=study, rater=rater, now=timezone.now()).is_member:
        raise NotFoundError(f"Study {study.pk} does not exist or you are not rating it.")
    ratings = list(
        Rating.objects.filter(rater=rater, study_clip__study_id=study.pk)
        .select_related("study_clip")
        .order_by("-submitted_at", "-pk")[:limit]
    )
    answers = rating_answers(rating_ids=[rating.pk for rating in ratings])
    refusals = _refusals(study=study, rater=rater, ratings=ratings, answers=answers, recent={r.pk for r in ratings})
    return [
        {
            "id": rating.pk,
            "study_clip_id": rating.study_clip_id,
            "skipped": rating.skipped,
            "version": rating.version,
            "submitted_at": rating.submitted_at,
            "revised_at": rating.revised_at,
            "labels": _answer_rows(answers.get(rating.pk, [])),
            **_refusal_fields(refusals[rating.pk]),
        }
        for rating in ratings
    ]


def rating_for_rater(*, rater, rating_id: int) -> Rating:
    """One of the rater's own ratings, with its study clip and study; anyone else's (or none)
    is not found."""
    rating = Rating.objects.select_related("study_clip__study").filter(pk=rating_id, rater=rater).first()
    if rating is None:
        raise NotFoundError(f"Rating {rating_id} does not exist or is not yours.")
    return rating


def rating_detail(*, rating: Rating, rater) -> dict:
    """One of the rater's ratings as the rate page reopens it: the clip payload (media,
    evidence where the study shows it), the labels they judged in the clip's order with
    their answers, the labels they added, its version, and whether it may be revised."""
    study_clip = study_clip_get(study_clip_id=rating.study_clip_id, related=("study", "clip"))
    study = study_clip.study
    payload = study_clip_payload(study_clip=study_clip)
    heads = {label["category_id"]: label.get("heads", []) for label in payload["labels"]}
    answers = rating_answers(rating_ids=[rating.pk]).get(rating.pk, [])
    positions = dict(
        StudyClipLabel.objects.filter(
            study_clip_id=study_clip.pk, category_id__in=[a.category_id for a in answers]
        ).values_list("category_id", "position")
    )
    rating.study_clip = study_clip
    recent = set(rater_recent_rating_ids(study_id=study.pk, rater=rater))
    refusal = _refusals(study=study, rater=rater, ratings=[rating], answers={rating.pk: answers}, recent=recent)
    judged = sorted(
        (a for a in answers if not a.added_by_rater), key=lambda a: (positions.get(a.category_id, 10**9), a.name)
    )
    with_heads = bool(payload["evidence"] and payload["evidence"]["label_heads"])
    labels = []
    for position, a in enumerate(judged):  # the clip's order, numbered as the page numbers it
        label = {"category_id": a.category_id, "name": a.name, "position": position}
        if with_heads:
            label["heads"] = list(heads.get(a.category_id, []))
        labels.append({**label, "answer": a.answer, "modality": a.modality})
    return {
        **payload,
        "labels": labels,
        "added": [
            {"category_id": a.category_id, "name": a.name, "modality": a.modality} for a in answers if a.added_by_rater
        ],
        "id": rating.pk,
        "skipped": rating.skipped,
        "version": rating.version,
        "submitted_at": rating.submitted_at,
        "revised_at": rating.revised_at,
        "seconds_spent": rating.seconds_spent,
        **_refusal_fields(refusal[rating.pk]),
    }


def rating_for_study_owner(*, user, study_id: int, rating_id: int) -> Rating:
    """A rating of one of the researcher's own studies (admins: any study), with its rater."""
    study = study_for_researcher(user=user, study_id=study_id)
    rating = Rating.objects.select_related("rater").filter(pk=rating_id, study_clip__study_id=study.pk).first()
    if rating is None:
        raise NotFoundError(f"Rating {rating_id} is not a rating of study {study_id}.")
    return rating


def rating_versions(*, rating: Rating) -> list[dict]:
    """Every version of a rating, oldest first: those its revisions replaced (kept as
    RatingVersion rows) and the current one (its judgments), each with its answers and
    when it was submitted (and, for a replaced one, when it was replaced)."""
    kept = list(RatingVersion.objects.filter(rating_id=rating.pk).order_by("version"))
    current = rating_answers(rating_ids=[rating.pk]).get(rating.pk, [])
    category_ids = {int(row["category"]) for version in kept for row in version.answers}
    names = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name")) if category_ids else {}
    versions = [
        _version_row(
            version=version.version,
            skipped=version.skipped,
            seconds_spent=version.seconds_spent,
            submitted_at=version.submitted_at,
            replaced_at=version.replaced_at,
            answers=[
                {
                    "category_id": int(row["category"]),
                    "name": names.get(int(row["category"]), ""),
                    "answer": row["answer"],
                    "modality": row.get("modality", ""),
                    "added_by_rater": bool(row.get("added_by_rater", False)),
                }
                for row in version.answers
            ],
        )
        for version in kept
    ]
    versions.append(
        _version_row(
            version=rating.version,
            skipped=rating.skipped,
            seconds_spent=rating.seconds_spent,
            submitted_at=rating.revised_at or rating.submitted_at,
            replaced_at=None,
            answers=_answer_rows(current),
        )
    )
    return versions


def _version_row(
    *,
    version: int,
    skipped: bool,
    seconds_spent: float | None,
    submitted_at: datetime,
    replaced_at: datetime | None,
    answers: list[dict],
) -> dict:
    return {
        "version": version,
        "current": replaced_at is None,
        "skipped": skipped,
        "seconds_spent": seconds_spent,
        "submitted_at": submitted_at,
        "replaced_at": replaced_at,
        "answers": answers,
    }
