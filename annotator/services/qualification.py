"""A rater's pass through a study's qualification set before its main queue: gold clips
answered one by one, scored against the truth, passed at the study's mark. The answers live
in their own tables and never enter the study's consensus. The researcher can let a rater
who failed try again, or admit one by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from annotator.models import (
    Judgment,
    Modality,
    QualificationAnswer,
    QualificationAttempt,
    Study,
    StudyEvent,
    StudyRater,
)
from annotator.selectors.qualification import qualification_labels
from annotator.services.answers import as_id
from annotator.services.audit import study_event_record
from annotator.services.queue import PAUSED_MESSAGE, require_active
from annotator.services.ratings import validated_seconds
from annotator.services.standing import standing_for_update
from config.errors import ApplicationError, ConflictError, NotFoundError

PRESENT_MODALITIES = {code for code in Modality.values if code}


@dataclass
class QualificationOutcome:
    """What one answered clip did: the attempt's state after it and, with the study's
    feedback on, the labels the rater answered against the truth."""

    attempt: int
    answered: int
    clips: int
    finished: bool
    passed: bool | None = None
    score: float | None = None
    feedback: list[dict] = field(default_factory=list)


def qualification_answer(
    *,
    study: Study,
    rater,
    position: int,
    answers: Mapping[int, str],
    modalities: Mapping[int, str] | None = None,
    seconds_spent: float | None = None,
) -> QualificationOutcome:
    """Store the rater's answers for the qualification clip at `position`, the one due next
    in their attempt (the first answer opens an attempt). Answering the last clip scores the
    attempt: passed when the share of labels answered as the truth says (unsure counts
    against) reaches the study's pass mark. Sending a clip already answered again changes
    nothing and returns where the attempt stands."""
    modalities = modalities or {}
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        require_active(study=study)
        if not study.qualification_clips:
            raise ConflictError(f"Study '{study.name}' has no qualification.")
        if standing.state == StudyRater.State.PAUSED:
            raise ConflictError(PAUSED_MESSAGE, extra={"standing": "paused"})
        if standing.qualification in StudyRater.QUALIFIED:
            raise ConflictError("You have qualified for this study already.", extra={"qualification": "passed"})
        if standing.qualification == StudyRater.Qualification.FAILED:
            raise ConflictError(
                "You did not pass this study's qualification; the researcher can let you try again.",
                extra={"qualification": "failed"},
            )
        attempt = _open_attempt(study=study, rater=rater)
        clips = list(study.qualification_set.order_by("position").values_list("position", "clip_id"))
        answered = attempt.answers.values("clip_id").distinct().count()
        if position < 0 or position >= len(clips):
            raise NotFoundError(f"Study {study.pk} has no qualification clip {position}.")
        if position < answered:
            return QualificationOutcome(attempt.number, answered, len(clips), finished=False)
        if position > answered:
            raise ConflictError(f"Answer qualification clip {answered + 1} first.", extra={"due": answered})
        clip_id = clips[position][1]
        labels = qualification_labels(study=study, clip_id=clip_id)
        rows = _checked_answers(study=study, labels=labels, answers=answers, modalities=modalities)
        seconds = validated_seconds(seconds_spent)
        QualificationAnswer.objects.bulk_create(
            [
                QualificationAnswer(
                    attempt=attempt,
                    clip_id=clip_id,
                    category_id=label.category_id,
                    answer=answer,
                    modality=modality,
                    correct=_agrees(label.present, answer),
                    seconds_spent=seconds,
                )
                for label, answer, modality in rows
            ]
        )
        attempt.correct += sum(1 for label, answer, _ in rows if _agrees(label.present, answer))
        attempt.total += len(rows)
        outcome = QualificationOutcome(attempt.number, answered + 1, len(clips), finished=answered + 1 == len(clips))
        if outcome.finished:
            attempt.finished_at = timezone.now()
            attempt.passed = (
                attempt.correct / attempt.total >= study.qualification_pass_mark if attempt.total else False
            )
            outcome.passed, outcome.score = attempt.passed, attempt.score
            standing.qualification = (
                StudyRater.Qualification.PASSED if attempt.passed else StudyRater.Qualification.FAILED
            )
            standing.save(update_fields=["qualification", "updated_at"])
        attempt.save(update_fields=["correct", "total", "finished_at", "passed"])
    if study.gold_feedback:
        outcome.feedback = [
            {"category_id": label.category_id, "name": label.name, "answer": answer, "truth": _truth(label.present)}
            for label, answer, _ in rows
            if not _agrees(label.present, answer)
        ]
    return outcome


def qualification_retry(*, study: Study, rater, actor) -> StudyRater:
    """Let a rater who failed take the qualification again (a new attempt; the failed one stays)."""
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        if standing.qualification != StudyRater.Qualification.FAILED:
            raise ConflictError(f"{rater} has not failed this study's qualification.")
        standing.qualification = StudyRater.Qualification.NONE
        standing.save(update_fields=["qualification", "updated_at"])
        study_event_record(study=study, actor=actor, action=StudyEvent.Action.QUALIFICATION_RETRY, rater=rater)
    return standing


def qualification_admit(*, study: Study, rater, actor) -> StudyRater:
    """Let a rater into the main queue without (or despite) the qualification."""
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        if standing.qualification in StudyRater.QUALIFIED:
            return standing
        before = standing.qualification or "not taken"
        standing.qualification = StudyRater.Qualification.ADMITTED
        standing.save(update_fields=["qualification", "updated_at"])
        study_event_record(
            study=study,
            actor=actor,
            action=StudyEvent.Action.QUALIFICATION_ADMITTED,
            rater=rater,
            details={"qualification before": before},
        )
    return standing


def _open_attempt(*, study: Study, rater) -> QualificationAttempt:
    last = QualificationAttempt.objects.filter(study=study, rater=rater).order_by("-number").first()
    if last is not None and last.finished_at is None:
        return last
    return QualificationAttempt.objects.create(study=study, rater=rater, number=(last.number + 1) if last else 1)


def _checked_answers(*, study: Study, labels, answers: Mapping[int, str], modalities: Mapping[int, str]) -> list:
    """(label, answer, modality) for every label the clip shows; each must be answered."""
    answers = {as_id(key, what="answer key"): value for key, value in answers.items()}
    modalities = {as_id(key, what="modality key"): value for key, value in modalities.items()}
    by_pk = {label.category_id: label for label in labels}
    unknown = sorted(set(answers) - set(by_pk))
    if unknown:
        raise ApplicationError(f"Categories {unknown} are not shown on this clip.", extra={"categories": unknown})
    missing = [label.name for label in labels if label.category_id not in answers]
    if missing:
        raise ApplicationError(f"Answer every label: {', '.join(missing)} not answered.", extra={"missing": missing})
    rows = []
    for label in labels:
        answer = answers[label.category_id]
        if answer not in Judgment.Answer.values:
            raise ApplicationError(f"Answer {answer!r} is not one of {', '.join(Judgment.Answer.values)}.")
        modality = modalities.get(label.category_id, "") or ""
        if modality and (
            answer != Judgment.Answer.PRESENT or modality not in PRESENT_MODALITIES or not study.ask_modality
        ):
            raise ApplicationError(f"Modality {modality!r} does not fit answer {answer!r} for {label.name}.")
        rows.append((label, answer, modality))
    return rows


def _agrees(present: bool, answer: str) -> bool:
    return answer != Judgment.Answer.UNSURE and (answer == Judgment.Answer.PRESENT) == present


def _truth(present: bool) -> str:
    return Judgment.Answer.PRESENT if present else Judgment.Answer.ABSENT
