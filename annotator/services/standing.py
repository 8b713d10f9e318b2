"""Steering a running study: pausing, resuming and removing raters, pausing, resuming and
reopening the whole study, and pausing a rater automatically when their gold accuracy or
decoy acceptance crosses the study's threshold. Every change is recorded (services.audit).

A paused rater is served nothing (services.queue.require_standing) and gives their held
reservations back at once; a removed rater leaves the pool (they see the study no more) and
their ratings stay in the consensus or leave it, as the researcher chose."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F

from annotator.models import Judgment, RaterGoldTally, Reservation, Study, StudyClip, StudyEvent, StudyRater
from annotator.services.audit import study_event_record
from config.errors import ApplicationError, ConflictError, NotFoundError

Action = StudyEvent.Action
MAX_REASON = 500


def rater_pause(*, study: Study, rater, actor, reason: str = "") -> StudyRater:
    """Serve the rater no new clip in this study and release what they hold."""
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        if standing.state == StudyRater.State.PAUSED:
            return standing
        _standing_set(standing, state=StudyRater.State.PAUSED, reason=_reason(reason))
        _reservations_release(study=study, rater=rater)
        study_event_record(study=study, actor=actor, action=Action.RATER_PAUSED, rater=rater, details=_why(reason))
    return standing


def rater_resume(*, study: Study, rater, actor) -> StudyRater:
    """Let a paused rater go on."""
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        if standing.state == StudyRater.State.ACTIVE:
            return standing
        _standing_set(standing, state=StudyRater.State.ACTIVE, reason="")
        study_event_record(study=study, actor=actor, action=Action.RATER_RESUMED, rater=rater)
    return standing


def rater_remove(*, study: Study, rater, actor, exclude_ratings: bool, reason: str = "") -> StudyRater:
    """Take the rater out of the pool. `exclude_ratings`: their ratings leave the consensus,
    the tables and the exports (kept in the database, and back if they are added again)."""
    with transaction.atomic():
        standing = standing_for_update(study=study, rater=rater)
        standing.ratings_excluded = bool(exclude_ratings)
        _standing_set(standing, state=StudyRater.State.REMOVED, reason=_reason(reason))
        _reservations_release(study=study, rater=rater)
        study.raters.remove(rater)
        details = {**_why(reason), "ratings": "excluded" if exclude_ratings else "kept"}
        study_event_record(study=study, actor=actor, action=Action.RATER_REMOVED, rater=rater, details=details)
    return standing


def raters_readmit(*, study: Study, raters: Sequence) -> None:
    """Raters added to the pool again (study_add_raters): a removed one is active again, with
    their ratings back in the consensus; their qualification stands."""
    StudyRater.objects.filter(study=study, rater__in=raters, state=StudyRater.State.REMOVED).update(
        state=StudyRater.State.ACTIVE, reason="", ratings_excluded=False
    )


def study_pause(*, study: Study, actor) -> Study:
    """Serve nothing and accept nothing until resumed; held reservations are released."""
    return _study_status_change(
        study=study, actor=actor, allowed=(Study.Status.ACTIVE,), to=Study.Status.PAUSED, action=Action.STUDY_PAUSED
    )


def study_resume(*, study: Study, actor) -> Study:
    return _study_status_change(
        study=study, actor=actor, allowed=(Study.Status.PAUSED,), to=Study.Status.ACTIVE, action=Action.STUDY_RESUMED
    )


def study_reopen(*, study: Study, actor) -> Study:
    """A closed study serves and accepts ratings again (its ratings so far stand)."""
    return _study_status_change(
        study=study, actor=actor, allowed=(Study.Status.CLOSED,), to=Study.Status.ACTIVE, action=Action.STUDY_REOPENED
    )


def study_close(*, study: Study, actor=None) -> Study:
    """Close a study: nothing more is served or accepted, and open reservations lapse."""
    return _study_status_change(
        study=study,
        actor=actor,
        allowed=(Study.Status.ACTIVE, Study.Status.PAUSED),
        to=Study.Status.CLOSED,
        action=Action.STUDY_CLOSED,
    )


def _study_status_change(*, study: Study, actor, allowed: tuple[str, ...], to: str, action: str) -> Study:
    with transaction.atomic():
        current = Study.objects.select_for_update().values_list("status", flat=True).get(pk=study.pk)
        if current == to:
            study.status = to
            return study
        if current not in allowed:
            label = Study.Status(current).label
            raise ConflictError(f"Study '{study.name}' is {label}; it cannot be {Study.Status(to).label} from there.")
        Study.objects.filter(pk=study.pk).update(status=to)
        if to != Study.Status.ACTIVE:
            Reservation.objects.filter(study_clip__study=study).delete()
        study_event_record(study=study, actor=actor, action=action, details={"from": current, "to": to})
    study.status = to
    return study


# ---------------------------------------------------------------- automatic pausing


def rater_auto_pause_check(*, study: Study, study_clip: StudyClip, rater, judgments: Sequence[Judgment]) -> bool:
    """After a rating: tally its decoy answers (when the study pauses on them), then pause the
    rater if a threshold is crossed (rater_pause_if_crossed). The caller holds the clip's
    lock, inside the rating's transaction. True when the rater was paused now."""
    if study.pause_below_gold_accuracy is None and study.pause_above_decoy_acceptance is None:
        return False
    if study.pause_above_decoy_acceptance is not None:
        _decoy_tally_add(study=study, study_clip=study_clip, rater=rater, judgments=judgments)
    elif not study_clip.is_gold:
        return False  # nothing the check reads changed
    return rater_pause_if_crossed(study=study, rater=rater)


