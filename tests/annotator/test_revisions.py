"""annotator.services.rating_revise: a rater changes the answers of a recent rating; the change
is a new version (the old one kept), the clip still counts the rater once, and the rules of
which ratings may be revised hold."""

import pytest

from annotator import selectors, services
from annotator.models import (
    GoldLabel,
    Judgment,
    RaterGoldTally,
    Rating,
    RatingVersion,
    Study,
    StudyClip,
    StudyClipLabel,
    StudyRater,
)
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.builders import all_present, make_study, rate


def _rate_next(study, rater, **kwargs) -> Rating:
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    assert study_clip is not None
    return rate(study_clip, rater, **kwargs)


def _labels(rating: Rating) -> list[int]:
    """The labels the rating answered (not those the rater added), in the order stored."""
    return list(rating.judgments.filter(added_by_rater=False).order_by("pk").values_list("category_id", flat=True))


def _stored(rating: Rating) -> dict[int, tuple[str, str]]:
    return {j.category_id: (j.answer, j.modality) for j in Judgment.objects.filter(rating=rating)}


def _first_absent(rating: Rating) -> dict[int, str]:
    labels = _labels(rating)
    return {pk: "absent" if pk == labels[0] else "present" for pk in labels}


@pytest.fixture
def study(world):
    return make_study(world, raters_per_clip=2, decoys_per_clip=1)


def test_rating_revise_stores_a_new_version_and_keeps_the_old_one(world, study):
    rater = world.raters[0]
    rating = _rate_next(study, rater, seconds_spent=3)
    labels = _labels(rating)

    revised = services.rating_revise(rating_id=rating.pk, rater=rater, answers=_first_absent(rating), seconds_spent=2)

    assert revised.pk == rating.pk and revised.version == 2 and revised.revised_at is not None
    assert revised.seconds_spent == 5  # the revising time adds to the rating's
    assert _stored(rating) == {pk: ("absent" if pk == labels[0] else "present", "") for pk in labels}
    kept = RatingVersion.objects.get(rating=rating)
    assert kept.version == 1 and kept.seconds_spent == 3 and kept.submitted_at == rating.submitted_at
    assert kept.answers == [
        {"category": pk, "answer": "present", "modality": "", "added_by_rater": False} for pk in labels
    ]
    assert set(Judgment.objects.filter(rating=rating).values_list("study_id", flat=True)) == {study.pk}


def test_rating_revise_counts_the_rater_once(world, study):
    rater = world.raters[0]
    rating = _rate_next(study, rater)
    before = selectors.rater_progress(study=study, rater=rater)

    services.rating_revise(rating_id=rating.pk, rater=rater, answers=_first_absent(rating))
    services.rating_revise(rating_id=rating.pk, rater=rater, answers=dict.fromkeys(_labels(rating), "unsure"))

    assert Rating.objects.filter(study_clip=rating.study_clip).count() == 1
    assert Judgment.objects.filter(rating=rating).count() == len(_labels(rating))
    assert StudyClip.objects.get(pk=rating.study_clip_id).completed_count == 1
    assert selectors.rater_progress(study=study, rater=rater) == before
    assert list(RatingVersion.objects.filter(rating=rating).values_list("version", flat=True)) == [1, 2]
    assert Rating.objects.get(pk=rating.pk).version == 3


def test_rating_revise_with_the_answers_it_holds_stores_nothing(world, study):
    rater = world.raters[0]
    rating = _rate_next(study, rater, seconds_spent=3)

    same = services.rating_revise(rating_id=rating.pk, rater=rater, answers=all_present(rating.study_clip))
    services.rating_revise(rating_id=rating.pk, rater=rater, answers=_first_absent(rating))
    again = services.rating_revise(
        rating_id=rating.pk, rater=rater, answers=_first_absent(rating), seconds_spent=9, version=1
    )

    assert same.version == 1
    assert again.version == 2 and again.seconds_spent == 3  # a retry adds neither a version nor time
    assert RatingVersion.objects.filter(rating=rating).count() == 1


