"""Reserve-ahead (issue 12, point 1): while a rater works on a clip, one more is held for
them. It counts in every clip's overlap like any reservation, there is never more than one,
it goes back unused on release or lapse, and its clock starts when the rater moves on."""

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from annotator import services
from annotator.models import Reservation, Study, StudyClip
from config.errors import ConflictError, NotFoundError
from tests.annotator.clients import client_for
from tests.builders import all_present, build_world, make_study
from tests.factories import make_rater

LAPSED = "Your reservation for this clip lapsed; ask for the next clip."


@pytest.fixture
def queue_world(db):
    """Three clips, three raters, one rater per clip."""
    world = build_world(clips_per_class=(2, 1), raters=3)
    world.study = make_study(world, raters_per_clip=1, decoys_per_clip=1)
    return world


def _ahead(world, rater, current, now=None):
    return services.clip_ahead_for_rater(study=world.study, rater=rater, current_study_clip_id=current.pk, now=now)


def _over_served(study: Study, now) -> list[int]:
    """Study clips whose completed ratings plus live reservations pass the overlap."""
    loads = StudyClip.objects.filter(study=study).annotate(
        completed=Count("ratings", filter=Q(ratings__skipped=False), distinct=True),
        held=Count("reservations", filter=Q(reservations__expires_at__gt=now), distinct=True),
    )
    return [row.pk for row in loads if row.completed + row.held > study.raters_per_clip]


def test_the_clip_held_ahead_counts_in_the_overlap(queue_world):
    first, second, third = queue_world.raters
    now = timezone.now()

    current = services.clip_next_for_rater(study=queue_world.study, rater=first, now=now)
    ahead = _ahead(queue_world, first, current, now=now)
    others = services.clip_next_for_rater(study=queue_world.study, rater=second, now=now)
    others_ahead = _ahead(queue_world, second, others, now=now)

    assert ahead is not None and ahead.pk != current.pk
    assert others.pk not in {current.pk, ahead.pk}, "a clip held ahead is full for everyone else"
    assert others_ahead is None, "the three clips are held: nothing is left to hold ahead"
    assert services.clip_next_for_rater(study=queue_world.study, rater=third, now=now) is None
    assert Reservation.objects.get(rater=first, study_clip=ahead).ahead
    assert _over_served(queue_world.study, now) == []


@pytest.mark.parametrize("serving", [Study.Serving.FIXED, Study.Serving.SETTLED])
def test_raters_holding_ahead_never_overfill_a_clip(db, serving):
    world = build_world(clips_per_class=(2, 2), raters=5)
    world.study = make_study(world, raters_per_clip=2, decoys_per_clip=1, serving=serving, min_raters=2)
    now = timezone.now()
    for rater in world.raters:
        current = services.clip_next_for_rater(study=world.study, rater=rater, now=now)
        if current is not None:
            _ahead(world, rater, current, now=now)

    held = Reservation.objects.filter(study_clip__study=world.study).count()
    assert held == 4 * 2, "every place of the four clips is taken, by currents and clips held ahead"
    assert _over_served(world.study, now) == []


def test_asking_ahead_again_returns_the_same_clip(queue_world):
    rater = queue_world.raters[0]
    current = services.clip_next_for_rater(study=queue_world.study, rater=rater)

    first = _ahead(queue_world, rater, current)
    again = _ahead(queue_world, rater, current)

    assert first.pk == again.pk
    assert Reservation.objects.filter(rater=rater).count() == 2, "never more than one ahead"


def test_two_clips_held_ahead_at_once_are_cut_back_to_one(queue_world):
    """Two asks of the rater's racing each other may both reserve: the next ask keeps one."""
    rater = queue_world.raters[0]
    current = services.clip_next_for_rater(study=queue_world.study, rater=rater)
    spare = StudyClip.objects.filter(study=queue_world.study).exclude(pk=current.pk).order_by("pk")
    now = timezone.now()
    for offset, study_clip in enumerate(spare):
        Reservation.objects.create(
            study_clip=study_clip, rater=rater, expires_at=now + timedelta(minutes=10), ahead=True
        )
        Reservation.objects.filter(study_clip=study_clip, rater=rater).update(
            created_at=now + timedelta(seconds=offset)
        )

    kept = _ahead(queue_world, rater, current)

    assert kept.pk == spare[0].pk, "the oldest is kept"
    assert set(Reservation.objects.filter(rater=rater).values_list("study_clip_id", flat=True)) == {
        current.pk,
        kept.pk,
    }


