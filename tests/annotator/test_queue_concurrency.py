"""The rating queue under real concurrency on PostgreSQL: raters in threads, each thread on
its own database connection, asking for clips and submitting as fast as they can."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotator import services
from annotator.models import Judgment, Rating, Reservation, Study, StudyClip
from config.errors import ConflictError
from tests.builders import build_world, make_study

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RATERS = 32
OVERLAP = 3


def max_load(study_id: int) -> int:
    """Highest completed + live reservations of any clip, read in one statement (one snapshot)."""
    now = timezone.now()
    live = (
        Reservation.objects.filter(study_clip=OuterRef("pk"), expires_at__gt=now)
        .order_by()
        .values("study_clip")
        .annotate(n=Count("pk"))
        .values("n")
    )
    loads = (
        StudyClip.objects.filter(study_id=study_id)
        .annotate(completed=Count("ratings", filter=Q(ratings__skipped=False)), reserved=Coalesce(Subquery(live), 0))
        .values_list("completed", "reserved")
    )
    return max((completed + reserved for completed, reserved in loads), default=0)


class Monitor(threading.Thread):
    """Samples the highest clip load until stopped."""

    def __init__(self, study_id: int) -> None:
        super().__init__(daemon=True)
        self.study_id = study_id
        self.stop = threading.Event()
        self.highest = 0
        self.samples = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.highest = max(self.highest, max_load(self.study_id))
                self.samples += 1
        finally:
            connection.close()


def run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(target):
        def body():
            try:
                close_old_connections()
                barrier.wait()
                target()
            except BaseException as exc:  # reported by the test
                errors.append(exc)
            finally:
                connection.close()

        return body

    threads = [threading.Thread(target=wrap(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a rater thread hung"
    return errors


def test_32_raters_in_parallel_never_over_serve_a_clip(postgres_db):
    world = build_world(clips_per_class=(8, 8, 8), raters=RATERS)
    study = make_study(world, raters_per_clip=OVERLAP, decoys_per_clip=1)
    shown = {
        study_clip.pk: list(study_clip.shown_labels.values_list("category_id", flat=True))
        for study_clip in study.study_clips.all()
    }
    served: list[tuple[int, int]] = []
    repeats: list[tuple[int, int]] = []

    def rater_loop(rater):
        def loop():
            own_study = Study.objects.get(pk=study.pk)
            while (study_clip := services.clip_next_for_rater(study=own_study, rater=rater)) is not None:
                served.append((rater.pk, study_clip.pk))
                answers = dict.fromkeys(shown[study_clip.pk], "present")
                first = services.rating_submit(study_clip=study_clip, rater=rater, answers=answers, seconds_spent=1)
                again = services.rating_submit(study_clip=study_clip, rater=rater, answers=answers, seconds_spent=2)
                repeats.append((first.pk, again.pk))

        return loop

    monitor = Monitor(study.pk)
    monitor.start()
    errors = run_threads([rater_loop(rater) for rater in world.raters])
    monitor.stop.set()
    monitor.join(timeout=60)

    assert errors == []
    assert monitor.samples > 0 and monitor.highest <= OVERLAP
    assert max(Counter(served).values()) == 1, "a rater was served a clip twice"
    assert all(first == again for first, again in repeats)
    completed = Counter(Rating.objects.filter(skipped=False).values_list("study_clip_id", flat=True))
    assert completed == dict.fromkeys(shown, OVERLAP)
    assert Rating.objects.count() == len(served) == len(shown) * OVERLAP
    assert Judgment.objects.count() == sum(len(labels) * OVERLAP for labels in shown.values())
    assert not Reservation.objects.exists()
    assert dict(StudyClip.objects.values_list("pk", "completed_count")) == completed


def test_completed_count_matches_the_ratings_after_a_concurrent_run_with_skips(postgres_db):
    """Raters in parallel, some skipping: the stored count of every clip ends equal to its
    real completed ratings, and every clip is completed exactly to its overlap."""
    world = build_world(clips_per_class=(6, 6), raters=12)
    study = make_study(world, raters_per_clip=OVERLAP)
    shown = {
        study_clip.pk: list(study_clip.shown_labels.values_list("category_id", flat=True))
        for study_clip in study.study_clips.all()
    }

    needed = len(shown) * OVERLAP

    def rater_loop(rater, skip_every):
        def loop():
            own_study = Study.objects.get(pk=study.pk)
            turn = 0
            deadline = time.monotonic() + 120
            while True:
                study_clip = services.clip_next_for_rater(study=own_study, rater=rater)
                if study_clip is None:
                    # A full queue now may free up when another rater skips a reserved clip,
                    # so a rater only leaves once every clip is complete.
                    if Rating.objects.filter(study_clip__study=study, skipped=False).count() >= needed:
                        return
                    assert time.monotonic() < deadline, "the study never completed"
                    time.sleep(0.01)
                    continue
                turn += 1
                skipped = skip_every and turn % skip_every == 0
                answers = {} if skipped else dict.fromkeys(shown[study_clip.pk], "absent")
                services.rating_submit(study_clip=study_clip, rater=rater, answers=answers, skipped=skipped)

        return loop

    errors = run_threads([rater_loop(rater, index % 3) for index, rater in enumerate(world.raters)])

    assert errors == []
    completed = Counter(Rating.objects.filter(skipped=False).values_list("study_clip_id", flat=True))
    assert completed == dict.fromkeys(shown, OVERLAP)
    assert Rating.objects.filter(skipped=True).exists()
    assert dict(StudyClip.objects.values_list("pk", "completed_count")) == completed


def test_many_concurrent_submits_of_one_rating_store_it_once(postgres_db):
    world = build_world(clips_per_class=(1,), raters=1)
    study = make_study(world, raters_per_clip=1)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    answers = dict.fromkeys(study_clip.shown_labels.values_list("category_id", flat=True), "absent")
    ratings: list[int] = []

    def submit():
        ratings.append(services.rating_submit(study_clip=study_clip, rater=rater, answers=answers).pk)

    errors = run_threads([submit] * 8)

    assert errors == []
    assert len(ratings) == 8 and len(set(ratings)) == 1
    assert Rating.objects.count() == 1
    assert Judgment.objects.count() == len(answers)


def test_expired_reservations_under_concurrency_never_over_serve(postgres_db):
    """Late raters whose reservations lapsed submit while live raters take their clips over:
    every late submit is refused (a lapsed reservation grants nothing), and no clip exceeds
    its overlap."""
    overlap = 2
    world = build_world(clips_per_class=(5, 5), raters=22)
    late_raters, live_raters = world.raters[:10], world.raters[10:]
    study = make_study(world, raters_per_clip=overlap, reservation_timeout_seconds=60)
    shown = {
        study_clip.pk: list(study_clip.shown_labels.values_list("category_id", flat=True))
        for study_clip in study.study_clips.all()
    }
    long_ago = timezone.now() - timedelta(minutes=5)
    lapsed = {rater.pk: services.clip_next_for_rater(study=study, rater=rater, now=long_ago) for rater in late_raters}
    assert all(study_clip is not None for study_clip in lapsed.values())
    outcomes: list[str] = []

    def late_submit(rater):
        def submit():
            study_clip = lapsed[rater.pk]
            try:
                services.rating_submit(
                    study_clip=study_clip, rater=rater, answers=dict.fromkeys(shown[study_clip.pk], "present")
                )
                outcomes.append("stored")
            except ConflictError:
                outcomes.append("refused")

        return submit

    def live_loop(rater):
        def loop():
            own_study = Study.objects.get(pk=study.pk)
            while (study_clip := services.clip_next_for_rater(study=own_study, rater=rater)) is not None:
                services.rating_submit(
                    study_clip=study_clip, rater=rater, answers=dict.fromkeys(shown[study_clip.pk], "unsure")
                )

        return loop

    monitor = Monitor(study.pk)
    monitor.start()
    errors = run_threads([late_submit(rater) for rater in late_raters] + [live_loop(rater) for rater in live_raters])
    monitor.stop.set()
    monitor.join(timeout=60)

    assert errors == []
    assert outcomes == ["refused"] * len(late_raters)
    assert monitor.highest <= overlap
    completed = Counter(Rating.objects.filter(skipped=False).values_list("study_clip_id", flat=True))
    assert completed == dict.fromkeys(shown, overlap)
    stored_late = Rating.objects.filter(rater__in=late_raters).count()
    assert stored_late == outcomes.count("stored")
    assert not Reservation.objects.filter(rater__in=live_raters).exists()
    assert dict(StudyClip.objects.values_list("pk", "completed_count")) == completed
