"""catalog selectors: clips of a dataset, label names, class lists and label search."""

import pytest

from annotator import catalog
from annotator.models import Clip, ClipLabel
from config.errors import NotFoundError
from tests.factories import CategoryFactory, ClipFactory, DatasetFactory, TaxonomyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy():
    taxonomy = TaxonomyFactory(name="sounds")
    names = ["playing guitar", "Guitar strumming", "dog barking", "bass guitar", "cat", "GUINEA pig squeaking"]
    for index, name in enumerate(names):
        CategoryFactory(taxonomy=taxonomy, name=name, index=index)
    return taxonomy


def category(taxonomy, name):
    return taxonomy.categories.get(name=name)


def test_dataset_clips_filters_by_split_and_usable_media(taxonomy):
    dataset = DatasetFactory(taxonomy=taxonomy)
    ClipFactory(dataset=dataset, clip_id="b", split="train", media_status=Clip.MediaStatus.OK)
    ClipFactory(dataset=dataset, clip_id="a", split="train", media_status=Clip.MediaStatus.UNUSABLE)
    ClipFactory(dataset=dataset, clip_id="c", split="test", media_status=Clip.MediaStatus.OK)
    ClipFactory(clip_id="other-dataset")

    def ids(**kwargs):
        return [clip.clip_id for clip in catalog.dataset_clips(dataset=dataset, **kwargs)]

    assert ids() == ["a", "b", "c"]
    assert ids(split="train") == ["a", "b"]
    assert ids(usable_only=True) == ["b", "c"]
    assert ids(split="train", usable_only=True) == ["b"]


def test_clip_label_names_follow_taxonomy_order_and_include_unlabelled_clips(taxonomy):
    dataset = DatasetFactory(taxonomy=taxonomy)
    labelled, bare = ClipFactory(dataset=dataset, clip_id="x"), ClipFactory(dataset=dataset, clip_id="y")
    for name in ["cat", "playing guitar", "dog barking"]:
        ClipLabel.objects.create(clip=labelled, category=category(taxonomy, name))

    from_queryset = catalog.clip_label_names(clips=catalog.dataset_clips(dataset=dataset))
    from_list = catalog.clip_label_names(clips=[bare, labelled])

    expected = {labelled.pk: ["playing guitar", "dog barking", "cat"], bare.pk: []}
    assert from_queryset == expected
    assert from_list == expected


def test_taxonomy_category_names_are_in_index_order(taxonomy):
    names = catalog.taxonomy_category_names(taxonomy=taxonomy)

    assert names[0] == "playing guitar"
    assert names[-1] == "GUINEA pig squeaking"
    assert len(names) == 6


def test_category_search_is_case_insensitive_with_prefix_matches_first(taxonomy):
    found = [c.name for c in catalog.category_search(taxonomy=taxonomy, query="GUI")]

    # names starting with the query, then a word starting with it; shorter names first
    assert found == ["Guitar strumming", "GUINEA pig squeaking", "bass guitar", "playing guitar"]
    assert [c.name for c in catalog.category_search(taxonomy=taxonomy, query="gui", limit=2)] == [
        "Guitar strumming",
        "GUINEA pig squeaking",
    ]
    assert [c.name for c in catalog.category_search(taxonomy=taxonomy, query="tar")] == [
        "bass guitar",
        "playing guitar",
        "Guitar strumming",
    ]
    assert [c.name for c in catalog.category_search(taxonomy=taxonomy, query="  DOG  bark ")] == ["dog barking"]
    assert catalog.category_search(taxonomy=taxonomy, query="   ") == []
    assert catalog.category_search(taxonomy=taxonomy, query="100%") == []


def test_getters_raise_not_found_for_unknown_names(taxonomy):
    dataset = DatasetFactory(name="known", taxonomy=taxonomy)

    assert catalog.dataset_get(name="known") == dataset
    assert catalog.taxonomy_get(name="sounds") == taxonomy
    with pytest.raises(NotFoundError):
        catalog.dataset_get(name="unknown")
    with pytest.raises(NotFoundError):
        catalog.taxonomy_get(name="unknown")
    with pytest.raises(NotFoundError):
        catalog.proposal_set_get(dataset=dataset, name="unknown")
