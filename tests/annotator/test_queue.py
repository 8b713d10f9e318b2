"""annotator.services.clip_next_for_rater: which clip the queue serves, reservations and
their expiry, release and closing; the statements a next and a submit cost."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotator import services
from annotator.models import Rating, Reservation, Study
from config.errors import ConflictError, NotFoundError
from tests.builders import all_present, build_world, make_study, rate


def test_queue_serves_by_position_when_nothing_is_started(world):
    study = make_study(world)

    served = [services.clip_next_for_rater(study=study, rater=rater) for rater in world.raters[:1]]

    assert served[0].position == 0


def test_queue_prefers_the_clip_closest_to_completion(world):
    study = make_study(world, raters_per_clip=3)
    first, second, third, fourth = world.raters

    clip_a = services.clip_next_for_rater(study=study, rater=first)
    rate(clip_a, first)
    served_second = services.clip_next_for_rater(study=study, rater=second)
    served_third = services.clip_next_for_rater(study=study, rater=third)
    served_fourth = services.clip_next_for_rater(study=study, rater=fourth)

    assert clip_a.position == 0
    assert served_second.pk == clip_a.pk  # one completed: closest
    assert served_third.pk == clip_a.pk  # one completed + one reserved
    assert served_fourth.position == 1  # clip_a is at its overlap


def test_queue_returns_the_raters_own_live_reservation_again(world):
    study = make_study(world)
    rater = world.raters[0]

    first = services.clip_next_for_rater(study=study, rater=rater)
    again = services.clip_next_for_rater(study=study, rater=rater)

    assert first.pk == again.pk
    assert Reservation.objects.filter(rater=rater).count() == 1


def test_queue_never_exceeds_overlap_nor_serves_a_clip_twice_to_a_rater(db):
    world = build_world(clips_per_class=(2, 2), raters=5)
    study = make_study(world, raters_per_clip=2)
    served = Counter()

    for _ in range(10):
        for rater in world.raters:
            study_clip = services.clip_next_for_rater(study=study, rater=rater)
            if study_clip is not None:
                served[(rater.pk, study_clip.pk)] += 1
                rate(study_clip, rater)

    assert set(served.values()) == {1}
    completed = Counter(Rating.objects.filter(skipped=False).values_list("study_clip_id", flat=True))
    assert completed == dict.fromkeys(study.study_clips.values_list("pk", flat=True), 2)
    assert all(services.clip_next_for_rater(study=study, rater=rater) is None for rater in world.raters)


def test_expired_reservation_returns_the_clip_to_the_pool(db):
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, raters_per_clip=1, reservation_timeout_seconds=60)
    first, second, _ = world.raters
    start = timezone.now()

    held = services.clip_next_for_rater(study=study, rater=first, now=start)
    blocked = services.clip_next_for_rater(study=study, rater=second, now=start + timedelta(seconds=30))
    reserved = services.clip_next_for_rater(study=study, rater=second, now=start + timedelta(seconds=61))

    assert blocked is None
    assert reserved.pk == held.pk


def test_late_submit_is_refused_even_while_the_clip_has_room(db):
    """A lapsed reservation grants nothing: the late answer is refused, not stored."""
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, raters_per_clip=2, reservation_timeout_seconds=60)
    late, other, _ = world.raters
    past = timezone.now() - timedelta(seconds=120)
    study_clip = services.clip_next_for_rater(study=study, rater=late, now=past)
    services.clip_next_for_rater(study=study, rater=other)

    with pytest.raises(ConflictError, match="lapsed"):
        rate(study_clip, late)

    assert not Rating.objects.filter(rater=late).exists()


def test_late_submit_is_refused_once_others_filled_the_clip(db):
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, raters_per_clip=2, reservation_timeout_seconds=60)
    late, second, third = world.raters
    past = timezone.now() - timedelta(seconds=120)
    study_clip = services.clip_next_for_rater(study=study, rater=late, now=past)
    rate(services.clip_next_for_rater(study=study, rater=second), second)
    services.clip_next_for_rater(study=study, rater=third)  # reserved: the clip is full again

    with pytest.raises(ConflictError, match="lapsed"):
        rate(study_clip, late)

    assert not Rating.objects.filter(rater=late).exists()


def test_skipped_clip_is_not_served_again_but_still_needs_its_overlap(db):
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, raters_per_clip=2)
    skipper, second, third = world.raters

    study_clip = services.clip_next_for_rater(study=study, rater=skipper)
    services.rating_submit(study_clip=study_clip, rater=skipper, answers={}, skipped=True)

    assert services.clip_next_for_rater(study=study, rater=skipper) is None
    assert services.clip_next_for_rater(study=study, rater=second).pk == study_clip.pk
    assert services.clip_next_for_rater(study=study, rater=third).pk == study_clip.pk


def test_reservation_release_gives_the_clip_back(db):
    world = build_world(clips_per_class=(1,), raters=2)
    study = make_study(world, raters_per_clip=1)
    first, second = world.raters
    study_clip = services.clip_next_for_rater(study=study, rater=first)

    assert services.reservation_release(study_clip=study_clip, rater=first)

    assert services.clip_next_for_rater(study=study, rater=second).pk == study_clip.pk


def test_queue_refuses_raters_outside_the_study_and_closed_studies(world):
    study = make_study(world, raters=world.raters[:1])

    with pytest.raises(NotFoundError):
        services.clip_next_for_rater(study=study, rater=world.raters[1])
    services.study_close(study=study)
    with pytest.raises(ConflictError, match="closed"):
        services.clip_next_for_rater(study=study, rater=world.raters[0])


def test_study_close_drops_open_reservations(world):
    study = make_study(world)
    services.clip_next_for_rater(study=study, rater=world.raters[0])

    services.study_close(study=study)

    assert Study.objects.get(pk=study.pk).status == Study.Status.CLOSED
    assert not Reservation.objects.exists()


def test_next_and_submit_use_a_bounded_number_of_queries(db):
    """The queue reads a few candidates through the index instead of aggregating the study:
    the same statements for 3 clips as for 60, most of them rated."""
    counts = []
    for clips in (3, 60):
        world = build_world(clips_per_class=(clips,), raters=3)
        study = make_study(world, sample_size=clips, raters_per_clip=2)
        for _ in range(clips - 2):  # warm: most clips completed, one half done
            for rater in world.raters[1:]:
                rate(services.clip_next_for_rater(study=study, rater=rater), rater)
        rater = world.raters[0]
        with CaptureQueriesContext(connection) as next_queries:
            study_clip = services.clip_next_for_rater(study=study, rater=rater)
        answers = all_present(study_clip)
        with CaptureQueriesContext(connection) as submit_queries:
            services.rating_submit(study_clip=study_clip, rater=rater, answers=answers)
        counts.append((len(next_queries), len(submit_queries)))

    assert counts[0] == counts[1]
    next_count, submit_count = counts[0]
    # next: queue state, candidates, lock, claim (+ the savepoint pair of the test's transaction)
    assert next_count <= 6, next_count
    # submit: lock, load, shown labels, rating, judgments, reservation, completed_count (+ savepoints)
    assert submit_count <= 9, submit_count


def test_queue_ranks_a_clip_others_hold_above_untouched_clips_beyond_the_first_candidates(db):
    """A clip far down the serving order that another rater holds is closer to completion
    than the untouched clips ahead of it, so it comes first."""
    world = build_world(clips_per_class=(services.CANDIDATES_PER_PASS + 4,), raters=2)
    study = make_study(world, raters_per_clip=2)
    holder, rater = world.raters
    last = study.study_clips.order_by("-position").first()
    Reservation.objects.create(study_clip=last, rater=holder, expires_at=timezone.now() + timedelta(minutes=5))

    assert services.clip_next_for_rater(study=study, rater=rater).pk == last.pk