def test_rating_revise_of_another_raters_rating_is_not_found(world, study):
    rating = _rate_next(study, world.raters[0])

    with pytest.raises(NotFoundError):
        services.rating_revise(rating_id=rating.pk, rater=world.raters[1], answers=_first_absent(rating))
    with pytest.raises(NotFoundError):
        services.rating_revise(rating_id=10**12, rater=world.raters[0], answers={})

    assert Rating.objects.get(pk=rating.pk).version == 1
    assert not RatingVersion.objects.exists()


@pytest.mark.parametrize(("status", "reason"), [("paused", "study_paused"), ("closed", "study_closed")])
def test_rating_revise_in_a_study_not_active_is_refused(world, study, status, reason):
    rater = world.raters[0]
    rating = _rate_next(study, rater)
    Study.objects.filter(pk=study.pk).update(status=status)

    with pytest.raises(ConflictError, match=f"is {status}") as refused:
        services.rating_revise(rating_id=rating.pk, rater=rater, answers=_first_absent(rating))

    assert refused.value.extra["reason"] == reason
    assert _stored(rating) == {pk: ("present", "") for pk in _labels(rating)}


def test_rating_revise_by_a_paused_or_removed_rater_is_refused(world, study):
    paused, removed = world.raters[0], world.raters[1]
    paused_rating, removed_rating = _rate_next(study, paused), _rate_next(study, removed)
    StudyRater.objects.create(study=study, rater=paused, state=StudyRater.State.PAUSED)
    StudyRater.objects.create(study=study, rater=removed, state=StudyRater.State.REMOVED)
    study.raters.remove(removed)

    with pytest.raises(ConflictError, match="paused") as refused:
        services.rating_revise(rating_id=paused_rating.pk, rater=paused, answers=_first_absent(paused_rating))
    assert refused.value.extra["reason"] == "paused"
    with pytest.raises(ConflictError, match="no longer rate") as refused:
        services.rating_revise(rating_id=removed_rating.pk, rater=removed, answers=_first_absent(removed_rating))
    assert refused.value.extra["reason"] == "removed"


def test_only_the_last_ratings_in_the_study_may_be_revised(world):
    study = make_study(world, raters_per_clip=1)
    rater = world.raters[0]
    ratings = [_rate_next(study, rater) for _ in range(services.REVISABLE_RATINGS + 1)]
    oldest, oldest_kept = ratings[0], ratings[1]

    with pytest.raises(ConflictError, match=f"last {services.REVISABLE_RATINGS}") as refused:
        services.rating_revise(rating_id=oldest.pk, rater=rater, answers=_first_absent(oldest))
    revised = services.rating_revise(rating_id=oldest_kept.pk, rater=rater, answers=_first_absent(oldest_kept))

    assert refused.value.extra["reason"] == "too_old"
    assert revised.version == 2


def test_a_skipped_rating_cannot_be_revised(world, study):
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    skipped = services.rating_submit(study_clip=study_clip, rater=rater, answers={}, skipped=True)
    labels = list(study_clip.shown_labels.values_list("category_id", flat=True))

    with pytest.raises(ConflictError, match="skipped") as refused:
        services.rating_revise(rating_id=skipped.pk, rater=rater, answers=dict.fromkeys(labels, "present"))

    assert refused.value.extra["reason"] == "skipped"
    assert not Judgment.objects.filter(rating=skipped).exists()


