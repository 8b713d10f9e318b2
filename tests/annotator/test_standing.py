"""Steering a running study: pausing, resuming and removing raters (their ratings kept or
excluded), pausing, resuming, closing and reopening the study, automatic pausing, and the
audit trail each action leaves."""

import pytest

from annotator import selectors, services
from annotator.models import GoldLabel, Rating, Reservation, Study, StudyEvent, StudyRater
from config.errors import ConflictError, NotFoundError
from tests.builders import make_study, rate, reserve


def _actions(study) -> list[str]:
    return list(StudyEvent.objects.filter(study=study).order_by("id").values_list("action", flat=True))


def test_a_paused_rater_is_served_nothing_and_gives_back_what_they_hold(study_world):
    # Given a rater holding a clip
    study, rater = study_world.study, study_world.raters[0]
    assert reserve(study_world, rater=rater) is not None
    # When the researcher pauses them
    services.rater_pause(study=study, rater=rater, actor=study_world.owner, reason="too fast")
    # Then the reservation is gone, the queue refuses them with the reason, and the trail says so
    assert not Reservation.objects.filter(rater=rater, study_clip__study=study).exists()
    with pytest.raises(ConflictError) as refused:
        reserve(study_world, rater=rater)
    assert refused.value.extra == {"standing": "paused"}
    event = StudyEvent.objects.get(study=study)
    assert (event.action, event.actor, event.rater, event.details) == (
        "rater_paused",
        study_world.owner,
        rater,
        {"reason": "too fast"},
    )
    # And after resuming they are served again
    services.rater_resume(study=study, rater=rater, actor=study_world.owner)
    assert reserve(study_world, rater=rater) is not None
    assert _actions(study) == ["rater_paused", "rater_resumed"]


def test_others_keep_rating_while_one_rater_is_paused(study_world):
    study = study_world.study
    services.rater_pause(study=study, rater=study_world.raters[0], actor=study_world.owner)
    clip = reserve(study_world, rater=study_world.raters[1])
    assert rate(clip, study_world.raters[1]).pk


def test_removing_a_rater_takes_them_out_of_the_pool_and_records_the_choice(study_world):
    study, rater = study_world.study, study_world.raters[0]
    rate(reserve(study_world, rater=rater), rater)
    services.rater_remove(study=study, rater=rater, actor=study_world.owner, exclude_ratings=True, reason="spam")
    assert not study.raters.filter(pk=rater.pk).exists()
    standing = StudyRater.objects.get(study=study, rater=rater)
    assert (standing.state, standing.ratings_excluded, standing.reason) == ("removed", True, "spam")
    assert Rating.objects.filter(rater=rater).count() == 1  # kept in the database
    with pytest.raises(NotFoundError):
        reserve(study_world, rater=rater)
    event = StudyEvent.objects.get(study=study, action="rater_removed")
    assert event.details == {"reason": "spam", "ratings": "excluded"}
    # The researcher still sees them, removed
    row = next(row for row in selectors.qualification_results(study=study) if row["rater_id"] == rater.pk)
    assert (row["state"], row["ratings_excluded"]) == ("removed", True)


def test_a_removed_rater_added_again_is_active_with_their_ratings_back(study_world):
    study, rater = study_world.study, study_world.raters[0]
    services.rater_remove(study=study, rater=rater, actor=study_world.owner, exclude_ratings=True)
    services.study_add_raters(study=study, raters=[rater], actor=study_world.owner)
    standing = StudyRater.objects.get(study=study, rater=rater)
    assert (standing.state, standing.ratings_excluded) == ("active", False)
    assert reserve(study_world, rater=rater) is not None
    assert _actions(study)[-1] == "raters_added"


def test_only_raters_of_the_study_can_be_paused(study_world, db):
    from tests.factories import make_rater

    with pytest.raises(NotFoundError):
        services.rater_pause(study=study_world.study, rater=make_rater(), actor=study_world.owner)


def test_pausing_the_study_serves_and_accepts_nothing_until_resumed(study_world):
    study, rater = study_world.study, study_world.raters[0]
    clip = reserve(study_world, rater=rater)
    services.study_pause(study=study, actor=study_world.owner)
    assert Study.objects.get(pk=study.pk).status == "paused"
    assert not Reservation.objects.filter(study_clip__study=study).exists()
    with pytest.raises(ConflictError, match="paused"):
        reserve(study_world, rater=rater)
    with pytest.raises(ConflictError):
        rate(clip, rater)
    services.study_resume(study=study, actor=study_world.owner)
    assert reserve(study_world, rater=rater) is not None
    assert _actions(study) == ["study_paused", "study_resumed"]


