"""Read selectors over taxonomies, datasets, clips and proposal sets."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length

from annotator.models import Category, Clip, ClipLabel, Dataset, ProposalSet, Taxonomy
from config.errors import NotFoundError


def taxonomy_get(*, name: str) -> Taxonomy:
    taxonomy = Taxonomy.objects.filter(name=name).first()
    if taxonomy is None:
        raise NotFoundError(f"taxonomy {name!r} does not exist")
    return taxonomy


def dataset_get(*, name: str) -> Dataset:
    dataset = Dataset.objects.select_related("taxonomy").filter(name=name).first()
    if dataset is None:
        raise NotFoundError(f"dataset {name!r} does not exist")
    return dataset


def proposal_set_get(*, dataset: Dataset, name: str) -> ProposalSet:
    proposal_set = ProposalSet.objects.filter(dataset=dataset, name=name).first()
    if proposal_set is None:
        raise NotFoundError(f"dataset {dataset.name!r} has no proposal set {name!r}")
    return proposal_set


def dataset_clips(*, dataset: Dataset, split: str | None = None, usable_only: bool = False) -> QuerySet[Clip]:
    """The dataset's clips by clip id; `split` keeps one split, `usable_only` the clips whose
    media probed ok."""
    clips = Clip.objects.filter(dataset=dataset)
    if split is not None:
        clips = clips.filter(split=split)
    if usable_only:
        clips = clips.filter(media_status=Clip.MediaStatus.OK)
    return clips.order_by("clip_id")


def clip_label_names(*, clips: QuerySet[Clip] | Iterable[Clip]) -> dict[int, list[str]]:
    """clip pk -> its original label names in taxonomy order ([] for an unlabelled clip)."""
    if isinstance(clips, QuerySet):
        pks = list(clips.values_list("pk", flat=True))
        labels = ClipLabel.objects.filter(clip__in=clips.values("pk"))
    else:
        pks = [clip.pk for clip in clips]
        labels = ClipLabel.objects.filter(clip_id__in=pks)
    names: dict[int, list[str]] = {pk: [] for pk in pks}
    for clip_pk, name in labels.order_by("category__index").values_list("clip_id", "category__name"):
        names[clip_pk].append(name)
    return names


def taxonomy_category_names(*, taxonomy: Taxonomy) -> list[str]:
    """The class names in index order: position i is the model's output index i."""
    return list(Category.objects.filter(taxonomy=taxonomy).order_by("index").values_list("name", flat=True))


def category_search(*, taxonomy: Taxonomy, query: str, limit: int = 10) -> list[Category]:
    """Categories whose name contains `query` (case-insensitive): names starting with it
    first, then names with a word starting with it, then the rest; shorter names first
    within each. A blank query finds nothing."""
    query = " ".join(query.split())
    if not query or limit <= 0:
        return []
    word_start = Q(name__icontains=f" {query}") | Q(name__icontains=f"({query}") | Q(name__icontains=f"_{query}")
    rank = Case(
        When(name__istartswith=query, then=Value(0)),
        When(word_start, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(
        Category.objects.filter(taxonomy=taxonomy, name__icontains=query)
        .annotate(rank=rank)
        .order_by("rank", Length("name"), "name")[:limit]
    )
