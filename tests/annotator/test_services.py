"""annotator.services: study sampling, the rating queue and rating submission."""

import importlib
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotator import services
from annotator.models import Clip, ClipLabel, Judgment, Rating, Reservation, Study, StudyClip, StudyClipLabel
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories import (
    CategoryFactory,
    ClipFactory,
    DatasetFactory,
    ProposalFactory,
    ProposalSetFactory,
    TaxonomyFactory,
    UserFactory,
    make_rater,
    make_researcher,
)

CATEGORY_COUNT = 10


def build_world(*, clips_per_class=(4, 4, 4), raters=4, split="test") -> SimpleNamespace:
    """A taxonomy of 10 classes; for class k, clips labelled k with proposals k and k+5."""
    taxonomy = TaxonomyFactory()
    categories = [CategoryFactory(taxonomy=taxonomy, name=f"cat{i}", index=i) for i in range(CATEGORY_COUNT)]
    dataset = DatasetFactory(taxonomy=taxonomy)
    proposal_set = ProposalSetFactory(dataset=dataset)
    clips = []
    for label, count in enumerate(clips_per_class):
        for _ in range(count):
            clip = ClipFactory(dataset=dataset, media_status=Clip.MediaStatus.OK, split=split)
            ClipLabel.objects.create(clip=clip, category=categories[label])
            for proposed in (label, label + 5):
                ProposalFactory(proposal_set=proposal_set, clip=clip, category=categories[proposed])
            clips.append(clip)
    return SimpleNamespace(
        taxonomy=taxonomy,
        categories=categories,
        dataset=dataset,
        proposal_set=proposal_set,
        clips=clips,
        owner=make_researcher(),
        raters=[make_rater() for _ in range(raters)],
    )


def make_study(world, **overrides) -> Study:
    options = {
        "name": "study",
        "dataset": world.dataset,
        "proposal_set": world.proposal_set,
        "owner": world.owner,
        "raters": world.raters,
        "sample_size": len(world.clips),
        "seed": 7,
        "raters_per_clip": 3,
        "decoys_per_clip": 1,
    }
    return services.study_create(**(options | overrides))


def all_present(study_clip: StudyClip) -> dict[int, str]:
    return {pk: "present" for pk in study_clip.shown_labels.values_list("category_id", flat=True)}


def rate(study_clip: StudyClip, rater, **kwargs) -> Rating:
    return services.rating_submit(study_clip=study_clip, rater=rater, answers=all_present(study_clip), **kwargs)


def shown(study: Study) -> list[tuple[int, int, bool, int]]:
    return list(
        StudyClipLabel.objects.filter(study_clip__study=study)
        .order_by("study_clip__position", "position")
        .values_list("study_clip__clip_id", "category_id", "is_decoy", "position")
    )


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Factories set a password per user; PBKDF2 would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return build_world()


# ---------------------------------------------------------------- study_create: sampling


def test_study_create_samples_only_usable_clips_with_a_proposal(world):
    no_media = ClipFactory(dataset=world.dataset, media_status=Clip.MediaStatus.MISSING)
    ProposalFactory(proposal_set=world.proposal_set, clip=no_media, category=world.categories[0])
    ClipFactory(dataset=world.dataset, media_status=Clip.MediaStatus.OK)  # no proposal
    other_split = ClipFactory(dataset=world.dataset, media_status=Clip.MediaStatus.OK, split="train")
    ProposalFactory(proposal_set=world.proposal_set, clip=other_split, category=world.categories[0])

    study = make_study(world, sample_size=len(world.clips), split="test")

    sampled = set(study.study_clips.values_list("clip_id", flat=True))
    assert sampled == {clip.pk for clip in world.clips}


def test_study_create_is_deterministic_for_a_seed(world):
    first = make_study(world, sample_size=6, seed=3)
    second = make_study(world, sample_size=6, seed=3)
    third = make_study(world, sample_size=6, seed=4)

    def layout(study):
        return list(study.study_clips.order_by("position").values_list("clip_id", "position", "is_gold"))

    assert layout(first) == layout(second)
    assert shown(first) == shown(second)
    assert (layout(first), shown(first)) != (layout(third), shown(third))


def test_study_create_stratifies_over_original_labels(db):
    world = build_world(clips_per_class=(20, 3, 3))

    study = make_study(world, sample_size=9, stratified=True)

    labels = Counter(ClipLabel.objects.filter(clip__study_clips__study=study).values_list("category__name", flat=True))
    assert labels == {"cat0": 3, "cat1": 3, "cat2": 3}


def test_study_create_takes_each_class_once_before_any_twice(db):
    world = build_world(clips_per_class=(5, 5, 5, 5))

    for seed in range(5):
        study = make_study(world, sample_size=6, seed=seed)
        labels = Counter(ClipLabel.objects.filter(clip__study_clips__study=study).values_list("category_id", flat=True))
        assert len(labels) == 4 and max(labels.values()) == 2, labels


