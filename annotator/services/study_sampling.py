"""Which clips a new study takes (seeded, optionally class-stratified), its qualification set,
and the labels each clip shows: its proposals and seeded decoys, in a shuffled order."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotator.importers.bulk import rows_insert
from annotator.models import (
    Category,
    Clip,
    ClipLabel,
    Dataset,
    GoldLabel,
    Proposal,
    ProposalSet,
    Study,
    StudyClip,
    StudyClipLabel,
)
from annotator.selectors.catalog import clips_without_media_flags
from config.errors import ApplicationError

DECOY, PROPOSAL = StudyClipLabel.Source.DECOY.value, StudyClipLabel.Source.PROPOSAL.value


def qualification_sample(
    *, eligible_ids: Sequence[int], taken: set[int], with_gold: set[int], count: int, seed: int
) -> list[int]:
    """The qualification set: `count` clips with gold labels outside the study, seeded on
    a generator of its own (a study's sample and decoys stay those its seed always gave)."""
    if not count:
        return []
    pool = [pk for pk in eligible_ids if pk in with_gold and pk not in taken]
    if count > len(pool):
        raise ApplicationError(
            f"qualification_clips is {count} but only {len(pool)} clips with gold labels remain outside the study.",
            extra={"qualification_available": len(pool)},
        )
    return random.Random(f"qualification:{seed}").sample(pool, count)


def clips_with_gold(*, dataset: Dataset) -> set[int]:
    return set(GoldLabel.objects.filter(clip__dataset=dataset).values_list("clip_id", flat=True).distinct())


def clips_eligible(*, dataset: Dataset, proposal_set: ProposalSet, split: str, exclude_media_flags: Sequence[str]):
    clips = Clip.objects.filter(dataset=dataset, media_status=Clip.MediaStatus.OK).filter(
        Exists(Proposal.objects.filter(proposal_set=proposal_set, clip=OuterRef("pk")))
    )
    clips = clips_without_media_flags(clips=clips, flags=exclude_media_flags)
    return clips.filter(split=split) if split else clips


def original_labels(*, clips) -> dict[int, list[int]]:
    labels: dict[int, list[int]] = defaultdict(list)
    rows = ClipLabel.objects.filter(clip__in=clips.values("pk")).order_by("clip_id", "category_id")
    for clip_pk, category_pk in rows.values_list("clip_id", "category_id"):
        labels[clip_pk].append(category_pk)
    return labels


def stratified_sample(
    clip_ids: list[int], labels_by_clip: Mapping[int, list[int]], size: int, rng: random.Random
) -> list[int]:
    """Round-robin over the original classes (clips without labels form one stratum), each
    stratum shuffled with the seeded RNG, so every class is represented as evenly as the
    data allows. A multi-label clip sits in each of its classes' strata and is taken once."""
    strata: dict[int | None, list[int]] = defaultdict(list)
    for clip_pk in clip_ids:
        for category_pk in labels_by_clip.get(clip_pk) or [None]:
            strata[category_pk].append(clip_pk)
    keys = sorted(strata, key=lambda key: (key is None, key or 0))
    rng.shuffle(keys)
    for key in keys:
        rng.shuffle(strata[key])
    cursors = dict.fromkeys(keys, 0)
    chosen: list[int] = []
    taken: set[int] = set()
    active = keys
    while active and len(chosen) < size:
        still_active = []
        for key in active:
            members, cursor = strata[key], cursors[key]
            while cursor < len(members) and members[cursor] in taken:
                cursor += 1
            if cursor < len(members):
                chosen.append(members[cursor])
                taken.add(members[cursor])
                cursor += 1
            cursors[key] = cursor
            if cursor < len(members):
                still_active.append(key)
            if len(chosen) == size:
                break
        active = still_active
    return chosen


def shown_labels_create(*, study: Study, labels_by_clip: Mapping[int, list[int]], rng: random.Random) -> None:
    study_clips = list(study.study_clips.order_by("position").values_list("pk", "clip_id"))
    proposed: dict[int, set[int]] = defaultdict(set)
    proposals = Proposal.objects.filter(
        proposal_set_id=study.proposal_set_id, clip__in=StudyClip.objects.filter(study=study).values("clip")
    )
    for clip_pk, category_pk in proposals.values_list("clip_id", "category_id"):
        proposed[clip_pk].add(category_pk)
    taxonomy = sorted(Category.objects.filter(taxonomy_id=study.dataset.taxonomy_id).values_list("pk", flat=True))
    known = set(taxonomy)
    now = timezone.now()
    rows: list[tuple] = []
    for study_clip_pk, clip_pk in study_clips:
        shown = sorted(proposed[clip_pk])
        excluded = proposed[clip_pk] | set(labels_by_clip.get(clip_pk, ()))
        pool = taxonomy.copy()  # the taxonomy in order, less a few: copy and remove beats a filter
        for category_pk in excluded & known:
            pool.remove(category_pk)
        decoys = rng.sample(pool, min(study.decoys_per_clip, len(pool)))
        labels = [(category_pk, False) for category_pk in shown] + [(category_pk, True) for category_pk in decoys]
        rng.shuffle(labels)
        rows.extend(
            (study_clip_pk, category_pk, is_decoy, DECOY if is_decoy else PROPOSAL, position, now, "")
            for position, (category_pk, is_decoy) in enumerate(labels)
        )
    rows_insert(
        model=StudyClipLabel,
        fields=("study_clip", "category", "is_decoy", "source", "position", "created_at", "hidden_reason"),
        rows=rows,
    )
