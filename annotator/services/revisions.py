"""Revising a rating: a rater changes the answers of one of their recent ratings.

Which ratings (selectors.revision_refusal, the rule written once): the rater's own, among
their REVISABLE_RATINGS latest in the study, not skipped, while the study is active and the
rater still rates it unpaused; on a gold clip of a study with feedback, not once the feedback
has shown them its known answers.

What a revision may change: the answer (present / absent / unsure) of each label the rating
answered, and the modality of each present answer and each label the rater added. It sends
every answer again, as a submit does (a present answer left without a modality is stored as
not given). It cannot add labels, drop a label, or change a label the rater added from
present; nor turn a skip into an answer.

How: under the clip's row lock (as rating_submit), the rating's current answers are kept as
a RatingVersion, its Judgment rows are updated in place and its version goes up, so the clip
still counts the rater once (completed_count does not move) and everything that reads the
judgments (the consensus, the tables, the exports) reads the latest answers. On a gold clip
the rater's gold tally loses the old answers' contribution and gains the new ones'; in a
study that pauses on decoys, so does their decoy tally. Sending the answers the rating
already holds stores nothing (no new version): retrying a revision is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, IntegerField
from django.db.models.functions import Greatest
from django.utils import timezone

from annotator import selectors
from annotator.models import Judgment, RaterGoldTally, Rating, RatingVersion, Study, StudyClip, StudyClipLabel
from annotator.selectors import REVISABLE_RATINGS, RatedAnswer, ShownLabel
from annotator.selectors.feedback import feedback_applies
from annotator.services import clip_labels
from annotator.services.answers import answers_check
from annotator.services.ratings import MAX_SECONDS_SPENT, validated_seconds
from annotator.services.standing import rater_pause_if_crossed
from config.errors import ApplicationError, ConflictError, NotFoundError

# The moment every label a revision answers counts as shown from: the rating judged them all.
_SHOWN_SINCE = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["REVISABLE_RATINGS", "rating_revise"]


def rating_revise(
    *,
    rating_id: int,
    rater: AbstractBaseUser,
    answers: Mapping[int, str],
    modalities: Mapping[int, str] | None = None,
    seconds_spent: float | None = None,
    version: int | None = None,
) -> Rating:
    """Replace the answers of one of the rater's recent ratings (the rules: this module's
    docstring) and return it, its version one higher; the same answers again return it as
    it is. `seconds_spent`, the time spent revising, is added to the rating's. `version`,
    when given, is the version the rater saw: a rating revised since then is refused.

    Raises NotFoundError for a rating that is not theirs; ConflictError (extra.reason says
    which rule) when it cannot be revised now, or changed since `version`; ApplicationError
    for answers that do not fit the rating's labels."""
    study_clip_pk = Rating.objects.filter(pk=rating_id, rater=rater).values_list("study_clip_id", flat=True).first()
    if study_clip_pk is None:
        raise NotFoundError(f"Rating {rating_id} does not exist or is not yours.")
    with transaction.atomic():
        locked = selectors.study_clip_for_update(study_clip_id=study_clip_pk, related=("study",))
        if locked is None:
            raise NotFoundError(f"Rating {rating_id} does not exist or is not yours.")
        rating = Rating.objects.get(pk=rating_id)  # read under the lock: the version every revision sees
        return _revise_locked(
            rating=rating,
            study_clip=locked,
            rater=rater,
            answers=answers,
            modalities=modalities or {},
            seconds_spent=seconds_spent,
            version=version,
        )


def _revise_locked(
    *,
    rating: Rating,
    study_clip: StudyClip,
    rater: AbstractBaseUser,
    answers: Mapping[int, str],
    modalities: Mapping[int, str],
    seconds_spent: float | None,
    version: int | None,
) -> Rating:
    study = study_clip.study
    current = list(Judgment.objects.filter(rating_id=rating.pk).select_related("category").order_by("pk"))
    rated = [RatedAnswer(j.category_id, j.category.name, j.answer, j.modality, j.added_by_rater) for j in current]
    _refuse_unless_revisable(study=study, study_clip=study_clip, rater=rater, rating=rating, rated=rated)
    wanted = _answers_checked(study=study, current=current, answers=answers, modalities=modalities)
    seconds = validated_seconds(seconds_spent)
    if all(wanted[j.category_id] == (j.answer, j.modality) for j in current):
        return rating  # nothing changed: no version, no time added
    if version is not None and version != rating.version:
        raise ConflictError(
            f"This rating changed since you opened it (it is at version {rating.version}); open it again.",
            extra={"reason": "changed", "version": rating.version},
        )
    now = timezone.now()
    RatingVersion.objects.create(
        rating=rating,
        version=rating.version,
        skipped=rating.skipped,
        seconds_spent=rating.seconds_spent,
        submitted_at=rating.revised_at or rating.submitted_at,
        answers=[
            {"category": j.category_id, "answer": j.answer, "modality": j.modality, "added_by_rater": j.added_by_rater}
            for j in current
        ],
    )
    before = [Judgment(category_id=j.category_id, answer=j.answer, modality=j.modality) for j in current]
    changed = []
    for judgment in current:
        answer, modality = wanted[judgment.category_id]
        if (answer, modality) != (judgment.answer, judgment.modality):
            judgment.answer, judgment.modality = answer, modality
            changed.append(judgment)
    Judgment.objects.bulk_update(changed, ["answer", "modality"])
    total = rating.seconds_spent
    if seconds is not None:
        total = min(MAX_SECONDS_SPENT, (total or 0.0) + seconds)
    Rating.objects.filter(pk=rating.pk).update(version=F("version") + 1, revised_at=now, seconds_spent=total)
    rating.refresh_from_db(fields=["version", "revised_at", "seconds_spent"])
    if study_clip.is_gold:
        clip_labels.gold_tally_revise(study=study, study_clip=study_clip, rater=rater, before=before, after=current)
    if study.pause_above_decoy_acceptance is not None:
        _decoy_tally_revise(study=study, study_clip=study_clip, rater=rater, before=before, after=current)
    rater_pause_if_crossed(study=study, rater=rater)  # the revised answers count as the submitted ones did
    labels = selectors.study_clip_labels(study_clip_id=study_clip.pk)
    if clip_labels.review_needed(study=study, study_clip=study_clip, labels=labels):
        # The votes moved: the rules that hide rejected or decided labels read them again.
        completed = Rating.objects.filter(study_clip_id=study_clip.pk, skipped=False).count()
        clip_labels.clip_review_apply(
            study_clip=study_clip, study=study, completed=completed, quiet_ratings=study_clip.quiet_ratings, now=now
        )
    return rating