def test_moving_on_serves_the_clip_held_ahead_and_starts_its_clock_once(queue_world):
    rater = queue_world.raters[0]
    study = queue_world.study
    start = timezone.now() - timedelta(seconds=500)
    current = services.clip_next_for_rater(study=study, rater=rater, now=start)
    ahead = _ahead(queue_world, rater, current, now=start)
    services.rating_submit(study_clip=current, rater=rater, answers=all_present(current))

    later = start + timedelta(seconds=450)
    served = services.clip_next_for_rater(study=study, rater=rater, now=later)
    promoted = Reservation.objects.get(rater=rater, study_clip=ahead)
    services.clip_next_for_rater(study=study, rater=rater, now=later + timedelta(seconds=60))

    assert served.pk == ahead.pk
    assert not promoted.ahead
    assert promoted.expires_at == later + timedelta(seconds=study.reservation_timeout_seconds)
    assert promoted.created_at < later, "the labels to answer stay those of the page preloaded"
    assert Reservation.objects.get(pk=promoted.pk).expires_at == promoted.expires_at, "once only"


def test_asking_ahead_of_the_clip_held_ahead_promotes_it(queue_world):
    """The page asks for the next clip ahead as soon as it switches to the preloaded one."""
    rater = queue_world.raters[0]
    start = timezone.now() - timedelta(seconds=300)
    current = services.clip_next_for_rater(study=queue_world.study, rater=rater, now=start)
    ahead = _ahead(queue_world, rater, current, now=start)
    services.rating_submit(study_clip=current, rater=rater, answers=all_present(current))

    now = timezone.now()
    after = _ahead(queue_world, rater, ahead, now=now)

    assert after is not None and after.pk not in {current.pk, ahead.pk}
    moved_on = Reservation.objects.get(rater=rater, study_clip=ahead)
    assert not moved_on.ahead and moved_on.expires_at > now + timedelta(seconds=590)


def test_an_unused_clip_held_ahead_goes_back_on_release(queue_world):
    first, second, _ = queue_world.raters
    current = services.clip_next_for_rater(study=queue_world.study, rater=first)
    ahead = _ahead(queue_world, first, current)
    services.clip_next_for_rater(study=queue_world.study, rater=second)  # the third clip

    response = client_for(first).post(f"/api/study-clips/{ahead.pk}/release/")
    served = services.clip_next_for_rater(study=queue_world.study, rater=make_rater_in(queue_world))

    assert response.status_code == 204
    assert served is not None and served.pk == ahead.pk


def make_rater_in(world):
    rater = make_rater()
    world.study.raters.add(rater)
    return rater


def test_a_clip_held_ahead_lapses_like_any_reservation(queue_world):
    first, second, _ = queue_world.raters
    long_ago = timezone.now() - timedelta(seconds=queue_world.study.reservation_timeout_seconds + 60)
    current = services.clip_next_for_rater(study=queue_world.study, rater=first, now=long_ago)
    ahead = _ahead(queue_world, first, current, now=long_ago)

    served = {services.clip_next_for_rater(study=queue_world.study, rater=second).pk}
    with pytest.raises(ConflictError, match=LAPSED):
        _ahead(queue_world, first, current)

    assert served & {current.pk, ahead.pk}, "the lapsed clips are served to others"


def test_ahead_needs_the_current_clip_held_and_an_open_study(queue_world):
    first, second, _ = queue_world.raters
    current = services.clip_next_for_rater(study=queue_world.study, rater=first)
    outsider = make_rater()

    with pytest.raises(ConflictError, match=LAPSED):
        _ahead(queue_world, second, current)  # held by someone else
    with pytest.raises(NotFoundError):
        _ahead(queue_world, outsider, current)
    services.study_close(study=queue_world.study)
    queue_world.study.refresh_from_db()
    with pytest.raises(ConflictError, match="closed"):
        _ahead(queue_world, first, current)
    assert not Reservation.objects.exists(), "closing gave every reservation back, ahead ones too"


def test_the_next_api_answers_the_clip_held_ahead(queue_world):
    rater = queue_world.raters[0]
    client = client_for(rater)
    url = f"/api/studies/{queue_world.study.pk}/next/"
    current = client.post(url).json()

    ahead = client.post(url, {"ahead_of": current["study_clip_id"]}, format="json")
    plain = client.post(url).json()

    assert ahead.status_code == 200
    assert ahead.json()["study_clip_id"] != current["study_clip_id"]
    assert set(ahead.json()) == set(current), "the same payload as next"
    assert plain["study_clip_id"] == current["study_clip_id"], "next still answers the clip being rated"


@pytest.mark.parametrize("ahead_of", ["x", 0, -3, 2**63, None, [1]])
def test_the_next_api_refuses_a_bad_ahead_of_with_400(queue_world, ahead_of):
    client = client_for(queue_world.raters[0])

    response = client.post(f"/api/studies/{queue_world.study.pk}/next/", {"ahead_of": ahead_of}, format="json")

    assert response.status_code == 400
    assert "ahead_of" in response.json()["extra"]["fields"]
    assert not Reservation.objects.exists()


def test_the_next_api_answers_409_ahead_of_a_clip_not_held(queue_world):
    client = client_for(queue_world.raters[0])
    not_held = StudyClip.objects.filter(study=queue_world.study).first()

    response = client.post(f"/api/studies/{queue_world.study.pk}/next/", {"ahead_of": not_held.pk}, format="json")

    assert response.status_code == 409
    assert response.json()["message"] == LAPSED
