"""The audit trail: every researcher action on a running study (and every automatic one)
is recorded with who, what and when; the study page and its API list them."""

from __future__ import annotations

from collections.abc import Mapping

from annotator.models import Study, StudyEvent


def study_event_record(*, study: Study, actor, action: str, rater=None, details: Mapping | None = None) -> StudyEvent:
    """Record one action on a study. `actor` None: done automatically (say why in details).
    Call it inside the transaction of the change it records, so neither lands alone."""
    if action not in StudyEvent.Action.values:
        raise ValueError(f"Unknown study action {action!r}.")
    return StudyEvent.objects.create(
        study=study,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        rater=rater,
        details=dict(details or {}),
    )
