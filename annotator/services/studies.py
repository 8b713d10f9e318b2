"""Creating studies: sampling their clips (seeded, optionally class-stratified), adding gold
clips and the qualification set, fixing the labels each clip shows; adding raters (closing and
the rest of a running study's steering: services.standing)."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotator import roles
from annotator.importers.bulk import rows_insert
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import (
    Category,
    Clip,
    ClipLabel,
    Dataset,
    GoldLabel,
    Proposal,
    ProposalSet,
    QualificationClip,
    Study,
    StudyClip,
    StudyClipLabel,
    StudyEvent,
)
from annotator.selectors.catalog import clips_without_media_flags, datasets_for_researcher
from annotator.services.audit import study_event_record
from annotator.services.standing import raters_readmit
from config.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)

User = AbstractBaseUser
DECOY, PROPOSAL = StudyClipLabel.Source.DECOY.value, StudyClipLabel.Source.PROPOSAL.value


def study_create(
    *,
    name: str,
    dataset: Dataset,
    proposal_set: ProposalSet,
    owner: User,
    raters: Sequence[User],
    sample_size: int,
    seed: int = 0,
    stratified: bool = True,
    split: str = "",
    raters_per_clip: int = 3,
    decoys_per_clip: int = 1,
    gold_rate: float = 0.0,
    show_evidence: bool = False,
    reservation_timeout_seconds: int = 600,
    instructions: str = "",
    exclude_media_flags: Collection[str] = (),
    serving: str = Study.Serving.FIXED,
    min_raters: int = 3,
    settle_error: float = 0.02,
    quiet_raters: int = 8,
    ask_modality: bool = True,
    max_labels_shown: int = 10,
    qualification_clips: int = 0,
    qualification_pass_mark: float = 0.8,
    gold_feedback: bool = False,
    pause_below_gold_accuracy: float | None = None,
    pause_above_decoy_acceptance: float | None = None,
    auto_pause_min_answers: int = 10,
) -> Study:
    """Sample a study's clips (seeded, optionally class-stratified), add gold clips, and fix
    the labels each clip shows: its proposals plus decoys, shuffled with the seed.

    `exclude_media_flags` leaves out clips carrying any of those flags (no_audio, short,
    long, low_resolution). None are left out by default: unusable clips never enter a
    study, a flag is a warning whose weight depends on the study (no_audio matters to an
    audio study, not to a visual one), and a default exclusion would change which clips
    a seed gives the studies already specified by their settings.

    `serving` 'fixed' serves each clip to `raters_per_clip` raters; 'settled' serves it to
    between `min_raters` and `raters_per_clip` raters, until its label set is decided (the
    rules, `settle_error` and `quiet_raters` included: annotator.services.settling). Gold
    clips come from clips with gold labels (GoldLabel) when the dataset has any, else from
    clips with original labels.

    `qualification_clips` > 0: raters first answer that many gold clips (the dataset's
    clips with GoldLabel rows, none of the study's own), scored against the truth, and enter
    the queue at `qualification_pass_mark` (services.qualification). `gold_feedback` shows a
    rater, after a gold clip, which answers disagreed with the truth. A rater is paused
    automatically when their gold accuracy falls below `pause_below_gold_accuracy` or their
    decoy acceptance rises above `pause_above_decoy_acceptance`, over at least
    `auto_pause_min_answers` answers (services.standing)."""
    name = (name or "").strip()
    split = (split or "").strip()
    _validate_study_settings(
        name=name,
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        sample_size=sample_size,
        raters_per_clip=raters_per_clip,
        decoys_per_clip=decoys_per_clip,
        gold_rate=gold_rate,
        reservation_timeout_seconds=reservation_timeout_seconds,
    )
    _validate_serving(
        serving=serving,
        min_raters=min_raters,
        raters_per_clip=raters_per_clip,
        settle_error=settle_error,
        quiet_raters=quiet_raters,
        max_labels_shown=max_labels_shown,
    )
    # The owner's datasets only (the proposal set follows its dataset); any other reads as
    # not found, as on every page and API, so ids don't tell what exists.
    if not datasets_for_researcher(user=owner).filter(pk=dataset.pk).exists():
        raise NotFoundError(f"Dataset {dataset.pk} does not exist or is not yours.")
    _validate_control(
        qualification_clips=qualification_clips,
        qualification_pass_mark=qualification_pass_mark,
        pause_below_gold_accuracy=pause_below_gold_accuracy,
        pause_above_decoy_acceptance=pause_above_decoy_acceptance,
    )
    excluded_flags = _validated_media_flags(exclude_media_flags)
    rater_list = _validated_raters(raters)
    rng = random.Random(seed)

    eligible = _eligible_clips(
        dataset=dataset, proposal_set=proposal_set, split=split, exclude_media_flags=excluded_flags
    )
    eligible_ids = list(eligible.order_by("pk").values_list("pk", flat=True))
    where = f"media ok, with a proposal in '{proposal_set.name}'" + (f", split '{split}'" if split else "")
    if excluded_flags:
        where += f", without media flags {', '.join(excluded_flags)}"
    if len(eligible_ids) < sample_size:
        raise ApplicationError(
            f"sample_size is {sample_size} but only {len(eligible_ids)} clips are eligible ({where}).",
            extra={"eligible": len(eligible_ids)},
        )
    labels_by_clip = _original_labels(clips=eligible)

    if stratified:
        sampled = _stratified_sample(eligible_ids, labels_by_clip, sample_size, rng)
    else:
        sampled = rng.sample(eligible_ids, sample_size)

    gold_count = round(gold_rate * sample_size)
    chosen = set(sampled)
    with_gold = _clips_with_gold(dataset=dataset)
    gold_pool = [
        pk for pk in eligible_ids if pk not in chosen and (pk in with_gold if with_gold else labels_by_clip.get(pk))
    ]
    if gold_count > len(gold_pool):
        raise ApplicationError(
            f"gold_rate {gold_rate} needs {gold_count} extra clips with "
            f"{'gold' if with_gold else 'original'} labels, "
            f"but only {len(gold_pool)} remain outside the sample ({where}).",
            extra={"gold_available": len(gold_pool)},
        )
    gold = rng.sample(gold_pool, gold_count)

    ordered = [(pk, False) for pk in sampled] + [(pk, True) for pk in gold]
    rng.shuffle(ordered)
    qualification = _qualification_sample(
        eligible_ids=eligible_ids, taken=chosen | set(gold), with_gold=with_gold, count=qualification_clips, seed=seed
    )

    with transaction.atomic():
        study = Study.objects.create(
            name=name,
            dataset=dataset,
            proposal_set=proposal_set,
            owner=owner,
            instructions=instructions or "",
            sample_size=sample_size,
            seed=seed,
            stratified=stratified,
            split=split,
            raters_per_clip=raters_per_clip,
            decoys_per_clip=decoys_per_clip,
            gold_rate=gold_rate,
            show_evidence=show_evidence,
            reservation_timeout_seconds=reservation_timeout_seconds,
            exclude_media_flags=list(excluded_flags),
            serving=serving,
            min_raters=min_raters if serving == Study.Serving.SETTLED else raters_per_clip,
            settle_error=settle_error,
            quiet_raters=quiet_raters,
            ask_modality=bool(ask_modality),
            max_labels_shown=max_labels_shown,
            qualification_clips=qualification_clips,
            qualification_pass_mark=qualification_pass_mark,
            gold_feedback=bool(gold_feedback),
            pause_below_gold_accuracy=pause_below_gold_accuracy,
            pause_above_decoy_acceptance=pause_above_decoy_acceptance,
            auto_pause_min_answers=auto_pause_min_answers,
        )
        study.raters.set(rater_list)
        QualificationClip.objects.bulk_create(
            [QualificationClip(study=study, clip_id=pk, position=position) for position, pk in enumerate(qualification)]
        )
        # Plain rows, not model instances: bulk_create's per-instance preparation was most of
        # the cost of a 200k-clip study (bench/study_scale.py).
        rows_insert(
            model=StudyClip,
            fields=("study", "clip", "position", "is_gold", "completed_count", "settled", "quiet_ratings"),
            rows=[
                (study.pk, clip_pk, position, is_gold, 0, False, 0)
                for position, (clip_pk, is_gold) in enumerate(ordered)
            ],
        )
        _create_shown_labels(study=study, labels_by_clip=labels_by_clip, rng=rng)
    _planner_statistics_refresh(models=(StudyClip, StudyClipLabel))
    logger.info(
        "study %s created: %d clips (%d gold), %d raters, clips flagged %s left out",
        study.pk,
        len(ordered),
        len(gold),
        len(rater_list),
        ", ".join(excluded_flags) or "none",
    )
    return study


def _planner_statistics_refresh(*, models: Sequence[type]) -> None:
    """Have PostgreSQL re-sample tables a bulk insert just grew. Autovacuum would do it within
    a minute or so; until then the planner, believing a new study has a handful of clips,
    sorts all of them instead of reading the queue's index in order. Costs tens of ms."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def study_add_raters(*, study: Study, raters: Sequence[User], actor=None) -> Study:
    """Add raters to a study's pool; users already in it are left as they are. A rater who
    was removed comes back active, their ratings in the consensus again (services.standing)."""
    validated = _validated_raters(raters)
    with transaction.atomic():
        new = [rater for rater in validated if not study.raters.filter(pk=rater.pk).exists()]
        study.raters.add(*validated)
        raters_readmit(study=study, raters=validated)
        if new and actor is not None:
            names = sorted(rater.get_username() for rater in new)
            study_event_record(
                study=study, actor=actor, action=StudyEvent.Action.RATERS_ADDED, details={"raters": names}
            )
    return study


def _validate_study_settings(
    *,
    name: str,
    dataset: Dataset,
    proposal_set: ProposalSet,
    owner: User,
    sample_size: int,
    raters_per_clip: int,
    decoys_per_clip: int,
    gold_rate: float,
    reservation_timeout_seconds: int,
) -> None:
    if not name:
        raise ApplicationError("A study needs a name.")
    if len(name) > Study._meta.get_field("name").max_length:
        raise ApplicationError("The study name is longer than 200 characters.")
    if proposal_set.dataset_id != dataset.pk:
        raise ApplicationError(f"Proposal set '{proposal_set.name}' belongs to another dataset than '{dataset.name}'.")
    if not roles.user_is_researcher(owner):
        raise ApplicationError(f"{owner} is not a researcher and cannot own a study.")
    for field, value, minimum in (
        ("sample_size", sample_size, 1),
        ("raters_per_clip", raters_per_clip, 1),
        ("decoys_per_clip", decoys_per_clip, 0),
        ("reservation_timeout_seconds", reservation_timeout_seconds, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ApplicationError(f"{field} must be a whole number of at least {minimum} (got {value!r}).")
    if isinstance(gold_rate, bool) or not isinstance(gold_rate, int | float) or not 0 <= gold_rate <= 1:
        raise ApplicationError(f"gold_rate must lie between 0 and 1 (got {gold_rate!r}).")


def _validate_control(
    *,
    qualification_clips: int,
    qualification_pass_mark: float,
    pause_below_gold_accuracy: float | None,
    pause_above_decoy_acceptance: float | None,
) -> None:
    if qualification_clips < 0:
        raise ApplicationError("qualification_clips must be 0 (no qualification) or more.")
    shares = {
        "qualification_pass_mark": qualification_pass_mark,
        "pause_below_gold_accuracy": pause_below_gold_accuracy,
        "pause_above_decoy_acceptance": pause_above_decoy_acceptance,
    }
    for field, value in shares.items():
        if value is not None and not 0 <= value <= 1:
            raise ApplicationError(f"{field} must lie between 0 and 1.", extra={"field": field})


def _qualification_sample(
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


def _validate_serving(
    *,
    serving: str,
    min_raters: int,
    raters_per_clip: int,
    settle_error: float,
    quiet_raters: int,
    max_labels_shown: int,
) -> None:
    if serving not in Study.Serving.values:
        raise ApplicationError(f"serving must be one of {', '.join(Study.Serving.values)} (got {serving!r}).")
    for field, value, minimum in (("min_raters", min_raters, 1), ("quiet_raters", quiet_raters, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ApplicationError(f"{field} must be a whole number of at least {minimum} (got {value!r}).")
    if isinstance(max_labels_shown, bool) or not isinstance(max_labels_shown, int) or max_labels_shown < 1:
        raise ApplicationError(f"max_labels_shown must be a whole number of at least 1 (got {max_labels_shown!r}).")
    if serving == Study.Serving.SETTLED and min_raters > raters_per_clip:
        raise ApplicationError(
            f"min_raters ({min_raters}) cannot exceed raters_per_clip, the most raters a clip gets ({raters_per_clip})."
        )
    if isinstance(settle_error, bool) or not isinstance(settle_error, int | float) or not 0 < settle_error < 0.5:
        raise ApplicationError(f"settle_error must lie strictly between 0 and 0.5 (got {settle_error!r}).")


def _clips_with_gold(*, dataset: Dataset) -> set[int]:
    return set(GoldLabel.objects.filter(clip__dataset=dataset).values_list("clip_id", flat=True).distinct())


def _validated_media_flags(flags: Collection[str]) -> list[str]:
    """The flags in MEDIA_FLAGS order; a lone code counts as a list of one."""
    flags = [flags] if isinstance(flags, str) else [str(flag) for flag in flags]
    unknown = sorted(flag for flag in flags if flag not in MEDIA_FLAGS)
    if unknown:
        raise ApplicationError(
            f"Unknown media flags: {', '.join(unknown)} (known: {', '.join(MEDIA_FLAGS)}).",
            extra={"unknown_media_flags": unknown},
        )
    return [flag for flag in MEDIA_FLAGS if flag in flags]


def _validated_raters(raters: Sequence[User]) -> list[User]:
    unique = list({user.pk: user for user in raters}.values())
    not_raters = [str(user) for user in unique if not roles.user_is_rater(user)]
    if not_raters:
        raise ApplicationError(f"Not raters: {', '.join(sorted(not_raters))}.", extra={"not_raters": not_raters})
    return unique


def _eligible_clips(*, dataset: Dataset, proposal_set: ProposalSet, split: str, exclude_media_flags: Sequence[str]):
    clips = Clip.objects.filter(dataset=dataset, media_status=Clip.MediaStatus.OK).filter(
        Exists(Proposal.objects.filter(proposal_set=proposal_set, clip=OuterRef("pk")))
    )
    clips = clips_without_media_flags(clips=clips, flags=exclude_media_flags)
    return clips.filter(split=split) if split else clips


def _original_labels(*, clips) -> dict[int, list[int]]:
    labels: dict[int, list[int]] = defaultdict(list)
    rows = ClipLabel.objects.filter(clip__in=clips.values("pk")).order_by("clip_id", "category_id")
    for clip_pk, category_pk in rows.values_list("clip_id", "category_id"):
        labels[clip_pk].append(category_pk)
    return labels


def _stratified_sample(
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


def _create_shown_labels(*, study: Study, labels_by_clip: Mapping[int, list[int]], rng: random.Random) -> None:
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
