"""The catalogue as researchers browse it: datasets, clips and proposal sets.

Who may use which dataset is written here once (`datasets_for_researcher`): its owner, the
researchers it is shared with, and every admin; a dataset without an owner is for admins
only. Clips and proposal sets follow their dataset. Pages, APIs, the study service and the
other apps (modelzoo, evaluation) all read datasets through these functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

from annotator import catalog, roles
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Clip, Dataset, ProposalSet
from config.errors import ApplicationError, NotFoundError


def datasets_for_researcher(*, user) -> QuerySet[Dataset]:
    """The datasets a user may use: those they own or that are shared with them; every
    dataset for an admin (the only ones who see a dataset with no owner); none for anyone
    who is not a researcher."""
    datasets = Dataset.objects.select_related("taxonomy", "owner").order_by("name")
    if roles.user_is_admin(user):
        return datasets
    if not roles.user_is_researcher(user):
        return datasets.none()
    # EXISTS rather than a join on shared_with: one row per dataset, whoever it is shared with.
    shared = Exists(Dataset.shared_with.through.objects.filter(dataset=OuterRef("pk"), user=user))
    return datasets.filter(Q(owner=user) | shared)


def dataset_for_researcher(*, user, dataset_id: int) -> Dataset:
    """A dataset the user may use, with its clip count; any other reads as not found."""
    dataset = dataset_list(user=user).filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFoundError(f"Dataset {dataset_id} does not exist or is not yours.")
    return dataset


def dataset_for_owner(*, user, dataset_id: int) -> Dataset:
    """A dataset the user owns (any for an admin): who may share it. A dataset shared with
    the user reads as not found here too."""
    datasets = datasets_for_researcher(user=user)
    if not roles.user_is_admin(user):
        datasets = datasets.filter(owner=user)
    dataset = datasets.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFoundError(f"Dataset {dataset_id} does not exist or is not yours.")
    return dataset


def dataset_list(*, user) -> QuerySet[Dataset]:
    """The datasets the user may use, by name, each with its clip count."""
    return datasets_for_researcher(user=user).annotate(clip_count=Count("clips"))


def researcher_get(*, username: str):
    """The researcher (or admin) named `username`: who may own a dataset or be given one."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFoundError(f"No user named {username!r}.")
    if not roles.user_is_researcher(user):
        raise ApplicationError(f"{username} is not a researcher.")
    return user


def dataset_summary(*, dataset: Dataset) -> dict:
    """Clip counts per split, per media status and per media flag (every flag, 0 included)."""
    by_split = dict(dataset.clips.values_list("split").annotate(n=Count("pk")).order_by("split"))
    by_status = dict(dataset.clips.values_list("media_status").annotate(n=Count("pk")).order_by("media_status"))
    by_flag = media_flag_counts(clips=dataset.clips.all())
    return {"clips_by_split": by_split, "clips_by_media_status": by_status, "clips_by_media_flag": by_flag}


def media_flag_counts(*, clips: QuerySet[Clip]) -> dict[str, int]:
    """How many of `clips` carry each media flag, in one query."""
    counts = clips.order_by().aggregate(**{flag: Count("pk", filter=_has_media_flag(flag)) for flag in MEDIA_FLAGS})
    return {flag: counts[flag] for flag in MEDIA_FLAGS}


def clips_without_media_flags(*, clips: QuerySet[Clip], flags: Collection[str]) -> QuerySet[Clip]:
    """`clips` less those carrying any of `flags`."""
    for flag in sorted(flags):
        clips = clips.exclude(_has_media_flag(flag))
    return clips


def _has_media_flag(flag: str) -> Q:
    """Matched on the list's JSON text (`"short"` in `["no_audio", "short"]`, exact as flag
    codes are plain words): SQLite, the demo's database, has no JSON containment lookup."""
    return Q(Contains(Cast("media_flags", output_field=TextField()), f'"{flag}"'))


def clips_for_researcher(*, user) -> QuerySet[Clip]:
    """The clips of the datasets the user may use."""
    clips = Clip.objects.select_related("dataset")
    if roles.user_is_admin(user):
        return clips
    return clips.filter(dataset__in=datasets_for_researcher(user=user).values("pk"))


_ASCII_DIGITS = re.compile(r"[0-9]+")


def label_is_category_id(label: str) -> bool:
    """Whether a label filter names a category by id: ASCII digits only. str.isdigit() would
    take "²" too, which int() refuses; such a label is a name like any other text."""
    return _ASCII_DIGITS.fullmatch(label) is not None


def clip_list(
    *,
    user,
    dataset_id: int | None = None,
    split: str = "",
    media_status: str = "",
    media_flag: str = "",
    label: str = "",
) -> QuerySet[Clip]:
    """The user's clips (`clips_for_researcher`) filtered by dataset, split, media status,
    media flag and original label (a category id or an exact, case-insensitive category name)."""
    clips = clips_for_researcher(user=user).order_by("dataset_id", "clip_id")
    if dataset_id is not None:
        clips = clips.filter(dataset_id=dataset_id)
    if split:
        clips = clips.filter(split=split)
    if media_status:
        clips = clips.filter(media_status=media_status)
    if media_flag:
        clips = clips.filter(_has_media_flag(media_flag))
    if label:
        by_label = Q(category_id=int(label)) if label_is_category_id(label) else Q(category__name__iexact=label)
        clips = clips.filter(Exists(Clip.labels.through.objects.filter(by_label, clip=OuterRef("pk"))))
    return clips


def clip_for_researcher(*, user, clip_id: int) -> Clip:
    clip = clips_for_researcher(user=user).filter(pk=clip_id).first()
    if clip is None:
        raise NotFoundError(f"Clip {clip_id} does not exist or is not yours.")
    return clip


def clip_label_names(*, clip: Clip) -> list[str]:
    """The clip's original label names in taxonomy order."""
    return catalog.clip_label_names(clips=[clip])[clip.pk]


def proposal_sets_for_researcher(*, user) -> QuerySet[ProposalSet]:
    """The proposal sets of the datasets the user may use."""
    sets = ProposalSet.objects.select_related("dataset")
    if roles.user_is_admin(user):
        return sets
    return sets.filter(dataset__in=datasets_for_researcher(user=user).values("pk"))


def proposal_set_list(*, user, dataset_id: int | None = None) -> QuerySet[ProposalSet]:
    sets = proposal_sets_for_researcher(user=user).annotate(proposal_count=Count("proposals"))
    sets = sets.order_by("-created_at", "-pk")
    return sets.filter(dataset_id=dataset_id) if dataset_id is not None else sets
