"""annotator.services.rating_submit: what a submitted rating stores and what it refuses."""

import pytest

from annotator import services
from annotator.models import Judgment, Rating, Reservation
from config.errors import ApplicationError, ConflictError
from tests.builders import all_present, make_study, rate
from tests.factories import CategoryFactory


def test_rating_submit_stores_judgments_and_releases_the_reservation(world):
    study = make_study(world)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    labels = list(study_clip.shown_labels.values_list("category_id", flat=True))
    extra = next(c for c in world.categories if c.pk not in labels)

    rating = services.rating_submit(
        study_clip=study_clip,
        rater=rater,
        answers={labels[0]: "present", labels[1]: "absent", **{pk: "unsure" for pk in labels[2:]}},
        added_category_ids=[extra.pk, extra.pk],
        seconds_spent=4.5,
    )

    stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
    assert (labels[0], "present", False) in stored
    assert (labels[1], "absent", False) in stored
    assert (extra.pk, "present", True) in stored
    assert len(stored) == len(labels) + 1
    assert rating.seconds_spent == 4.5
    assert not Reservation.objects.exists()


def test_rating_submit_twice_keeps_one_rating_and_one_set_of_judgments(world):
    study = make_study(world)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    first = rate(study_clip, rater, seconds_spent=3)

    again = services.rating_submit(
        study_clip=study_clip, rater=rater, answers={"bogus": "nope"}, seconds_spent=9, skipped=True
    )

    assert again.pk == first.pk and not again.skipped and again.seconds_spent == 3
    assert Rating.objects.count() == 1
    assert Judgment.objects.count() == study_clip.shown_labels.count()


def test_rating_submit_accepts_string_category_keys(world):
    study = make_study(world)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)

    rating = services.rating_submit(
        study_clip=study_clip, rater=rater, answers={str(k): v for k, v in all_present(study_clip).items()}
    )

    assert rating.judgments.count() == study_clip.shown_labels.count()


@pytest.mark.parametrize(
    ("make_answers", "added", "seconds", "message"),
    [
        (lambda labels, other: {**dict.fromkeys(labels, "present"), other: "present"}, [], None, "was not shown"),
        (lambda labels, other: dict.fromkeys(labels, "maybe"), [], None, "is not one of"),
        (lambda labels, other: dict.fromkeys(labels[:1], "present"), [], None, "Answer every shown label"),
        (lambda labels, other: dict.fromkeys(labels, "present"), [10**9], None, "not in this dataset's taxonomy"),
        (lambda labels, other: dict.fromkeys(labels, "present"), ["shown"], None, "already shown"),
        (lambda labels, other: dict.fromkeys(labels, "present"), ["x"], None, "not a category id"),
        (lambda labels, other: dict.fromkeys(labels, "present"), [], -1, "seconds_spent"),
        (lambda labels, other: dict.fromkeys(labels, "present"), [], float("nan"), "seconds_spent"),
    ],
)
def test_rating_submit_rejects_bad_answers_and_saves_nothing(world, make_answers, added, seconds, message):
    study = make_study(world)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    labels = list(study_clip.shown_labels.values_list("category_id", flat=True))
    other = next(c.pk for c in world.categories if c.pk not in labels)
    added = [labels[0] if value == "shown" else value for value in added]

    with pytest.raises(ApplicationError, match=message):
        services.rating_submit(
            study_clip=study_clip,
            rater=rater,
            answers=make_answers(labels, other),
            added_category_ids=added,
            seconds_spent=seconds,
        )

    assert not Rating.objects.exists()
    assert not Judgment.objects.exists()
    assert Reservation.objects.filter(study_clip=study_clip, rater=rater).exists()


def test_rating_submit_rejects_added_categories_of_another_taxonomy(world):
    study = make_study(world)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    foreign = CategoryFactory()

    with pytest.raises(ApplicationError, match="taxonomy"):
        rate(study_clip, rater, added_category_ids=[foreign.pk])


def test_rating_submit_without_a_reservation_is_refused(world):
    study = make_study(world)
    study_clip = study.study_clips.first()

    with pytest.raises(ConflictError, match="lapsed; ask for the next clip"):
        rate(study_clip, world.raters[0])

    assert not Rating.objects.exists()