def test_a_closed_study_can_be_reopened_and_its_ratings_stand(study_world):
    study, rater = study_world.study, study_world.raters[0]
    rating = rate(reserve(study_world, rater=rater), rater)
    services.study_close(study=study, actor=study_world.owner)
    with pytest.raises(ConflictError, match="closed"):
        services.study_resume(study=study, actor=study_world.owner)
    services.study_reopen(study=study, actor=study_world.owner)
    assert Study.objects.get(pk=study.pk).status == "active"
    assert Rating.objects.filter(pk=rating.pk).exists()
    assert reserve(study_world, rater=rater) is not None
    assert _actions(study) == ["study_closed", "study_reopened"]


def test_status_changes_are_idempotent_and_pausing_a_closed_study_is_refused(study_world):
    study = study_world.study
    services.study_reopen(study=study, actor=study_world.owner)  # active already: nothing to do
    services.study_close(study=study, actor=study_world.owner)
    with pytest.raises(ConflictError):
        services.study_pause(study=study, actor=study_world.owner)
    services.study_close(study=study, actor=study_world.owner)
    services.study_close(study=study, actor=study_world.owner)
    assert _actions(study) == ["study_closed"]


def _gold_world(world, **settings):
    """A study whose every clip is gold (per-label truth: the original label present, the
    other proposal absent) and which pauses raters on the settings given."""
    for clip in world.clips:
        label = clip.clip_labels.get().category
        GoldLabel.objects.create(clip=clip, category=label, present=True)
        other = clip.proposals.exclude(category=label).first().category
        GoldLabel.objects.create(clip=clip, category=other, present=False)
    world.study = make_study(world, sample_size=4, gold_rate=1.0, raters_per_clip=3, decoys_per_clip=1, **settings)
    return world


def test_a_rater_whose_gold_accuracy_falls_below_the_threshold_is_paused_with_the_reason(world):
    # Given a study that pauses raters below 0.6 gold accuracy over at least 2 answers
    _gold_world(world, pause_below_gold_accuracy=0.6, auto_pause_min_answers=2)
    rater = world.raters[0]
    # When the rater answers every label present on a gold clip (the known-absent one wrong)
    paused = False
    for _ in range(8):
        clip = services.clip_next_for_rater(study=world.study, rater=rater)
        rate(clip, rater)
        if clip.is_gold:
            standing = StudyRater.objects.filter(study=world.study, rater=rater).first()
            if standing and standing.state == "paused":
                paused = True
                break
    # Then, 1 of 2 right (0.5 < 0.6), they are paused automatically, the reason recorded
    assert paused
    assert "gold accuracy 0.50" in standing.reason
    event = StudyEvent.objects.get(study=world.study, action="rater_auto_paused")
    assert event.actor is None and event.rater == rater and "below" in event.details["reason"]
    assert not Reservation.objects.filter(rater=rater, study_clip__study=world.study).exists()
    with pytest.raises(ConflictError):
        services.clip_next_for_rater(study=world.study, rater=rater)


def test_a_rater_who_accepts_decoys_is_paused(world):
    world.study = make_study(world, decoys_per_clip=1, pause_above_decoy_acceptance=0.5, auto_pause_min_answers=2)
    rater = world.raters[0]
    rate(services.clip_next_for_rater(study=world.study, rater=rater), rater)
    assert not StudyRater.objects.filter(study=world.study, rater=rater, state="paused").exists()
    rate(services.clip_next_for_rater(study=world.study, rater=rater), rater)  # 2 of 2 decoys accepted
    standing = StudyRater.objects.get(study=world.study, rater=rater)
    assert standing.state == "paused" and "decoy acceptance 1.00 over 2 decoys" in standing.reason


def test_without_thresholds_nobody_is_paused(world):
    world.study = make_study(world, decoys_per_clip=1)
    rater = world.raters[0]
    for _ in range(4):
        rate(services.clip_next_for_rater(study=world.study, rater=rater), rater)
    assert not StudyRater.objects.filter(study=world.study).exists()


def test_a_revision_that_drops_gold_accuracy_below_the_threshold_pauses_the_rater(world):
    # Given a rater whose one gold rating is all right (2 of 2), in a study pausing below 0.6
    _gold_world(world, pause_below_gold_accuracy=0.6, auto_pause_min_answers=2)
    rater = world.raters[0]
    clip = services.clip_next_for_rater(study=world.study, rater=rater)
    truth = dict(GoldLabel.objects.filter(clip_id=clip.clip_id).values_list("category_id", "present"))
    shown = list(clip.shown_labels.values_list("category_id", flat=True))
    right = {pk: "present" if truth.get(pk, False) else "absent" for pk in shown}
    rating = services.rating_submit(study_clip=clip, rater=rater, answers=right)
    assert not StudyRater.objects.filter(study=world.study, rater=rater).exists()
    # When they revise it to answer every gold label wrong
    wrong = {pk: ("absent" if truth[pk] else "present") if pk in truth else answer for pk, answer in right.items()}
    services.rating_revise(rating_id=rating.pk, rater=rater, answers=wrong)
    # Then the revision's tally pauses them, as a submit would have
    standing = StudyRater.objects.get(study=world.study, rater=rater)
    assert standing.state == "paused" and "gold accuracy 0.00 over 2 answers" in standing.reason
