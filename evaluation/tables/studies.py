"""The human-study tables, from a study's ratings loaded by ``selectors``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evaluation import metrics
from evaluation.tables.modality import modality_tables
from evaluation.tables.table import Cell, Column, Table, cardinality_table

if TYPE_CHECKING:  # data loaded by selectors; this module needs no Django at run time
    from evaluation.selectors import StudyData


def _interval_row(name: str, interval: metrics.Interval, scale: float = 1.0) -> tuple[Cell, ...]:
    return (name, interval.estimate * scale, interval.low * scale, interval.high * scale)


def human_study_table(data: StudyData, summary: metrics.StudySummary) -> Table:
    """The human-study figures (the paper's 62% / 1.4 / 2.21) with bootstrap 95% intervals."""
    rows = [
        ("Clips rated", summary.n_clips, None, None),
        ("Raters", data.n_raters, None, None),
        ("Mean proposed labels per clip |P|", summary.mean_proposals_per_clip, None, None),
        _interval_row("Proposals confirmed (%)", summary.acceptance, 100.0),
        _interval_row("Correct labels per clip", summary.correct_per_clip),
        _interval_row("Decoys confirmed (%)", summary.decoy_acceptance, 100.0),
        _interval_row("Confirmed, corrected for decoys (%)", summary.corrected_acceptance, 100.0),
        _interval_row("Fleiss' kappa", summary.fleiss_kappa),
        _interval_row("Krippendorff's alpha (nominal)", summary.krippendorff_alpha),
    ]
    gold = int(data.is_gold.sum())
    notes = [
        "A label is confirmed when more raters answered present than absent (unsure abstains).",
        "Corrected = (a - d) / (1 - d), a = share of proposals confirmed, d = share of decoys confirmed.",
        "Agreement over every shown label (proposals and decoys), present vs absent, unsure as missing.",
        f"95% percentile bootstrap over clips ({summary.n_clips} clips).",
    ]
    if gold:
        notes.append(f"{gold} gold clips are left out of these figures (used for rater quality).")
    if data.skipped:
        notes.append(f"{data.skipped} skipped ratings are not counted.")
    decided = _decided_count(data.sample_items())
    if decided:
        notes.append(
            f"{decided} labels were adjudicated by the researcher: their decision, not the vote, says whether "
            "they are confirmed (agreement is the raters' alone)."
        )
    return Table(
        key="human_study",
        title=f"Human study: {data.study.name}",
        columns=(
            Column("Measure"),
            Column("Value", "number", 3),
            Column("95% CI low", "number", 3),
            Column("95% CI high", "number", 3),
        ),
        rows=rows,
        notes=notes,
    )


def _decided_count(items: metrics.StudyItems) -> int:
    return 0 if items.decision is None else int((items.decision != metrics.NOT_DECIDED).sum())


def agreement_by_label_table(data: StudyData) -> Table:
    """Per label: proposals shown, acceptance, decoys shown, kappa and alpha over its items."""
    items = data.sample_items()
    n_labels = len(data.categories)
    rate, shown = metrics.acceptance_by_label(items, n_labels)
    decoys = np.bincount(items.label[items.is_decoy], minlength=n_labels)
    agree = metrics.agreement_counts(items.counts)
    kappa = metrics.fleiss_kappa_by_group(agree, items.label, n_labels)
    alpha = metrics.krippendorff_alpha_by_group(agree, items.label, n_labels)
    rows = [
        (data.categories[c], int(shown[c]), rate[c], int(decoys[c]), kappa[c], alpha[c])
        for c in np.argsort(-shown, kind="stable")
        if shown[c] + decoys[c] > 0
    ]
    return Table(
        key="agreement_by_label",
        title="Acceptance and agreement per label",
        columns=(
            Column("Label"),
            Column("Proposed", "int"),
            Column("Acceptance", "percent", 1),
            Column("Shown as decoy", "int"),
            Column("Fleiss' kappa", "float"),
            Column("Krippendorff's alpha", "float"),
        ),
        rows=rows,
        notes=["Kappa and alpha over the label's shown items (proposals and decoys); n/a when undefined."],
    )


@dataclass(frozen=True)
class LabelVotes:
    """One (clip, label) with the votes of the raters shown it or who added it, and the
    consensus ``label_votes`` works out for all labels at once."""

    clip: int
    label: int
    present: int
    absent: int
    unsure: int
    source: str  # "proposal" | "decoy" | "added"
    modality_votes: tuple[int, int, int] = (0, 0, 0)  # present answers heard only / seen only / both
    confirmed: bool = False  # metrics.label_confirmed, a researcher's decision over it (metrics.decided)
    modality: str | None = None  # the modality consensus (metrics.consensus): A, V or AV; None without votes
    adjudicated: bool = False  # the researcher decided it: `confirmed` (and a modality given) is theirs

    @property
    def agreement(self) -> float:
        """Share of the decisive votes on the majority side (nan without decisive votes)."""
        decisive = self.present + self.absent
        return max(self.present, self.absent) / decisive if decisive else float("nan")


def label_votes(data: StudyData, *, confirmed_only: bool = False) -> list[LabelVotes]:
    """Every judged label (shown proposals and decoys, and labels raters added) with its
    votes, or only the confirmed ones; the consensus rules run once over all labels
    (arrays), not once per label. A label the researcher adjudicated takes their decision
    (and the modality it gives) over the vote."""
    labels = data.labels
    counts = np.asarray(labels.counts, dtype=np.int64).reshape(-1, 3)
    source = np.asarray(data.label_source, dtype=object)
    decision = np.asarray(data.label_decision, dtype=np.int64)
    confirmed = metrics.decided(metrics.label_confirmed(counts[:, 0], counts[:, 1], source == "added"), decision)
    names = np.asarray([*metrics.MODALITIES, None], dtype=object)  # consensus -1 (no votes) reads None
    modality = names[
        metrics.decided_modality(
            metrics.modality_consensus(data.modality_votes), decision, data.label_decision_modality
        )
    ]
    adjudicated = decision != metrics.NOT_DECIDED
    votes = np.asarray(data.modality_votes, dtype=np.int64).reshape(-1, len(metrics.MODALITIES))
    keep = confirmed if confirmed_only else slice(None)
    return [
        LabelVotes(c, label, p, a, u, str(kind), tuple(modality_votes), bool(yes), name, bool(decided))
        for c, label, (p, a, u), kind, modality_votes, yes, name, decided in zip(
            np.asarray(labels.clip)[keep].tolist(),
            np.asarray(labels.label)[keep].tolist(),
            counts[keep].tolist(),
            source[keep].tolist(),
            votes[keep].tolist(),
            confirmed[keep].tolist(),
            modality[keep].tolist(),
            adjudicated[keep].tolist(),
            strict=True,
        )
    ]


def missing_labels_table(data: StudyData, *, votes: list[LabelVotes] | None = None) -> Table:
    """Labels the raters' majority confirmed that the original annotation lacks."""
    rows = []
    for vote in label_votes(data) if votes is None else votes:
        if not vote.confirmed or data.clips.original[vote.clip, vote.label]:
            continue
        original = ", ".join(data.categories[i] for i in np.flatnonzero(data.clips.original[vote.clip]))
        rows.append(
            (
                data.clips.clip_ids[vote.clip],
                data.categories[vote.label],
                vote.source,
                vote.present,
                vote.absent,
                vote.unsure,
                vote.agreement,
                original,
            )
        )
    rows.sort(key=lambda row: (row[0], row[1]))
    return Table(
        key="missing_labels",
        title="Missing-label candidates (confirmed by raters, absent from the original labels)",
        columns=(
            Column("Clip"),
            Column("Label"),
            Column("Source"),
            Column("Present", "int"),
            Column("Absent", "int"),
            Column("Unsure", "int"),
            Column("Agreement", "percent", 0),
            Column("Original labels"),
        ),
        rows=rows,
        notes=[
            "Votes of the raters shown the label or who added it; an added label is shown to the clip's later raters.",
            f"An added label needs {metrics.ADDED_MIN_PRESENT} present answers (its adder's and another's).",
            "A label the researcher adjudicated is listed by their decision, whatever its votes.",
        ],
    )


def rater_quality_table(data: StudyData) -> Table:
    quality = metrics.rater_quality(
        rater=data.judgment_rater,
        item=data.judgment_item,
        answer=data.judgment_answer,
        counts=data.labels.counts,
        is_decoy=data.labels.is_decoy,
        gold_truth=data.gold_truth(),
        n_raters=data.n_raters,
        rating_rater=data.rating_rater,
        rating_seconds=data.rating_seconds,
    )
    ratings = np.bincount(data.rating_rater, minlength=data.n_raters)
    rows = [
        (
            data.rater_names[r],
            int(ratings[r]),
            int(quality.n_judgments[r]),
            quality.gold_accuracy[r],
            quality.decoy_acceptance[r],
            quality.median_seconds[r],
            quality.consensus_agreement[r],
        )
        for r in range(data.n_raters)
    ]
    rows.sort(key=lambda row: str(row[0]))
    return Table(
        key="rater_quality",
        title="Rater quality",
        columns=(
            Column("Rater"),
            Column("Clips", "int"),
            Column("Judgments", "int"),
            Column("Gold accuracy", "percent", 1),
            Column("Decoy acceptance", "percent", 1),
            Column("Median seconds per clip", "float", 1),
            Column("Agreement with consensus", "percent", 1),
        ),
        rows=rows,
        notes=[
            "Gold accuracy: decisive answers on gold labels with known truth (present or absent) that match it.",
            "Agreement with consensus: decisive answers matching the majority of the other raters of the label.",
        ],
    )


def study_cardinality_table(data: StudyData) -> Table:
    items = data.sample_items()
    proposals = np.bincount(items.clip[~items.is_decoy], minlength=items.n_clips)
    indicator = np.zeros((items.n_clips, int(proposals.max(initial=0)) + 1), dtype=bool)
    for size in range(indicator.shape[1]):
        indicator[proposals > size, size] = True
    return cardinality_table(
        "cardinality", "Proposed labels per clip |P|", metrics.cardinality(indicator, max_size=5), "Decoys excluded."
    )


def study_tables(data: StudyData, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Table]:
    """Every table of a study (raises ValueError when no sampled clip has a rating yet)."""
    items = data.sample_items()
    if items.n_clips == 0:
        raise ValueError("No sampled clip of this study has a completed rating yet.")
    summary = metrics.study_summary(items, n_boot=n_boot, seed=seed)
    votes = label_votes(data, confirmed_only=True)  # the tables below list confirmed labels only
    tables = [
        human_study_table(data, summary),
        study_cardinality_table(data),
        agreement_by_label_table(data),
        missing_labels_table(data, votes=votes),
        rater_quality_table(data),
        *modality_tables(data, votes=votes),
    ]
    return {table.key: table for table in tables}
