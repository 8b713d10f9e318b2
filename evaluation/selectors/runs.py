"""A predict run's stored predictions as arrays (``RunData``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation import metrics
from evaluation.selectors.clips import ClipTable, clip_subset, clip_table, taxonomy_categories
from modelzoo import selectors as modelzoo_selectors
from modelzoo.models import ModelRun


@dataclass(frozen=True)
class RunData:
    """A predict run's stored predictions as arrays.

    Clips are those with a usable prediction (no error) and at least one original label.
    heads: the run's output names (the five event heads, or the one baseline kind).
    """

    run: ModelRun
    categories: list[str]
    clips: ClipTable
    heads: tuple[str, ...]
    top5: np.ndarray  # (H, N, 5) class indices, -1 padded, best first
    top5_prob: np.ndarray  # (H, N, 5) probabilities, nan padded
    vote: np.ndarray  # (N,) the vote label (event heads) or the top-1 (baselines); -1 = none
    union: np.ndarray  # (N, C) bool, the union set of the heads' top-1
    label_probs: np.ndarray  # (N, H) probability of the clip's label per head, nan = unknown
    stored_event_type: np.ndarray  # (N,) index into EVENT_TYPES, -1 = none
    label: np.ndarray  # (N,) the class the event type refers to (lowest original label)
    errors: int = 0
    unlabelled: int = 0

    @property
    def top1(self) -> np.ndarray:
        """(H, N) each head's top-1 class."""
        return self.top5[:, :, 0]

    def prediction_for(self, kind_head: str) -> np.ndarray:
        return self.top1[self.heads.index(kind_head)]


def run_data(*, run: ModelRun) -> RunData:
    """Load a predict run's predictions into ``RunData`` (errored and unlabelled clips left out)."""
    categories, category_index = taxonomy_categories(dataset=run.dataset)
    heads = metrics.EVENT_TYPES if run.model_kind == ModelRun.ModelKind.EVENT_HEADS else (run.model_kind,)
    kept = []
    errors = 0
    for row in modelzoo_selectors.run_prediction_rows(run=run):
        if row[5]:
            errors += 1
            continue
        kept.append(row)
    table = clip_table(clip_pks=[row[0] for row in kept], num_classes=len(categories), category_index=category_index)
    labelled = table.original.any(axis=1)
    if not labelled.all():
        kept = [row for row, ok in zip(kept, labelled, strict=True) if ok]
        table = clip_subset(table, labelled)
    n, h = len(kept), len(heads)
    top5 = np.full((h, n, 5), -1, dtype=np.int64)
    top5_prob = np.full((h, n, 5), np.nan)
    label_probs = np.full((n, h), np.nan)
    vote = np.full(n, -1, dtype=np.int64)
    union_sets: list[list[int]] = []
    stored = np.full(n, -1, dtype=np.int64)
    for i, (_, head_json, vote_index, union_indices, event_type, _) in enumerate(kept):
        for k, head in enumerate(heads):
            entry = (head_json or {}).get(head) or {}
            pairs = entry.get("top5") or []
            for j, (index, prob) in enumerate(pairs[:5]):
                top5[k, i, j] = int(index)
                top5_prob[k, i, j] = float(prob)
            if entry.get("label_prob") is not None:
                label_probs[i, k] = float(entry["label_prob"])
        vote[i] = vote_index if vote_index is not None else top5[0, i, 0]
        union_sets.append(list(union_indices or []) or [int(x) for x in top5[:, i, 0] if x >= 0])
        if event_type in metrics.EVENT_TYPES:
            stored[i] = metrics.EVENT_TYPES.index(event_type)
    original = table.original
    label = np.where(original.any(axis=1), np.argmax(original, axis=1), -1)
    return RunData(
        run=run,
        categories=categories,
        clips=table,
        heads=tuple(heads),
        top5=top5,
        top5_prob=top5_prob,
        vote=vote,
        union=metrics.indices_to_indicator(union_sets, len(categories)),
        label_probs=label_probs,
        stored_event_type=stored,
        label=label,
        errors=errors,
        unlabelled=int((~labelled).sum()),
    )
