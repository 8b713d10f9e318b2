"""The researcher's decisions on a study's labels, as columns beside ``StudyData.labels``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from annotator import selectors as annotator_selectors
from evaluation import metrics

if TYPE_CHECKING:
    from annotator.models import Study

_DECISION_CODES = {"present": metrics.DECIDED_PRESENT, "absent": metrics.DECIDED_ABSENT}


def label_decisions(
    *, study: Study, label_study_clip: np.ndarray, label_category: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For labels given by their study clip pk and category pk ((M,) each): the decision
    (metrics.DECIDED_PRESENT / DECIDED_ABSENT / NOT_DECIDED) and its modality (index in
    metrics.MODALITIES, -1 when none was given). Decisions are few: the labels are matched
    to them by one sorted search over M composite keys, no Python object per label."""
    m = len(label_study_clip)
    decision = np.full(m, metrics.NOT_DECIDED, dtype=np.int64)
    modality = np.full(m, -1, dtype=np.int64)
    rows = annotator_selectors.study_adjudication_rows(study=study)
    if not rows or not m:
        return decision, modality
    decided_study_clip = np.asarray([row[0] for row in rows], dtype=np.int64)
    decided_category = np.asarray([row[1] for row in rows], dtype=np.int64)
    decided_code = np.asarray([_DECISION_CODES[row[2]] for row in rows], dtype=np.int64)
    decided_modality = np.asarray(
        [metrics.MODALITIES.index(row[3]) if row[3] in metrics.MODALITIES else -1 for row in rows], dtype=np.int64
    )
    width = int(max(decided_category.max(), np.asarray(label_category).max())) + 1
    keys = decided_study_clip * width + decided_category
    order = np.argsort(keys)
    keys = keys[order]
    wanted = np.asarray(label_study_clip, dtype=np.int64) * width + np.asarray(label_category, dtype=np.int64)
    found = np.searchsorted(keys, wanted).clip(max=len(keys) - 1)
    hit = keys[found] == wanted
    decision[hit] = decided_code[order][found[hit]]
    modality[hit] = decided_modality[order][found[hit]]
    return decision, modality
