"""When a label, and a clip's label set, is decided: the rules of the 'settled' queue, and the
rule that stops showing an added label its next raters rejected (every study).

A label's votes come only from the raters who were shown it or added it (the adder's
answer is a present vote). Its consensus is the majority rule (more present than absent;
unsure abstains); a label a rater added must also be confirmed by another rater
(present >= 2): one rater's word is not a verified label.

Sequential decision (Wald's SPRT on one label). Each rater r has a sensitivity s_r (present
on a label that is there) and a specificity t_r (absent on one that is not), estimated from
their answers on the study's gold labels (RaterGoldTally) with PRIOR_ANSWERS pseudo-answers
at DEFAULT_SENSITIVITY / DEFAULT_SPECIFICITY, so a rater without gold starts at the default.
A present answer adds log(s_r / (1 - t_r)) to the label's log-likelihood ratio, an absent one
log((1 - s_r) / t_r); unsure adds nothing; a rater no better than chance (s + t <= 1) adds
nothing either. With even prior odds the label is decided present when the ratio reaches
log((1 - e) / e) and the majority says present, absent when it reaches -log((1 - e) / e)
and the majority does not say present; e is the study's `settle_error`. If the rates are
right, the chance that a decision is wrong is at most about e (Wald's bound
e / (1 - e)); tests/annotator/test_settling.py measures it on simulated raters. A label is
also decided when the raters still to come (up to the maximum) could not change its majority.

A clip settles when it has at least `min_raters` ratings, its last `quiet_raters` ratings in a
row added no label (a label nobody was shown can only be found by raters looking for it: a
rater adding each missed label with probability d misses one through q quiet raters with
probability (1 - d)^q), and every label it shows is decided. From `min_raters` ratings on,
a decided label stops being shown: later raters spend their time on what is undecided and on
what is missing. Gold clips never settle: they serve every rater up to the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from evaluation.metrics.consensus import ADDED_MIN_PRESENT

DEFAULT_SENSITIVITY = 0.8
DEFAULT_SPECIFICITY = 0.8
PRIOR_ANSWERS = 10.0
# An added label is hidden once this many raters shown it answered absent while none but
# its adder answered present.
REJECTIONS_TO_HIDE = 2
# A rate is kept inside (RATE_FLOOR, 1 - RATE_FLOOR): a perfect gold record must not make one
# vote decide a label on its own.
RATE_FLOOR = 0.02


@dataclass(frozen=True)
class RaterWeights:
    """What one rater's present and absent answers add to a label's log-likelihood ratio."""

    present: float
    absent: float


@dataclass(frozen=True)
class GoldTally:
    true_present: int = 0
    false_absent: int = 0
    true_absent: int = 0
    false_present: int = 0


def rater_weights(tally: GoldTally) -> RaterWeights:
    """The rater's vote weights from their gold answers, shrunk towards the defaults."""
    sensitivity = (tally.true_present + PRIOR_ANSWERS * DEFAULT_SENSITIVITY) / (
        tally.true_present + tally.false_absent + PRIOR_ANSWERS
    )
    specificity = (tally.true_absent + PRIOR_ANSWERS * DEFAULT_SPECIFICITY) / (
        tally.true_absent + tally.false_present + PRIOR_ANSWERS
    )
    sensitivity = min(max(sensitivity, RATE_FLOOR), 1 - RATE_FLOOR)
    specificity = min(max(specificity, RATE_FLOOR), 1 - RATE_FLOOR)
    if sensitivity + specificity <= 1:
        return RaterWeights(0.0, 0.0)
    return RaterWeights(math.log(sensitivity / (1 - specificity)), math.log((1 - sensitivity) / specificity))