def rater_pause_if_crossed(*, study: Study, rater) -> bool:
    """Pause an active rater whose running gold accuracy or decoy acceptance (their tally,
    kept right by submits and revisions) crossed the study's threshold over at least
    `auto_pause_min_answers` answers, recording why. True when the rater was paused now."""
    if study.pause_below_gold_accuracy is None and study.pause_above_decoy_acceptance is None:
        return False
    tally = RaterGoldTally.objects.filter(study=study, rater=rater).first()
    reason = _threshold_crossed(study=study, tally=tally)
    if reason is None:
        return False
    standing, _ = StudyRater.objects.get_or_create(study=study, rater=rater)
    if standing.state != StudyRater.State.ACTIVE:
        return False
    _standing_set(standing, state=StudyRater.State.PAUSED, reason=reason)
    _reservations_release(study=study, rater=rater)  # the clip held ahead
    study_event_record(
        study=study, actor=None, action=Action.RATER_AUTO_PAUSED, rater=rater, details={"reason": reason}
    )
    return True


def _decoy_tally_add(*, study: Study, study_clip: StudyClip, rater, judgments: Sequence[Judgment]) -> None:
    decoys = set(study_clip.shown_labels.filter(is_decoy=True).values_list("category_id", flat=True))
    decisive = [j for j in judgments if j.category_id in decoys and j.answer != Judgment.Answer.UNSURE]
    if not decisive:
        return
    accepted = sum(j.answer == Judgment.Answer.PRESENT for j in decisive)
    tally, _ = RaterGoldTally.objects.get_or_create(study=study, rater=rater)
    RaterGoldTally.objects.filter(pk=tally.pk).update(
        decoys_answered=F("decoys_answered") + len(decisive), decoys_accepted=F("decoys_accepted") + accepted
    )


def _threshold_crossed(*, study: Study, tally: RaterGoldTally | None) -> str | None:
    """Why the rater should be paused, or None."""
    if tally is None:
        return None
    least = study.auto_pause_min_answers
    gold = tally.true_present + tally.false_absent + tally.true_absent + tally.false_present
    if study.pause_below_gold_accuracy is not None and gold >= max(least, 1):
        accuracy = (tally.true_present + tally.true_absent) / gold
        if accuracy < study.pause_below_gold_accuracy:
            return (
                f"gold accuracy {accuracy:.2f} over {gold} answers is below the study's "
                f"{study.pause_below_gold_accuracy:.2f}"
            )
    if study.pause_above_decoy_acceptance is not None and tally.decoys_answered >= max(least, 1):
        acceptance = tally.decoys_accepted / tally.decoys_answered
        if acceptance > study.pause_above_decoy_acceptance:
            return (
                f"decoy acceptance {acceptance:.2f} over {tally.decoys_answered} decoys is above the study's "
                f"{study.pause_above_decoy_acceptance:.2f}"
            )
    return None


# ---------------------------------------------------------------- helpers


def standing_for_update(*, study: Study, rater) -> StudyRater:
    """The rater's standing row, created if need be and locked (the caller's transaction),
    for a rater in the study's pool; NotFoundError for anyone else."""
    if not study.raters.filter(pk=rater.pk).exists():
        raise NotFoundError(f"Study {study.pk} does not exist or {rater} is not rating it.")
    StudyRater.objects.get_or_create(study=study, rater=rater)
    return StudyRater.objects.select_for_update().get(study=study, rater=rater)


def _standing_set(standing: StudyRater, *, state: str, reason: str) -> None:
    standing.state, standing.reason = state, reason
    standing.save(update_fields=["state", "reason", "ratings_excluded", "updated_at"])


def _reservations_release(*, study: Study, rater) -> None:
    Reservation.objects.filter(study_clip__study=study, rater=rater).delete()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ApplicationError(f"The reason is {len(reason)} characters long; at most {MAX_REASON}.")
    return reason


def _why(reason: str) -> dict:
    return {"reason": reason.strip()} if reason and reason.strip() else {}
