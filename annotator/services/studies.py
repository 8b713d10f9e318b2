"""Creating studies: sampling their clips (seeded, optionally class-stratified), adding gold
clips and the qualification set, fixing the labels each clip shows; adding raters (closing and
the rest of a running study's steering: services.standing)."""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from annotator.importers.bulk import rows_insert
from annotator.models import (
    Dataset,
    ProposalSet,
    QualificationClip,
    Study,
    StudyClip,
    StudyClipLabel,
    StudyEvent,
)
from annotator.selectors.catalog import datasets_for_researcher
from annotator.services.audit import study_event_record
from annotator.services.standing import raters_readmit
from annotator.services.study_sampling import (
    clips_eligible,
    clips_with_gold,
    original_labels,
    qualification_sample,
    shown_labels_create,
    stratified_sample,
)
from annotator.services.study_settings import (
    control_settings_validate,
    media_flags_validated,
    raters_validated,
    serving_settings_validate,
    study_settings_validate,
)
from config.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)

User = AbstractBaseUser


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
    study_settings_validate(
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
    serving_settings_validate(
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
    control_settings_validate(
        qualification_clips=qualification_clips,
        qualification_pass_mark=qualification_pass_mark,
        pause_below_gold_accuracy=pause_below_gold_accuracy,
        pause_above_decoy_acceptance=pause_above_decoy_acceptance,
    )
    excluded_flags = media_flags_validated(exclude_media_flags)
    rater_list = raters_validated(raters)
    rng = random.Random(seed)

    eligible = clips_eligible(
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
    labels_by_clip = original_labels(clips=eligible)

    if stratified:
        sampled = stratified_sample(eligible_ids, labels_by_clip, sample_size, rng)
    else:
        sampled = rng.sample(eligible_ids, sample_size)

    gold_count = round(gold_rate * sample_size)
    chosen = set(sampled)
    with_gold = clips_with_gold(dataset=dataset)
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
    qualification = qualification_sample(
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
        shown_labels_create(study=study, labels_by_clip=labels_by_clip, rng=rng)
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
    validated = raters_validated(raters)
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
