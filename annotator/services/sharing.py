"""Who owns a dataset and whom it is shared with. Who may then use it is
`selectors.datasets_for_researcher`; these only write the owner and the shared researchers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotator import roles
from annotator.models import Dataset
from config.errors import ConflictError

logger = logging.getLogger(__name__)

User = AbstractBaseUser


def dataset_owner_set(*, dataset: Dataset, owner: User, replace: bool = False) -> Dataset:
    """Make `owner` (a researcher) the owner of `dataset`. A dataset another researcher owns
    keeps its owner (ConflictError) unless `replace`: an import names who owns what it
    creates, it does not take over someone else's dataset."""
    roles.require_researchers([owner])
    with transaction.atomic():
        current = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if current.owner_id not in (None, owner.pk) and not replace:
            raise ConflictError(
                f"Dataset {dataset.name} belongs to {current.owner}.", extra={"owner": str(current.owner)}
            )
        if current.owner_id != owner.pk:
            Dataset.objects.filter(pk=dataset.pk).update(owner=owner)
            logger.info("dataset %s: owner %s (was %s)", dataset.name, owner, current.owner or "none")
    dataset.owner = owner
    return dataset


def dataset_claim(*, name: str, owner: User) -> Dataset | None:
    """`dataset_owner_set` on the dataset named `name`; None when there is none yet. Import
    commands call it before importing (refusing someone else's dataset early) and after
    (owning the dataset the import created)."""
    dataset = Dataset.objects.filter(name=name).first()
    return None if dataset is None else dataset_owner_set(dataset=dataset, owner=owner)


def dataset_share(*, dataset: Dataset, researchers: Sequence[User]) -> Dataset:
    """Let `researchers` use `dataset` (list it, browse its clips, build studies and runs on
    it). Its owner needs no share; researchers it is shared with already stay."""
    roles.require_researchers(researchers)
    added = [user for user in researchers if user.pk != dataset.owner_id]
    dataset.shared_with.add(*added)
    logger.info("dataset %s shared with %s", dataset.name, ", ".join(sorted(map(str, added))) or "nobody new")
    return dataset