@pytest.mark.parametrize(
    ("make_answers", "modalities", "message"),
    [
        (lambda labels, added, other: {**dict.fromkeys(labels, "present"), other: "absent"}, "", "cannot add labels"),
        (lambda labels, added, other: {**dict.fromkeys(labels, "present"), added: "absent"}, "", "a label you added"),
        (lambda labels, added, other: dict.fromkeys(labels[:1], "present"), "", "Answer every shown label"),
        (lambda labels, added, other: dict.fromkeys(labels, "maybe"), "", "is not one of"),
        (lambda labels, added, other: {**dict.fromkeys(labels, "present"), "x": "absent"}, "", "not a category id"),
        (lambda labels, added, other: dict.fromkeys(labels, "absent"), "first", "was not answered present"),
        (lambda labels, added, other: dict.fromkeys(labels, "present"), "bad", "is not one of A"),
    ],
)
def test_rating_revise_refuses_answers_that_do_not_fit_the_rating(world, study, make_answers, modalities, message):
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    shown = set(study_clip.shown_labels.values_list("category_id", flat=True))
    added, other = [c.pk for c in world.categories if c.pk not in shown][:2]
    rating = rate(study_clip, rater, added_category_ids=[added])
    labels = _labels(rating)
    modalities = {"": {}, "first": {labels[0]: "A"}, "bad": {labels[0]: "X"}}[modalities]

    with pytest.raises(ApplicationError, match=message):
        services.rating_revise(
            rating_id=rating.pk, rater=rater, answers=make_answers(labels, added, other), modalities=modalities
        )

    assert Rating.objects.get(pk=rating.pk).version == 1


def test_rating_revise_changes_modalities_of_present_and_added_labels(world, study):
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    shown = set(study_clip.shown_labels.values_list("category_id", flat=True))
    added = next(c.pk for c in world.categories if c.pk not in shown)
    rating = services.rating_submit(
        study_clip=study_clip,
        rater=rater,
        answers=all_present(study_clip),
        added_category_ids=[added],
        modalities={added: "A"},
    )
    labels = _labels(rating)

    services.rating_revise(
        rating_id=rating.pk,
        rater=rater,
        answers=dict.fromkeys(labels, "present"),
        modalities={labels[0]: "V", added: "AV"},
    )

    stored = _stored(rating)
    assert stored[labels[0]] == ("present", "V") and stored[added] == ("present", "AV")
    assert RatingVersion.objects.get(rating=rating).answers[-1] == {
        "category": added,
        "answer": "present",
        "modality": "A",
        "added_by_rater": True,
    }


def test_rating_revise_of_a_version_since_replaced_is_refused(world, study):
    rater = world.raters[0]
    rating = _rate_next(study, rater)
    services.rating_revise(rating_id=rating.pk, rater=rater, answers=_first_absent(rating), version=1)

    with pytest.raises(ConflictError, match="version 2") as refused:
        services.rating_revise(
            rating_id=rating.pk, rater=rater, answers=dict.fromkeys(_labels(rating), "unsure"), version=1
        )

    assert refused.value.extra == {"reason": "changed", "version": 2}


def _gold_rating(world, study, rater) -> tuple[Rating, int, int]:
    """The rater's rating (all present) of a clip made gold, whose first label is known
    present and second known absent."""
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    StudyClip.objects.filter(pk=study_clip.pk).update(is_gold=True)
    known_present, known_absent = list(
        StudyClipLabel.objects.filter(study_clip=study_clip).order_by("position").values_list("category_id", flat=True)
    )[:2]
    GoldLabel.objects.create(clip=study_clip.clip, category_id=known_present, present=True, modality="A")
    GoldLabel.objects.create(clip=study_clip.clip, category_id=known_absent, present=False)
    return rate(study_clip, rater), known_present, known_absent


def _tally(study, rater) -> tuple[int, int, int, int]:
    tally = RaterGoldTally.objects.get(study=study, rater=rater)
    return tally.true_present, tally.false_absent, tally.true_absent, tally.false_present


def test_rating_revise_of_a_gold_clip_moves_the_gold_tally(world, study):
    rater = world.raters[0]
    rating, known_present, known_absent = _gold_rating(world, study, rater)
    assert _tally(study, rater) == (1, 0, 0, 1)
    answers = dict.fromkeys(_labels(rating), "present")

    services.rating_revise(rating_id=rating.pk, rater=rater, answers={**answers, known_absent: "absent"})
    assert _tally(study, rater) == (1, 0, 1, 0)
    services.rating_revise(
        rating_id=rating.pk, rater=rater, answers={**answers, known_present: "absent", known_absent: "unsure"}
    )
    assert _tally(study, rater) == (0, 1, 0, 0)


