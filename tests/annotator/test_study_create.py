"""annotator.services.study_create: which clips a study samples, the labels each shows,
the settings it refuses; and study_add_raters."""

from collections import Counter

import pytest
from django.db.models import ProtectedError

from annotator import services
from annotator.models import Clip, ClipLabel, Study, StudyClip, StudyClipLabel
from config.errors import ApplicationError
from tests.builders import build_world, make_study
from tests.factories import ClipFactory, ProposalFactory, ProposalSetFactory, UserFactory


def shown(study: Study) -> list[tuple[int, int, bool, int]]:
    return list(
        StudyClipLabel.objects.filter(study_clip__study=study)
        .order_by("study_clip__position", "position")
        .values_list("study_clip__clip_id", "category_id", "is_decoy", "position")
    )


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


def test_a_category_a_study_shows_cannot_be_deleted(study_world):
    # The shown label's category has no database constraint (the bulk write of a big study);
    # Django's PROTECT is what keeps the label from pointing at nothing.
    shown_label = StudyClipLabel.objects.filter(study_clip__study=study_world.study).first()

    with pytest.raises(ProtectedError):
        shown_label.category.delete()
    with pytest.raises(ProtectedError):
        shown_label.category.taxonomy.delete()

    assert StudyClipLabel.objects.filter(pk=shown_label.pk, category_id=shown_label.category_id).exists()
