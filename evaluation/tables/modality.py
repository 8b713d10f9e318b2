"""Where the confirmed labels of a study are, heard or seen: the modality distribution per
class with its agreement, and how it relates to the model's dominant event type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from evaluation import metrics
from evaluation.tables.table import Cell, Column, Table

if TYPE_CHECKING:
    from evaluation.selectors import StudyData
    from evaluation.tables.studies import LabelVotes

_SHARE_COLUMNS = (
    Column("Heard only (A)", "percent", 1),
    Column("Seen only (V)", "percent", 1),
    Column("Heard and seen (AV)", "percent", 1),
)


def _shares(consensus: np.ndarray) -> tuple[Cell, ...]:
    counts = np.bincount(consensus[consensus >= 0], minlength=len(metrics.MODALITIES))
    total = counts.sum()
    return tuple(float(count / total) if total else None for count in counts)


def modality_by_label_table(data: StudyData, votes: Sequence[LabelVotes]) -> Table:
    """Per class: confirmed labels of the sampled clips, their modality consensus shares, the
    share of modality votes agreeing with it, and Krippendorff's alpha over the votes."""
    gold = data.is_gold.tolist()
    confirmed = [v for v in votes if v.confirmed and not gold[v.clip]]
    if not confirmed:
        matrix = np.zeros((0, len(metrics.MODALITIES)), dtype=np.int64)
    else:
        matrix = np.asarray([v.modality_votes for v in confirmed], dtype=np.int64)
    label = np.asarray([v.label for v in confirmed], dtype=np.int64)
    consensus = metrics.modality_consensus(matrix)
    agreement = metrics.modality_agreement(matrix)
    # Where each label is: its votes' consensus, or the modality the researcher's decision gave.
    final = np.asarray([metrics.MODALITIES.index(v.modality) if v.modality else -1 for v in confirmed], dtype=np.int64)

    def row(name: str, keep: np.ndarray) -> tuple[Cell, ...]:
        voted = keep & (consensus >= 0)
        alpha = metrics.krippendorff_alpha_nominal(matrix[voted]) if voted.sum() >= 2 else float("nan")
        return (
            name,
            int(keep.sum()),
            int(voted.sum()),
            *_shares(final[keep]),
            float(np.nanmean(agreement[voted])) if voted.any() else None,
            None if np.isnan(alpha) else float(alpha),
        )

    rows = [row("All labels", np.ones(len(confirmed), dtype=bool))]
    for c in sorted(set(label.tolist()), key=lambda c: data.categories[c]):
        rows.append(row(data.categories[c], label == c))
    return Table(
        key="modality_by_label",
        title="Where the confirmed labels are: heard, seen or both",
        columns=(
            Column("Label"),
            Column("Confirmed", "int"),
            Column("With modality votes", "int"),
            *_SHARE_COLUMNS,
            Column("Modality agreement", "percent", 1),
            Column("Krippendorff's alpha (modality)", "float"),
        ),
        rows=rows,
        notes=[
            "Modality consensus: heard? and seen? each by the majority of the label's modality votes, a tie as yes.",
            "Modality agreement: share of a label's modality votes equal to its consensus, averaged over labels.",
            "A label the researcher adjudicated with a modality counts in the shares with theirs.",
            "Sampled clips only (gold clips left out).",
        ],
    )


def modality_event_type_table(data: StudyData, votes: Sequence[LabelVotes]) -> Table:
    """The raters' modality consensus of confirmed labels against the dominant event type the
    model gave the clip: the audio head stands for heard-only events, the visual head for
    seen-only ones, the audio-visual heads for both."""
    rows = []
    gold = data.is_gold.tolist()
    with_modality = [v for v in votes if v.confirmed and v.modality and not gold[v.clip]]
    for event_type in metrics.EVENT_TYPES:
        chosen = [v for v in with_modality if data.event_types[v.clip] == event_type]
        if not chosen:
            continue
        consensus = np.asarray([metrics.MODALITIES.index(v.modality) for v in chosen], dtype=np.int64)
        expected = metrics.EVENT_TYPE_MODALITY[event_type]
        matching = float(np.mean([v.modality == expected for v in chosen]))
        rows.append((event_type, expected, len(chosen), *_shares(consensus), matching))
    return Table(
        key="modality_event_type",
        title="Raters' modality against the model's dominant event type",
        columns=(
            Column("Model's event type"),
            Column("Its head's modality"),
            Column("Confirmed labels", "int"),
            *_SHARE_COLUMNS,
            Column("Raters agree with the head", "percent", 1),
        ),
        rows=rows,
        notes=["Confirmed labels with a modality consensus, of sampled clips whose proposals carry an event type."],
    )


def modality_tables(data: StudyData, *, votes: Sequence[LabelVotes]) -> list[Table]:
    """The modality tables a study has data for: none when it asked no modality."""
    if not data.study.ask_modality and not data.modality_votes.any():
        return []
    tables = [modality_by_label_table(data, votes)]
    if any(data.event_types):
        tables.append(modality_event_type_table(data, votes))
    return tables