def test_study_create_unstratified_takes_a_plain_seeded_sample(db):
    world = build_world(clips_per_class=(20, 3, 3))

    study = make_study(world, sample_size=9, stratified=False, seed=1)

    assert study.study_clips.count() == 9
    assert study.study_clips.filter(is_gold=False).count() == 9


def test_study_create_shows_proposals_plus_decoys_never_proposed_or_original(world):
    study = make_study(world, decoys_per_clip=3)

    for study_clip in study.study_clips.prefetch_related("shown_labels"):
        clip = study_clip.clip
        proposed = set(clip.proposals.values_list("category_id", flat=True))
        original = set(clip.clip_labels.values_list("category_id", flat=True))
        labels = list(study_clip.shown_labels.all())
        decoys = {label.category_id for label in labels if label.is_decoy}
        assert {label.category_id for label in labels if not label.is_decoy} == proposed
        assert len(decoys) == 3
        assert not decoys & (proposed | original)
        assert sorted(label.position for label in labels) == list(range(len(labels)))


def test_study_create_decoys_are_shuffled_among_proposals(db):
    world = build_world(clips_per_class=(10, 10))

    study = make_study(world, decoys_per_clip=1)

    decoy_positions = set(
        StudyClipLabel.objects.filter(study_clip__study=study, is_decoy=True).values_list("position", flat=True)
    )
    assert len(decoy_positions) > 1


def test_study_create_adds_gold_clips_at_the_gold_rate(db):
    world = build_world(clips_per_class=(6, 6, 6))
    unlabelled = ClipFactory(dataset=world.dataset, media_status=Clip.MediaStatus.OK)
    ProposalFactory(proposal_set=world.proposal_set, clip=unlabelled, category=world.categories[0])

    study = make_study(world, sample_size=10, gold_rate=0.3)

    gold = study.study_clips.filter(is_gold=True)
    assert gold.count() == 3
    assert study.study_clips.count() == 13
    assert not gold.filter(clip__clip_labels__isnull=True).exists()
    assert sorted(study.study_clips.values_list("position", flat=True)) == list(range(13))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sample_size": 99}, "only 12 clips are eligible"),
        ({"sample_size": 0}, "sample_size"),
        ({"raters_per_clip": 0}, "raters_per_clip"),
        ({"decoys_per_clip": -1}, "decoys_per_clip"),
        ({"gold_rate": 1.5}, "gold_rate"),
        ({"sample_size": 10, "gold_rate": 0.5}, "needs 5 extra clips"),
        ({"name": "  "}, "needs a name"),
        ({"split": "train"}, "split 'train'"),
        ({"reservation_timeout_seconds": 0}, "reservation_timeout_seconds"),
    ],
)
def test_study_create_rejects_bad_settings_and_saves_nothing(world, overrides, message):
    with pytest.raises(ApplicationError, match=message):
        make_study(world, **overrides)

    assert not Study.objects.exists()
    assert not StudyClip.objects.exists()


def test_study_create_rejects_a_proposal_set_of_another_dataset(world):
    other = ProposalSetFactory()

    with pytest.raises(ApplicationError, match="another dataset"):
        make_study(world, proposal_set=other)


def test_study_create_requires_a_researcher_owner_and_rater_pool(world):
    with pytest.raises(ApplicationError, match="not a researcher"):
        make_study(world, owner=world.raters[0])
    with pytest.raises(ApplicationError, match="Not raters"):
        make_study(world, raters=[*world.raters, UserFactory(username="plain")])
    assert not Study.objects.exists()


def test_study_add_raters_extends_the_pool(world):
    study = make_study(world, raters=world.raters[:1])

    services.study_add_raters(study=study, raters=world.raters)

    assert set(study.raters.all()) == set(world.raters)


# ---------------------------------------------------------------- the queue


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


def test_late_submit_is_accepted_while_the_clip_has_room(db):
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, raters_per_clip=2, reservation_timeout_seconds=60)
    late, other, _ = world.raters
    past = timezone.now() - timedelta(seconds=120)
    study_clip = services.clip_next_for_rater(study=study, rater=late, now=past)
    services.clip_next_for_rater(study=study, rater=other)

    rating = rate(study_clip, late)

    assert not rating.skipped
    assert not Reservation.objects.filter(rater=late).exists()


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


# ---------------------------------------------------------------- rating_submit


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

    with pytest.raises(ApplicationError, match="no reservation"):
        rate(study_clip, world.raters[0])

    assert not Rating.objects.exists()


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


# ---------------------------------------------------------------- completed_count


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


def test_queue_ranks_a_clip_others_hold_above_untouched_clips_beyond_the_first_candidates(db):
    """A clip far down the serving order that another rater holds is closer to completion
    than the untouched clips ahead of it, so it comes first."""
    world = build_world(clips_per_class=(services.CANDIDATES_PER_PASS + 4,), raters=2)
    study = make_study(world, raters_per_clip=2)
    holder, rater = world.raters
    last = study.study_clips.order_by("-position").first()
    Reservation.objects.create(study_clip=last, rater=holder, expires_at=timezone.now() + timedelta(minutes=5))

    assert services.clip_next_for_rater(study=study, rater=rater).pk == last.pk
