"""What a stored (or revised) rating changes about its clip's labels, written while rating_submit
(or rating_revise) holds the clip's row lock: labels the rater added become labels later raters
are shown, the rater's gold tally moves, added labels the next raters rejected stop being shown,
and in a 'settled' study decided labels stop being shown and the clip settles (rules:
annotator.services.settling)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, IntegerField
from django.db.models.functions import Greatest

from annotator import selectors
from annotator.models import Judgment, RaterGoldTally, Study, StudyClip, StudyClipLabel
from annotator.selectors import ShownLabel
from annotator.services import settling

# Hidden labels a rater's adding shows again: all but those decided present (adding agrees).
REOPENED_BY_ADDING = ("rejected", "absent", "cap")


def added_labels_store(
    *, study_clip: StudyClip, study: Study, rater, labels: Sequence[ShownLabel], added: Sequence[int], now: datetime
) -> bool:
    """Make each added category a label of the clip: a new one is shown to later raters (or
    stored hidden as 'cap' when the clip already shows max_labels_shown); one the clip has
    but hides (rejected, decided absent, over the cap) is shown again, the rater having found it. The
    rater's own judgment is their present vote. True when anything became shown: the rating
    added something for the quiet-raters count."""
    if not added:
        return False
    existing = {label.category_id: label for label in labels}
    shown = sum(1 for label in labels if label.shown_now)
    position = max((label.position for label in labels), default=-1) + 1
    new_rows: list[StudyClipLabel] = []
    reshown: list[int] = []
    for category_pk in added:
        label = existing.get(category_pk)
        if label is None:
            over_cap = shown >= study.max_labels_shown
            new_rows.append(
                StudyClipLabel(
                    study_clip_id=study_clip.pk,
                    category_id=category_pk,
                    source=StudyClipLabel.Source.ADDED,
                    added_by=rater,
                    position=position,
                    created_at=now,
                    hidden_at=now if over_cap else None,
                    hidden_reason="cap" if over_cap else "",
                )
            )
            position += 1
            shown += 0 if over_cap else 1
        elif not label.shown_now and label.hidden_reason in REOPENED_BY_ADDING:
            reshown.append(category_pk)
    if new_rows:
        StudyClipLabel.objects.bulk_create(new_rows)
    if reshown:
        StudyClipLabel.objects.filter(study_clip_id=study_clip.pk, category_id__in=reshown).update(
            hidden_at=None, hidden_reason="", created_at=now
        )
    return any(not row.hidden_reason for row in new_rows) or bool(reshown)


def gold_tally_add(*, study: Study, study_clip: StudyClip, rater, judgments: Sequence[Judgment]) -> None:
    """Count the rater's decisive answers on the gold clip's labels with known truth."""
    truth = selectors.clip_gold_truth(clip_id=study_clip.clip_id)
    _gold_tally_move(study=study, rater=rater, counts=_gold_counts(truth=truth, judgments=judgments))


def gold_tally_revise(
    *, study: Study, study_clip: StudyClip, rater, before: Sequence[Judgment], after: Sequence[Judgment]
) -> None:
    """A revised rating of a gold clip: take its replaced answers' contribution out of the
    rater's tally and count the new ones (a count never goes below zero, should the truth
    have changed since the answers were first counted)."""
    truth = selectors.clip_gold_truth(clip_id=study_clip.clip_id)
    old, new = _gold_counts(truth=truth, judgments=before), _gold_counts(truth=truth, judgments=after)
    _gold_tally_move(study=study, rater=rater, counts={key: new[key] - old[key] for key in new})


def _gold_counts(*, truth: dict[int, bool], judgments: Sequence[Judgment]) -> dict[str, int]:
    counts = {"true_present": 0, "false_absent": 0, "true_absent": 0, "false_present": 0}
    for judgment in judgments:
        known = truth.get(judgment.category_id)
        if known is None or judgment.answer == Judgment.Answer.UNSURE:
            continue
        said_present = judgment.answer == Judgment.Answer.PRESENT
        key = ("true_present" if said_present else "false_absent") if known else None
        key = key or ("false_present" if said_present else "true_absent")
        counts[key] += 1
    return counts


def _gold_tally_move(*, study: Study, rater, counts: dict[str, int]) -> None:
    """Add `counts` (negative ones subtract, down to zero) to the rater's tally in the study."""
    if not any(counts.values()):
        return
    tally, _ = RaterGoldTally.objects.get_or_create(study=study, rater=rater)
    floor = {"output_field": IntegerField()}
    RaterGoldTally.objects.filter(pk=tally.pk).update(
        **{key: F(key) + value if value >= 0 else Greatest(F(key) + value, 0, **floor) for key, value in counts.items()}
    )


def review_needed(*, study: Study, study_clip: StudyClip, labels: Sequence[ShownLabel]) -> bool:
    """Whether a rating can change anything the rules decide: in a settling clip always, else
    only when the clip has labels raters added (the rule that hides rejected ones)."""
    settling_clip = study.serving == Study.Serving.SETTLED and not study_clip.is_gold
    return settling_clip or any(label.source == StudyClipLabel.Source.ADDED for label in labels)


def clip_review_apply(
    *, study_clip: StudyClip, study: Study, completed: int, quiet_ratings: int, now: datetime
) -> None:
    """Re-read the clip's labels and votes and apply the settling rules: hide rejected added
    labels; in a 'settled' study (gold clips excepted) hide decided labels and settle the clip."""
    labels = selectors.study_clip_labels(study_clip_id=study_clip.pk)
    settling_clip = study.serving == Study.Serving.SETTLED and not study_clip.is_gold
    votes = {
        label.category_id: settling.LabelVotes(label.category_id, label.source, label.hidden_reason) for label in labels
    }
    judgments = selectors.study_clip_votes(study_clip_id=study_clip.pk)
    weights: dict[int, settling.RaterWeights] = {}
    if settling_clip:
        tallies = selectors.gold_tallies(study_id=study.pk, rater_ids={rater for rater, _, _ in judgments})
        weights = {
            rater_pk: settling.rater_weights(
                settling.GoldTally(tally.true_present, tally.false_absent, tally.true_absent, tally.false_present)
            )
            for rater_pk, tally in tallies.items()
        }
    settling.tally_votes(labels=votes, judgments=judgments, weights=weights)
    review = settling.clip_review(
        labels=votes.values(),
        completed=completed,
        quiet_ratings=quiet_ratings,
        min_raters=study.min_raters,
        max_raters=study.raters_per_clip,
        quiet_raters=study.quiet_raters,
        settle_error=study.settle_error,
        settling=settling_clip,
    )
    hides = (("rejected", review.hide_rejected), ("present", review.hide_present), ("absent", review.hide_absent))
    for reason, categories in hides:
        if categories:
            StudyClipLabel.objects.filter(
                study_clip_id=study_clip.pk, category_id__in=categories, hidden_at__isnull=True
            ).update(hidden_at=now, hidden_reason=reason)
    if review.settled and not study_clip.settled:
        StudyClip.objects.filter(pk=study_clip.pk).update(settled=True)
        study_clip.settled = True