def _refuse_unless_revisable(
    *, study: Study, study_clip: StudyClip, rater: AbstractBaseUser, rating: Rating, rated: list[RatedAnswer]
) -> None:
    state = selectors.rater_queue_state(study=study, rater=rater, now=timezone.now())
    recent = rating.pk in selectors.rater_recent_rating_ids(study_id=study.pk, rater=rater)
    feedback_shown = False
    if feedback_applies(study=study, study_clip=study_clip):
        truth = selectors.gold_truths(clip_ids=[study_clip.clip_id]).get(study_clip.clip_id, {})
        feedback_shown = bool(selectors.gold_disagreements(answers=rated, truth=truth, ask_modality=study.ask_modality))
    refusal = selectors.revision_refusal(
        study=study,
        is_member=state.is_member,
        standing=state.state,
        skipped=rating.skipped,
        recent=recent,
        feedback_shown=feedback_shown,
    )
    if refusal is not None:
        raise ConflictError(refusal.message, extra={"reason": refusal.code})


def _answers_checked(
    *, study: Study, current: list[Judgment], answers: Mapping[int, str], modalities: Mapping[int, str]
) -> dict[int, tuple[str, str]]:
    """Category id -> (answer, modality) the revision stores, for every label of the rating;
    ApplicationError for answers that do not fit (services.answers checks the values, the
    labels left unanswered and the modalities, as for a submit)."""
    judged = [j for j in current if not j.added_by_rater]
    added = [j.category_id for j in current if j.added_by_rater]
    judged_ids = {j.category_id for j in judged}
    for key in answers or {}:
        if isinstance(key, bool):
            continue  # answers_check names it: not a category id
        try:
            category_pk = int(key)
        except (TypeError, ValueError):
            continue
        if category_pk in added:
            raise ApplicationError(
                f"Category {key} is a label you added: it stays present; send only its modality.",
                extra={"category_id": key},
            )
        if category_pk not in judged_ids:
            raise ApplicationError(
                f"Category {key} is not one of this rating's labels: a revision changes the answers you gave, "
                "it cannot add labels.",
                extra={"category_id": key},
            )
    labels = [
        ShownLabel(j.category_id, str(StudyClipLabel.Source.PROPOSAL), position, _SHOWN_SINCE, None, "")
        for position, j in enumerate(judged)
    ]
    checked = answers_check(
        labels=labels,
        reserved_at=_SHOWN_SINCE,
        answers=answers,
        added=added,
        modalities=modalities,
        dataset_id=study.dataset_id,
        ask_modality=study.ask_modality,
    )
    wanted = {pk: (answer, modality) for pk, answer, modality in checked.answered}
    wanted.update({pk: (str(Judgment.Answer.PRESENT), modality) for pk, modality in checked.added})
    return wanted


def _decoy_tally_revise(
    *, study: Study, study_clip: StudyClip, rater: AbstractBaseUser, before: list[Judgment], after: list[Judgment]
) -> None:
    """Move the rater's decoy tally (kept in studies that pause on decoy acceptance) from
    the replaced answers on the clip's decoys to the new ones."""
    decoys = set(study_clip.shown_labels.filter(is_decoy=True).values_list("category_id", flat=True))

    def counts(judgments: list[Judgment]) -> tuple[int, int]:
        decisive = [j for j in judgments if j.category_id in decoys and j.answer != Judgment.Answer.UNSURE]
        return len(decisive), sum(j.answer == Judgment.Answer.PRESENT for j in decisive)

    (old_answered, old_accepted), (new_answered, new_accepted) = counts(before), counts(after)
    if (old_answered, old_accepted) == (new_answered, new_accepted):
        return
    tally, _ = RaterGoldTally.objects.get_or_create(study=study, rater=rater)
    # Down to zero at most: the tally may not have counted the replaced answers (the option
    # was turned on after they were given).
    RaterGoldTally.objects.filter(pk=tally.pk).update(
        decoys_answered=Greatest(F("decoys_answered") + (new_answered - old_answered), 0, output_field=IntegerField()),
        decoys_accepted=Greatest(F("decoys_accepted") + (new_accepted - old_accepted), 0, output_field=IntegerField()),
    )
