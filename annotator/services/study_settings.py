"""Validating a new study's settings: each refusal names the field and the value it got."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.contrib.auth.models import AbstractBaseUser

from annotator import roles
from annotator.importers.probe import MEDIA_FLAGS
from annotator.models import Dataset, ProposalSet, Study
from config.errors import ApplicationError

User = AbstractBaseUser


def study_settings_validate(
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


def control_settings_validate(
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


def serving_settings_validate(
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


def media_flags_validated(flags: Collection[str]) -> list[str]:
    """The flags in MEDIA_FLAGS order; a lone code counts as a list of one."""
    flags = [flags] if isinstance(flags, str) else [str(flag) for flag in flags]
    unknown = sorted(flag for flag in flags if flag not in MEDIA_FLAGS)
    if unknown:
        raise ApplicationError(
            f"Unknown media flags: {', '.join(unknown)} (known: {', '.join(MEDIA_FLAGS)}).",
            extra={"unknown_media_flags": unknown},
        )
    return [flag for flag in MEDIA_FLAGS if flag in flags]


def raters_validated(raters: Sequence[User]) -> list[User]:
    unique = list({user.pk: user for user in raters}.values())
    not_raters = [str(user) for user in unique if not roles.user_is_rater(user)]
    if not_raters:
        raise ApplicationError(f"Not raters: {', '.join(sorted(not_raters))}.", extra={"not_raters": not_raters})
    return unique
