"""Checking a rater's answers for a clip against the labels it showed them: which labels they
must answer (shown when their reservation was made and still shown), which they may answer
(shown then or now), the labels they add, and the modality of each present answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from annotator.models import Category, Dataset, Judgment, Modality
from annotator.selectors import ShownLabel
from config.errors import ApplicationError

ANSWERS = frozenset(Judgment.Answer.values)
MODALITIES = frozenset(value for value in Modality.values if value)
# A rating answers the labels shown (a study shows a clip's proposals plus a few decoys) and
# adds a few the rater missed: the submit API refuses more than this before reading them.
MAX_ANSWERS = 200
MAX_ADDED = 20


@dataclass(frozen=True)
class CheckedAnswers:
    """A rating's answers, checked: (category id, answer, modality) per answered label, and
    (category id, modality) per label the rater added."""

    answered: list[tuple[int, str, str]]
    added: list[tuple[int, str]]


def answers_check(
    *,
    labels: Sequence[ShownLabel],
    reserved_at: datetime,
    answers: Mapping[int, str],
    added: Sequence[int],
    modalities: Mapping[int, str],
    dataset_id: int,
    ask_modality: bool,
) -> CheckedAnswers:
    """ApplicationError when an answer names a label that was not shown or is not
    present/absent/unsure, when a label shown since the reservation is left unanswered, when
    an added label is shown, outside the taxonomy or one of more than MAX_ADDED, or when a
    modality is not A/V/AV, names a label not answered present or added, or the study does
    not ask for modality."""
    # Any label shown at some moment since the reservation began may be on the rater's page.
    may_answer = {label.category_id for label in labels if label.hidden_at is None or label.hidden_at > reserved_at}
    must_answer = {label.category_id for label in labels if label.shown_now and label.shown_at(reserved_at)}
    parsed: dict[int, str] = {}
    for key, answer in (answers or {}).items():
        category_pk = as_id(key, what="answer key")
        if category_pk not in may_answer:
            raise ApplicationError(f"Category {key} was not shown for this clip.", extra={"category_id": key})
        if answer not in ANSWERS:
            raise ApplicationError(
                f"Answer {answer!r} for category {key} is not one of {', '.join(sorted(ANSWERS))}.",
                extra={"category_id": key},
            )
        parsed[category_pk] = answer
    missing = sorted(must_answer - parsed.keys())
    if missing:
        raise ApplicationError(
            f"Answer every shown label (missing: {', '.join(map(str, missing))}).", extra={"missing": missing}
        )
    added_ids = _added_check(added=added, answered=parsed.keys(), dataset_id=dataset_id)
    modality_of = _modalities_check(
        modalities=modalities,
        present={pk for pk, answer in parsed.items() if answer == Judgment.Answer.PRESENT} | set(added_ids),
        ask_modality=ask_modality,
    )
    return CheckedAnswers(
        answered=[(pk, answer, modality_of.get(pk, "")) for pk, answer in parsed.items()],
        added=[(pk, modality_of.get(pk, "")) for pk in added_ids],
    )


def _added_check(*, added: Sequence[int], answered, dataset_id: int) -> list[int]:
    added_ids = list(dict.fromkeys(as_id(value, what="added category") for value in added or ()))
    if len(added_ids) > MAX_ADDED:
        raise ApplicationError(f"Add at most {MAX_ADDED} labels to a clip.", extra={"added": len(added_ids)})
    overlapping = sorted(set(added_ids) & set(answered))
    if overlapping:
        raise ApplicationError(
            f"Added labels {overlapping} are already shown; answer them instead.", extra={"added": overlapping}
        )
    if added_ids:
        taxonomy = Dataset.objects.filter(pk=dataset_id).values("taxonomy_id")
        known = set(Category.objects.filter(pk__in=added_ids, taxonomy_id__in=taxonomy).values_list("pk", flat=True))
        unknown = [pk for pk in added_ids if pk not in known]
        if unknown:
            raise ApplicationError(
                f"Added categories {unknown} are not in this dataset's taxonomy.", extra={"unknown": unknown}
            )
    return added_ids


def _modalities_check(*, modalities: Mapping[int, str], present: set[int], ask_modality: bool) -> dict[int, str]:
    """Category id -> modality; a present answer may leave it out (recorded as not given)."""
    if modalities and not ask_modality:
        raise ApplicationError("This study does not ask where a label is heard or seen; send no modalities.")
    out: dict[int, str] = {}
    for key, modality in (modalities or {}).items():
        category_pk = as_id(key, what="modality key")
        if modality not in MODALITIES:
            raise ApplicationError(
                f"Modality {modality!r} for category {key} is not one of A (heard), V (seen), AV (both).",
                extra={"category_id": key},
            )
        if category_pk not in present:
            raise ApplicationError(
                f"Category {key} has a modality but was not answered present or added.", extra={"category_id": key}
            )
        out[category_pk] = modality
    return out


def as_id(value: object, *, what: str) -> int:
    """A category id sent as a JSON key or value (a string or a number), else ApplicationError."""
    if isinstance(value, bool):
        raise ApplicationError(f"{what} {value!r} is not a category id.")
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ApplicationError(f"{what} {value!r} is not a category id.") from None