def test_a_gold_clip_whose_feedback_showed_the_truth_cannot_be_revised(world, study):
    Study.objects.filter(pk=study.pk).update(gold_feedback=True)
    study.refresh_from_db()
    rater = world.raters[0]
    rating, _, known_absent = _gold_rating(world, study, rater)  # present on a label known absent

    with pytest.raises(ConflictError, match="feedback") as refused:
        services.rating_revise(
            rating_id=rating.pk, rater=rater, answers={**_first_absent(rating), known_absent: "absent"}
        )

    assert refused.value.extra["reason"] == "feedback_shown"
    assert _tally(study, rater) == (1, 0, 0, 1)


def test_a_gold_clip_without_feedback_revises_like_any_clip(world, study):
    """In a blind study, refusing gold clips would tell the rater which clips are gold."""
    rater = world.raters[0]
    rating, _, known_absent = _gold_rating(world, study, rater)

    revised = services.rating_revise(
        rating_id=rating.pk, rater=rater, answers={**dict.fromkeys(_labels(rating), "present"), known_absent: "absent"}
    )

    assert revised.version == 2


def test_rating_revise_in_a_study_pausing_on_decoys_moves_the_decoy_tally(world):
    study = make_study(world, raters_per_clip=2, decoys_per_clip=1, pause_above_decoy_acceptance=0.9)
    rater = world.raters[0]
    rating = _rate_next(study, rater)  # the decoy answered present
    decoy = StudyClipLabel.objects.get(study_clip=rating.study_clip, is_decoy=True).category_id
    tally = RaterGoldTally.objects.get(study=study, rater=rater)
    assert (tally.decoys_answered, tally.decoys_accepted) == (1, 1)

    services.rating_revise(
        rating_id=rating.pk, rater=rater, answers={**dict.fromkeys(_labels(rating), "present"), decoy: "absent"}
    )

    tally.refresh_from_db()
    assert (tally.decoys_answered, tally.decoys_accepted) == (1, 0)


def test_rater_history_lists_the_last_ratings_newest_first_with_their_answers(world, study):
    rater = world.raters[0]
    first, second = _rate_next(study, rater), _rate_next(study, rater)
    services.rating_revise(rating_id=first.pk, rater=rater, answers=_first_absent(first))

    history = selectors.rater_history(study=study, rater=rater)

    assert [row["id"] for row in history] == [second.pk, first.pk]
    assert history[1]["version"] == 2 and history[1]["revised_at"] is not None and history[1]["revisable"]
    assert [(label["category_id"], label["answer"]) for label in history[1]["labels"]] == [
        (pk, answer) for pk, answer in _first_absent(first).items()
    ]
    assert selectors.rater_history(study=study, rater=world.raters[1]) == []


def test_rating_revise_in_a_settled_study_applies_the_settling_rules_to_the_new_votes(world):
    study = make_study(
        world, serving="settled", min_raters=2, raters_per_clip=3, decoys_per_clip=0, sample_size=1, quiet_raters=0
    )
    first, second = world.raters[0], world.raters[1]
    rating = _rate_next(study, first)
    study_clip = services.clip_next_for_rater(study=study, rater=second)
    labels = _labels(rating)
    services.rating_submit(study_clip=study_clip, rater=second, answers=dict.fromkeys(labels, "absent"))
    assert StudyClipLabel.objects.filter(study_clip=study_clip, hidden_at__isnull=True).count() == len(labels)

    services.rating_revise(rating_id=rating.pk, rater=first, answers=dict.fromkeys(labels, "absent"))

    # Two raters now agree every label is absent: decided, no longer shown, the clip settled.
    assert not StudyClipLabel.objects.filter(study_clip=study_clip, hidden_at__isnull=True).exists()
    assert set(StudyClipLabel.objects.filter(study_clip=study_clip).values_list("hidden_reason", flat=True)) == {
        "absent"
    }
    assert StudyClip.objects.get(pk=study_clip.pk).settled
