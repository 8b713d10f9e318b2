"""Reads of a study's qualification: the clip a rater answers next and its labels, their
standing, and every rater's results for the researcher."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from annotator.models import (
    GoldLabel,
    QualificationAttempt,
    QualificationClip,
    Study,
    StudyRater,
)
from config.errors import NotFoundError


@dataclass(frozen=True)
class QualificationLabel:
    category_id: int
    name: str
    present: bool  # the truth; never sent to the rater before they answer


@dataclass
class QualificationStatus:
    """Where a rater stands in a study's qualification."""

    required: bool
    qualification: str  # StudyRater.Qualification: passed, failed, admitted or "" (not yet)
    state: str  # StudyRater.State
    clips: int  # clips in the set
    attempt: int | None = None  # the attempt under way, or the last one
    answered: int = 0  # clips answered in that attempt
    score: float | None = None  # the last finished attempt's share of labels answered right
    position: int | None = None  # the clip to answer next, when one is due
    clip_id: int | None = None
    labels: list[QualificationLabel] = field(default_factory=list)

    @property
    def qualified(self) -> bool:
        return not self.required or self.qualification in StudyRater.QUALIFIED


def qualification_labels(*, study: Study, clip_id: int) -> list[QualificationLabel]:
    """The labels a qualification clip shows: its gold-labelled categories (known present
    first, then known absent), at most the study's max_labels_shown, in a seeded order."""
    rows = list(
        GoldLabel.objects.filter(clip_id=clip_id)
        .order_by("-present", "category__index")
        .values_list("category_id", "category__name", "present")
    )[: study.max_labels_shown]
    labels = [QualificationLabel(pk, name, present) for pk, name, present in rows]
    random.Random(f"qualification:{study.seed}:{clip_id}").shuffle(labels)
    return labels


def qualification_status(*, study: Study, rater) -> QualificationStatus:
    standing = StudyRater.objects.filter(study=study, rater=rater).first()
    qualification = standing.qualification if standing else StudyRater.Qualification.NONE
    status = QualificationStatus(
        required=study.qualification_clips > 0,
        qualification=qualification,
        state=standing.state if standing else StudyRater.State.ACTIVE,
        clips=study.qualification_set.count(),
    )
    attempt = QualificationAttempt.objects.filter(study=study, rater=rater).order_by("-number").first()
    if attempt is not None:
        status.attempt = attempt.number
        status.answered = attempt.answers.values("clip_id").distinct().count()
        finished = attempt if attempt.finished_at else _last_finished(study=study, rater=rater)
        status.score = finished.score if finished else None
    due = status.required and qualification == StudyRater.Qualification.NONE
    if due:
        answered = status.answered if attempt is not None and attempt.finished_at is None else 0
        next_clip = study.qualification_set.filter(position__gte=answered).order_by("position").first()
        if next_clip is not None:
            status.position, status.clip_id = next_clip.position, next_clip.clip_id
            status.labels = qualification_labels(study=study, clip_id=next_clip.clip_id)
    return status


def _last_finished(*, study: Study, rater) -> QualificationAttempt | None:
    return (
        QualificationAttempt.objects.filter(study=study, rater=rater, finished_at__isnull=False)
        .order_by("-number")
        .first()
    )


def qualification_clip_for_member(*, study: Study, user, position: int) -> QualificationClip:
    """A qualification clip, for the study's raters, its owner and admins."""
    sees_all = study.owner_id == user.pk or user.is_superuser
    if not sees_all and not study.raters.filter(pk=user.pk).exists():
        raise NotFoundError(f"Study {study.pk} does not exist or you are not rating it.")
    found = QualificationClip.objects.filter(study=study, position=position).select_related("clip").first()
    if found is None:
        raise NotFoundError(f"Study {study.pk} has no qualification clip {position}.")
    return found


def qualification_results(*, study: Study) -> list[dict]:
    """Per rater of the study (removed ones included, once they have a standing): standing,
    qualification, attempts and the last finished attempt's score, by username."""
    standings = {
        standing.rater_id: standing for standing in StudyRater.objects.filter(study=study).select_related("rater")
    }
    members = {user.pk: user for user in study.raters.all()}
    users = {**{pk: standing.rater for pk, standing in standings.items()}, **members}
    attempts: dict[int, list[QualificationAttempt]] = {}
    for attempt in QualificationAttempt.objects.filter(study=study).order_by("rater_id", "number"):
        attempts.setdefault(attempt.rater_id, []).append(attempt)
    rows = []
    for pk, user in sorted(users.items(), key=lambda item: item[1].get_username()):
        standing = standings.get(pk)
        theirs = attempts.get(pk, [])
        finished = [attempt for attempt in theirs if attempt.finished_at is not None]
        last = finished[-1] if finished else None
        rows.append(
            {
                "rater_id": pk,
                "username": user.get_username(),
                "state": standing.state if standing else StudyRater.State.ACTIVE,
                "reason": standing.reason if standing else "",
                "ratings_excluded": bool(standing and standing.ratings_excluded),
                "qualification": standing.qualification if standing else StudyRater.Qualification.NONE,
                "attempts": len(theirs),
                "correct": last.correct if last else None,
                "total": last.total if last else None,
                "score": last.score if last else None,
                "finished_at": last.finished_at if last else None,
            }
        )
    return rows