@dataclass
class LabelVotes:
    """One shown (or added) label of a clip and the votes of the raters who were shown it."""

    category_id: int
    source: str  # "proposal" | "decoy" | "added"
    hidden_reason: str = ""
    present: int = 0
    absent: int = 0
    unsure: int = 0
    log_ratio: float = 0.0
    voters: set[int] = field(default_factory=set)

    def vote(self, *, answer: str, weights: RaterWeights, rater_id: int) -> None:
        self.voters.add(rater_id)
        if answer == "present":
            self.present += 1
            self.log_ratio += weights.present
        elif answer == "absent":
            self.absent += 1
            self.log_ratio += weights.absent
        else:
            self.unsure += 1

    @property
    def confirmed(self) -> bool:
        """The consensus (evaluation.metrics.consensus): majority present; an added label also
        needs a second rater's present."""
        return self.present > self.absent and (self.source != "added" or self.present >= ADDED_MIN_PRESENT)


def label_decision(votes: LabelVotes, *, remaining: int, settle_error: float) -> bool | None:
    """True (present) / False (not present) once the label is decided, else None.
    `remaining`: ratings the clip may still get before its maximum."""
    threshold = math.log((1 - settle_error) / settle_error)
    if votes.log_ratio >= threshold and votes.confirmed:
        return True
    if votes.log_ratio <= -threshold and not votes.confirmed:
        return False
    # What the raters still to come could do at most: all present, or all absent.
    best = LabelVotes(votes.category_id, votes.source, present=votes.present + remaining, absent=votes.absent)
    worst = LabelVotes(votes.category_id, votes.source, present=votes.present, absent=votes.absent + remaining)
    if best.confirmed == worst.confirmed:
        return best.confirmed
    return None


def added_label_rejected(votes: LabelVotes) -> bool:
    """An added label its adder alone calls present and the next raters reject stops being shown."""
    return votes.source == "added" and votes.present <= 1 and votes.absent >= REJECTIONS_TO_HIDE


@dataclass(frozen=True)
class ClipReview:
    """What a submit changes about a clip's labels and whether the clip is settled."""

    hide_rejected: list[int]  # category ids of added labels to hide as rejected
    hide_present: list[int]  # category ids to hide as decided present (serving 'settled')
    hide_absent: list[int]  # category ids to hide as decided not present (serving 'settled')
    settled: bool


def clip_review(
    *,
    labels: Iterable[LabelVotes],
    completed: int,
    quiet_ratings: int,
    min_raters: int,
    max_raters: int,
    quiet_raters: int,
    settle_error: float,
    settling: bool,
) -> ClipReview:
    """Apply the rules above to a clip's labels after a rating. `settling`: the study serves
    until settled and the clip is not gold; otherwise only the added-label rule applies."""
    hide_rejected: list[int] = []
    hide_decided: dict[bool, list[int]] = {True: [], False: []}
    undecided = 0
    remaining = max(max_raters - completed, 0)
    for votes in labels:
        if votes.hidden_reason:
            continue
        if added_label_rejected(votes):
            hide_rejected.append(votes.category_id)
            continue
        if not settling:
            continue
        decision = label_decision(votes, remaining=remaining, settle_error=settle_error)
        if decision is None:
            undecided += 1
        elif completed >= min_raters:
            hide_decided[decision].append(votes.category_id)
    settled = settling and (
        completed >= max_raters or (completed >= min_raters and quiet_ratings >= quiet_raters and undecided == 0)
    )
    return ClipReview(hide_rejected, hide_decided[True], hide_decided[False], settled)


def tally_votes(
    *,
    labels: Mapping[int, LabelVotes],
    judgments: Iterable[tuple[int, int, str]],
    weights: Mapping[int, RaterWeights],
) -> None:
    """Add (rater id, category id, answer) judgments to the labels they answer."""
    neutral = rater_weights(GoldTally())
    for rater_id, category_id, answer in judgments:
        votes = labels.get(category_id)
        if votes is not None:
            votes.vote(answer=answer, weights=weights.get(rater_id, neutral), rater_id=rater_id)
