"""The settled queue's rules on their own (annotator.services.settling): vote weights from
gold, the sequential decision and its error rate, and when a clip settles."""

import math
import random

import pytest

from annotator.services import settling


def test_weights_start_at_the_default_and_follow_the_gold_record():
    neutral = settling.rater_weights(settling.GoldTally())
    assert neutral.present == pytest.approx(math.log(0.8 / 0.2))
    careful = settling.rater_weights(
        settling.GoldTally(true_present=90, false_absent=10, true_absent=90, false_present=10)
    )
    random_rater = settling.rater_weights(
        settling.GoldTally(true_present=50, false_absent=50, true_absent=50, false_present=50)
    )
    assert careful.present > neutral.present > 0 > neutral.absent > careful.absent
    assert abs(random_rater.present) < 0.2 and abs(random_rater.absent) < 0.2
    worse_than_chance = settling.rater_weights(settling.GoldTally(false_absent=100, false_present=100))
    assert worse_than_chance == settling.RaterWeights(0.0, 0.0)


def test_a_label_is_decided_when_the_remaining_raters_cannot_change_its_majority():
    votes = settling.LabelVotes(1, "proposal", present=3, absent=0)
    assert settling.label_decision(votes, remaining=2, settle_error=1e-9) is True
    assert settling.label_decision(votes, remaining=3, settle_error=1e-9) is None
    added = settling.LabelVotes(2, "added", present=1)
    assert settling.label_decision(added, remaining=0, settle_error=0.02) is False  # never verified


def test_the_sequential_decision_errs_at_most_about_its_settle_error():
    """Raters at the rates the weights assume (sensitivity = specificity = 0.8): the share of
    wrong decisions stays within Wald's bound e / (1 - e), with sampling slack."""
    rng = random.Random(0)
    weights = settling.rater_weights(settling.GoldTally())
    error, trials, wrong = 0.05, 4000, 0
    for _ in range(trials):
        truth = rng.random() < 0.5
        votes = settling.LabelVotes(1, "proposal")
        while True:
            says_present = rng.random() < (0.8 if truth else 0.2)
            votes.vote(answer="present" if says_present else "absent", weights=weights, rater_id=0)
            decision = settling.label_decision(votes, remaining=1000, settle_error=error)
            if decision is not None:
                wrong += decision != truth
                break
    assert wrong / trials <= error / (1 - error) + 3 * math.sqrt(error / trials)


def test_a_clip_settles_only_with_enough_quiet_raters_and_every_label_decided():
    decided = settling.LabelVotes(1, "proposal", present=4, log_ratio=10.0)
    open_label = settling.LabelVotes(2, "proposal", present=1, absent=1)
    common = {"min_raters": 3, "max_raters": 12, "quiet_raters": 2, "settle_error": 0.02, "settling": True}
    assert settling.clip_review(labels=[decided], completed=4, quiet_ratings=2, **common).settled
    assert not settling.clip_review(labels=[decided], completed=4, quiet_ratings=1, **common).settled
    assert not settling.clip_review(labels=[decided, open_label], completed=4, quiet_ratings=5, **common).settled
    assert not settling.clip_review(labels=[decided], completed=2, quiet_ratings=2, **common).settled
    assert settling.clip_review(labels=[decided, open_label], completed=12, quiet_ratings=0, **common).settled
    review = settling.clip_review(labels=[decided, open_label], completed=4, quiet_ratings=0, **common)
    assert review.hide_present == [1] and review.hide_absent == []
    rejected = settling.LabelVotes(3, "added", present=1, absent=2)
    assert settling.clip_review(
        labels=[rejected], completed=3, quiet_ratings=0, **{**common, "settling": False}
    ).hide_rejected == [3]
