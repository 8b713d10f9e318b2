"""StudyClip.completed_count, the queue's stored count of completed ratings: kept in step by
the services, repaired when stale, backfilled by its migration."""

import importlib
from collections import Counter

from annotator import services
from annotator.models import Rating, Study, StudyClip
from tests.builders import build_world, make_study, rate


def completed(study: Study) -> dict[int, int]:
    ratings = Rating.objects.filter(study_clip__study=study, skipped=False)
    real = Counter(ratings.values_list("study_clip_id", flat=True))
    return {pk: real.get(pk, 0) for pk in study.study_clips.values_list("pk", flat=True)}


def stored_counts(study: Study) -> dict[int, int]:
    return dict(study.study_clips.values_list("pk", "completed_count"))


def test_completed_count_follows_completed_ratings_not_skips(db):
    world = build_world(clips_per_class=(2,), raters=3)
    study = make_study(world, raters_per_clip=3)
    first, second, third = world.raters

    rate(services.clip_next_for_rater(study=study, rater=first), first)
    rate(services.clip_next_for_rater(study=study, rater=second), second)
    skipped = services.clip_next_for_rater(study=study, rater=third)
    services.rating_submit(study_clip=skipped, rater=third, answers={}, skipped=True)
    rate(skipped, third)  # idempotent: changes nothing

    assert stored_counts(study) == completed(study)
    assert sorted(stored_counts(study).values()) == [0, 2]


def test_a_stale_low_completed_count_never_over_serves_and_is_repaired(db):
    world = build_world(clips_per_class=(2,), raters=3)
    study = make_study(world, raters_per_clip=1)
    first, second, _ = world.raters
    full = services.clip_next_for_rater(study=study, rater=first)
    rate(full, first)
    StudyClip.objects.filter(pk=full.pk).update(completed_count=0)  # e.g. a rating edited in the admin

    served = services.clip_next_for_rater(study=study, rater=second)

    assert served.pk != full.pk
    assert StudyClip.objects.get(pk=full.pk).completed_count == 1


def test_study_clip_counts_refresh_repairs_counts_after_ratings_changed_outside_the_queue(db):
    world = build_world(clips_per_class=(3,), raters=2)
    study = make_study(world, raters_per_clip=2)
    for rater in world.raters:
        rate(services.clip_next_for_rater(study=study, rater=rater), rater)
    Rating.objects.filter(rater=world.raters[0]).delete()  # what an admin could do

    changed = services.study_clip_counts_refresh(study=study)

    assert changed == 1
    assert stored_counts(study) == completed(study)
    assert services.study_clip_counts_refresh(study=study) == 0


def test_migration_backfills_completed_count_from_ratings(db):
    from django.apps import apps

    backfill = importlib.import_module("annotator.migrations.0002_studyclip_completed_count").completed_count_backfill
    world = build_world(clips_per_class=(2,), raters=2)
    study = make_study(world, raters_per_clip=2)
    for rater in world.raters:
        rate(services.clip_next_for_rater(study=study, rater=rater), rater)
    StudyClip.objects.update(completed_count=0)

    backfill(apps, None)

    assert stored_counts(study) == completed(study) and sum(completed(study).values()) == 2
