"""Adjudication: the researcher decides a label of a study clip (present, with where it is,
or absent). The decision overrides the raters' vote in the consensus the study's tables and
dataset export use, and the export marks it; a second decision replaces the first. Each
decision and each clearing is audited in the same transaction.

Who may decide is the caller's check: the study comes from `selectors.study_for_researcher`
(the researcher's own studies, or any for an admin), its clip and category from
`selectors.adjudication_target`.
"""

from __future__ import annotations

from django.db import transaction

from annotator.models import Adjudication, Category, Modality, Study, StudyClip, StudyEvent
from annotator.selectors.adjudication import study_clip_label_known, study_clip_label_vote_count
from annotator.services.audit import study_event_record
from config.errors import ApplicationError, NotFoundError

DECISIONS: tuple[str, ...] = tuple(Adjudication.Decision.values)
#: Where a present label is: heard only, seen only, both; blank leaves it to the votes.
ADJUDICATED_MODALITIES: tuple[str, ...] = tuple(code for code in Modality.values if code)
MAX_NOTE = 2000


def label_adjudicate(
    *,
    study: Study,
    study_clip: StudyClip,
    category: Category,
    decision: str,
    modality: str = "",
    note: str = "",
    user,
) -> Adjudication:
    """Store `user`'s decision on the label (replacing an earlier one). The label must have
    been shown on the clip or added by its raters, and have at least one counted vote;
    `modality` (A / V / AV) goes only with present (blank: the raters' modality consensus)."""
    _check_label(study=study, study_clip=study_clip, category=category)
    if decision not in DECISIONS:
        raise ApplicationError(f"Decision {decision!r} is none of {', '.join(DECISIONS)}.")
    if modality and modality not in ADJUDICATED_MODALITIES:
        raise ApplicationError(f"Modality {modality!r} is none of {', '.join(ADJUDICATED_MODALITIES)}.")
    if modality and decision != Adjudication.Decision.PRESENT:
        raise ApplicationError("A modality goes only with a present decision.")
    if len(note) > MAX_NOTE:
        raise ApplicationError(f"The note is longer than {MAX_NOTE} characters.")
    with transaction.atomic():
        previous = (
            Adjudication.objects.select_for_update()
            .filter(study_clip=study_clip, category=category)
            .values("decision", "modality")
            .first()
        )
        adjudication, _ = Adjudication.objects.update_or_create(
            study_clip=study_clip,
            category=category,
            defaults={"decision": decision, "modality": modality, "note": note, "decided_by": user},
        )
        study_event_record(
            study=study,
            actor=user,
            action=StudyEvent.Action.LABEL_ADJUDICATED,
            details={
                **_label_details(study_clip=study_clip, category=category),
                "decision": decision,
                "modality": modality,
                "previous": previous,
            },
        )
    return adjudication


def adjudication_clear(*, study: Study, study_clip: StudyClip, category: Category, user) -> bool:
    """Remove the decision on the label, so its vote decides again; False when there was
    none (nothing changes, nothing is audited)."""
    if study_clip.study_id != study.pk:
        raise NotFoundError(f"Clip {study_clip.pk} is not in study {study.pk}.")
    with transaction.atomic():
        previous = (
            Adjudication.objects.select_for_update()
            .filter(study_clip=study_clip, category=category)
            .values("pk", "decision", "modality")
            .first()
        )
        if previous is None:
            return False
        Adjudication.objects.filter(pk=previous["pk"]).delete()
        study_event_record(
            study=study,
            actor=user,
            action=StudyEvent.Action.ADJUDICATION_CLEARED,
            details={
                **_label_details(study_clip=study_clip, category=category),
                "decision": previous["decision"],
                "modality": previous["modality"],
            },
        )
    return True


def _check_label(*, study: Study, study_clip: StudyClip, category: Category) -> None:
    if study_clip.study_id != study.pk:
        raise NotFoundError(f"Clip {study_clip.pk} is not in study {study.pk}.")
    if category.taxonomy_id != study.dataset.taxonomy_id:
        raise NotFoundError(f"Category {category.pk} is not in this study's taxonomy.")
    if not study_clip_label_known(study_clip=study_clip, category=category):
        raise ApplicationError(f"Label '{category.name}' was neither shown on this clip nor added by its raters.")
    if not study_clip_label_vote_count(study=study, study_clip=study_clip, category=category):
        raise ApplicationError(f"Label '{category.name}' has no counted vote on this clip yet: nothing to decide.")


def _label_details(*, study_clip: StudyClip, category: Category) -> dict:
    return {
        "study_clip": study_clip.pk,
        "clip": study_clip.clip.clip_id,
        "category": category.pk,
        "category_name": category.name,
    }
