"""Sharing a model run with named researchers. Who may then use it is
``selectors.runs_for_researcher``; this only writes the shared researchers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from annotator import roles
from modelzoo.models import ModelRun

logger = logging.getLogger(__name__)


def model_run_share(*, run: ModelRun, researchers: Sequence) -> ModelRun:
    """Let ``researchers`` use ``run``: see it with its checkpoint and predictions, evaluate it,
    predict with its model. Its creator needs no share; those it is shared with already stay."""
    roles.require_researchers(researchers)
    added = [user for user in researchers if user.pk != run.created_by_id]
    run.shared_with.add(*added)
    logger.info("run %s shared with %s", run.pk, ", ".join(sorted(map(str, added))) or "nobody new")
    return run
