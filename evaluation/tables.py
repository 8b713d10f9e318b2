"""The paper's tables and the study tables, built from arrays loaded by ``selectors``.

A ``Table`` is a small dataclass (key, title, typed columns, rows, notes); ``exporters``
writes it as CSV, JSON, Markdown or LaTeX. Builders here compute with ``metrics`` only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from evaluation import metrics

if TYPE_CHECKING:  # data loaded by selectors; these modules need no Django at run time
    from evaluation.selectors import RunData, StudyData

Cell = str | int | float | None
COLUMN_KINDS = ("text", "int", "float", "number", "percent")

#: Table 1's columns: model kind -> heading, in the paper's order.
TABLE1_KINDS: dict[str, str] = {
    "audio_only": "Audio Only",
    "vision_only": "Vision Only",
    "naive_av": "Naive AV",
    "event_heads": "Ours",
}
TOP_KS = (1, 2, 3, 4, 5)
EVENT_TYPE_TITLES = {name: name.capitalize() for name in metrics.EVENT_TYPES}


@dataclass(frozen=True)
class Column:
    """A column: its heading, what its cells hold, and the decimals shown in MD/LaTeX.

    kind "percent" holds a fraction in [0, 1] and is shown as a percentage; "number" is a
    float shown without decimals when it is whole (counts and measures in one column).
    """

    name: str
    kind: str = "text"
    digits: int = 3

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column kind must be one of {COLUMN_KINDS}, got {self.kind!r}")


@dataclass
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.columns = tuple(self.columns)
        self.rows = [
            tuple(_cell(value, column) for value, column in zip(row, self.columns, strict=True)) for row in self.rows
        ]

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "columns": [{"name": c.name, "kind": c.kind, "digits": c.digits} for c in self.columns],
            "rows": [list(row) for row in self.rows],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Table:
        return cls(
            key=data["key"],
            title=data["title"],
            columns=tuple(Column(**column) for column in data["columns"]),
            rows=[tuple(row) for row in data["rows"]],
            notes=list(data.get("notes", [])),
        )


def _cell(value: object, column: Column) -> Cell:
    """Normalise a cell: numpy scalars to Python, nan to None, ints kept int."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if column.kind == "text":
        return str(value)
    if column.kind == "int":
        if isinstance(value, float) and math.isnan(value):
            return None
        return int(value)  # type: ignore[call-overload]
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


# --------------------------------------------------------------------------------------
# Model runs: Tables 1-4 and per-run tables
# --------------------------------------------------------------------------------------


def _dataset_label(data: RunData) -> str:
    dataset = data.run.dataset.name
    return f"{dataset} ({data.run.split})" if data.run.split else dataset


def _common_positions(datas: Sequence[RunData]) -> list[np.ndarray]:
    """For each run, the positions of the clips every run predicted, in one shared order."""
    common = set(int(pk) for pk in datas[0].clips.pks)
    for data in datas[1:]:
        common &= set(int(pk) for pk in data.clips.pks)
    order = sorted(common)
    out = []
    for data in datas:
        index = data.clips.index_of()
        out.append(np.asarray([index[pk] for pk in order], dtype=np.int64))
    return out


def run_groups(datas: Iterable[RunData]) -> dict[str, dict[str, RunData]]:
    """Group runs by dataset (and split), then by model kind; the first run of a kind wins."""
    groups: dict[str, dict[str, RunData]] = {}
    for data in datas:
        groups.setdefault(_dataset_label(data), {}).setdefault(data.run.model_kind, data)
    return groups


def table1(groups: Mapping[str, Mapping[str, RunData]]) -> Table:
    """Table 1: accuracy (%) of audio only, vision only, naive AV and ours per dataset,
    against the clips' original labels, on the clips all four runs predicted."""
    rows = []
    notes = []
    for dataset, by_kind in groups.items():
        present = [kind for kind in TABLE1_KINDS if kind in by_kind]
        if not present:
            continue
        positions = _common_positions([by_kind[kind] for kind in present])
        accuracy: dict[str, float] = {}
        for kind, pos in zip(present, positions, strict=True):
            data = by_kind[kind]
            accuracy[kind] = metrics.accuracy(data.vote[pos], data.clips.original[pos])
        rows.append((dataset, *[accuracy.get(kind) for kind in TABLE1_KINDS]))
        runs = ", ".join(f"{TABLE1_KINDS[k]} = run {by_kind[k].run.pk}" for k in present)
        notes.append(f"{dataset}: {len(positions[0])} clips predicted by every run ({runs}).")
        missing = [TABLE1_KINDS[k] for k in TABLE1_KINDS if k not in by_kind]
        if missing:
            notes.append(f"{dataset}: no succeeded predict run for {', '.join(missing)}.")
    notes.append("Ours is the vote of the five heads (most confident head when no majority).")
    return Table(
        key="table1",
        title="Table 1. Video-level classification accuracy (%)",
        columns=(Column("Dataset"), *[Column(title, "percent", 1) for title in TABLE1_KINDS.values()]),
        rows=rows,
        notes=notes,
    )


def table2(groups: Mapping[str, Mapping[str, RunData]]) -> Table:
    """Table 2: sample-averaged F1 of our union set and of naive AV's Top-1..5 against the
    original (multi-)labels, on the clips both runs predicted."""
    rows = []
    notes = []
    for dataset, by_kind in groups.items():
        ours, naive = by_kind.get("event_heads"), by_kind.get("naive_av")
        if ours is None or naive is None:
            continue
        pos_ours, pos_naive = _common_positions([ours, naive])
        truth = ours.clips.original[pos_ours]
        top = _top_k_from_stored(naive, pos_naive)
        rows.append(
            (
                dataset,
                metrics.f1_score(truth, ours.union[pos_ours]),
                *[metrics.f1_score(truth, top[k]) for k in TOP_KS],
            )
        )
        notes.append(
            f"{dataset}: {len(pos_ours)} clips, {truth.sum(axis=1).mean():.2f} original labels per clip; "
            f"ours = run {ours.run.pk}, naive AV = run {naive.run.pk}."
        )
    return Table(
        key="table2",
        title="Table 2. Multi-label prediction measured by F1 score",
        columns=(Column("Dataset"), Column("Ours", "float", 2), *[Column(f"Top-{k}", "float", 2) for k in TOP_KS]),
        rows=rows,
        notes=notes + ["F1 per clip averaged over clips; Top-K are the naive AV model's K best classes."],
    )


def _top_k_from_stored(data: RunData, positions: np.ndarray) -> dict[int, np.ndarray]:
    """Top-K indicators from a baseline's stored top-5 list (already sorted best first)."""
    top5 = data.top5[0, positions]  # (N, 5)
    out = {}
    for k in TOP_KS:
        out[k] = metrics.indices_to_indicator([list(row[:k]) for row in top5], len(data.categories))
    return out


def multilabel_details_table(groups: Mapping[str, Mapping[str, RunData]]) -> Table:
    """Precision, recall and F1 (samples, micro, macro) and mean set size of each label set."""
    rows = []
    for dataset, by_kind in groups.items():
        ours, naive = by_kind.get("event_heads"), by_kind.get("naive_av")
        sets: list[tuple[str, np.ndarray, np.ndarray]] = []
        if ours is not None and naive is not None:
            pos_ours, pos_naive = _common_positions([ours, naive])
            truth = ours.clips.original[pos_ours]
            sets.append(("Ours (union)", truth, ours.union[pos_ours]))
            top = _top_k_from_stored(naive, pos_naive)
            sets.extend((f"Naive AV Top-{k}", truth, top[k]) for k in TOP_KS)
        elif ours is not None:
            sets.append(("Ours (union)", ours.clips.original, ours.union))
        for name, truth, pred in sets:
            report = metrics.multilabel_report(truth, pred)
            rows.append(
                (
                    dataset,
                    name,
                    report["samples"].precision,
                    report["samples"].recall,
                    report["samples"].f1,
                    report["micro"].f1,
                    report["macro"].f1,
                    float(pred.sum(axis=1).mean()),
                )
            )
    return Table(
        key="multilabel",
        title="Multi-label prediction: precision, recall and F1",
        columns=(
            Column("Dataset"),
            Column("Label set"),
            Column("Precision (samples)", "float"),
            Column("Recall (samples)", "float"),
            Column("F1 (samples)", "float"),
            Column("F1 (micro)", "float"),
            Column("F1 (macro)", "float"),
            Column("Mean size", "float", 2),
        ),
        rows=rows,
    )


def table3(groups: Mapping[str, Mapping[str, RunData]]) -> Table:
    """Table 3: clips only one AV head gets right, and clips instant or onset gets right
    while continuous fails; plus the other patterns."""
    rows = []
    for dataset, by_kind in groups.items():
        ours = by_kind.get("event_heads")
        if ours is None:
            continue
        correct = metrics.correct_matrix(ours.top1[:3], ours.clips.original)
        c = metrics.complementarity(correct)
        rows.append(
            (
                dataset,
                c.only_continuous,
                c.only_instant,
                c.only_onset,
                c.new_heads_over_continuous,
                c.exactly_two,
                c.all_three,
                c.none,
                c.n_clips,
            )
        )
    return Table(
        key="table3",
        title="Table 3. Layer-wise statistics of correctly predicted videos",
        columns=(
            Column("Dataset"),
            Column("Continuous", "int"),
            Column("Instant", "int"),
            Column("Onset", "int"),
            Column("(Ins. or Ons.) and not Cont.", "int"),
            Column("Exactly two", "int"),
            Column("All three", "int"),
            Column("None", "int"),
            Column("Clips", "int"),
        ),
        rows=rows,
        notes=[
            "Continuous / Instant / Onset: clips that head classifies correctly while the other two do not.",
            "(Ins. or Ons.) and not Cont.: clips the continuous head misses and instant or onset gets right.",
        ],
    )


def clip_event_types(data: RunData) -> np.ndarray:
    """Dominant event type per clip: argmax over heads of the label's probability; the
    run's stored type where probabilities are missing; -1 when neither exists. (N,)"""
    if data.run.model_kind != "event_heads":
        return np.full(len(data.clips.pks), -1, dtype=np.int64)
    computed = metrics.dominant_event_types(data.label_probs)
    return np.where(computed >= 0, computed, data.stored_event_type)


def category_types(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """(C,) event type per category by majority over its clips, and (C, T) the votes."""
    types = clip_event_types(data)
    keep = (types >= 0) & (data.label >= 0)
    n_types = len(metrics.EVENT_TYPES)
    votes = np.bincount(data.label[keep] * n_types + types[keep], minlength=len(data.categories) * n_types).reshape(
        -1, n_types
    )
    return metrics.category_event_types(types, data.label, len(data.categories), n_types), votes


def table4(groups: Mapping[str, Mapping[str, RunData]]) -> Table:
    """Table 4: number of categories assigned to each event type, per dataset."""
    rows = []
    notes = []
    for dataset, by_kind in groups.items():
        ours = by_kind.get("event_heads")
        if ours is None:
            continue
        per_category, _ = category_types(ours)
        counts = metrics.event_type_counts(per_category, len(metrics.EVENT_TYPES))
        rows.append((dataset, *counts.tolist(), int(counts.sum())))
        untyped = int((per_category < 0).sum())
        if untyped:
            notes.append(f"{dataset}: {untyped} categories have no predicted clip and are not counted.")
    return Table(
        key="table4",
        title="Table 4. Event characteristics of datasets (categories per event type)",
        columns=(
            Column("Dataset"),
            *[Column(EVENT_TYPE_TITLES[name], "int") for name in metrics.EVENT_TYPES],
            Column("Total", "int"),
        ),
        rows=rows,
        notes=notes + ["A clip's type: the head most confident in its label; a category's: the majority of its clips."],
    )


def head_accuracy_table(data: RunData) -> Table:
    """Accuracy of each head (and the vote) overall and over clips of each dominant type."""
    types = clip_event_types(data)
    truth = data.clips.original
    predictions = [(head, data.top1[k]) for k, head in enumerate(data.heads)]
    predictions.append(("vote", data.vote))
    rows = []
    for name, pred in predictions:
        hits = metrics.correct_matrix(pred, truth)
        by_type = [
            float(hits[types == t].mean()) if (types == t).any() else None for t in range(len(metrics.EVENT_TYPES))
        ]
        rows.append((name, float(hits.mean()) if hits.size else None, *by_type))
    clips_per_type = [int((types == t).sum()) for t in range(len(metrics.EVENT_TYPES))]
    return Table(
        key="head_accuracy",
        title=f"Accuracy per head, by dominant event type (run {data.run.pk})",
        columns=(
            Column("Head"),
            Column("All clips", "percent", 1),
            *[Column(f"{EVENT_TYPE_TITLES[name]} clips", "percent", 1) for name in metrics.EVENT_TYPES],
        ),
        rows=rows,
        notes=[
            f"{len(types)} clips; by dominant type: "
            + ", ".join(f"{name} {n}" for name, n in zip(metrics.EVENT_TYPES, clips_per_type, strict=True))
            + (f"; {data.errors} clips with an unreadable file left out" if data.errors else "")
        ],
    )


def category_event_types_table(data: RunData) -> Table:
    per_category, votes = category_types(data)
    rows = []
    for index, name in enumerate(data.categories):
        if votes[index].sum() == 0:
            continue
        rows.append((name, metrics.EVENT_TYPES[per_category[index]], int(votes[index].sum()), *votes[index].tolist()))
    return Table(
        key="category_event_types",
        title=f"Event type per category (run {data.run.pk})",
        columns=(
            Column("Category"),
            Column("Event type"),
            Column("Clips", "int"),
            *[Column(EVENT_TYPE_TITLES[name], "int") for name in metrics.EVENT_TYPES],
        ),
        rows=rows,
        notes=["Columns per type: clips of the category whose dominant head is that type."],
    )


def cardinality_table(key: str, title: str, cardinality: metrics.Cardinality, note: str = "") -> Table:
    rows = [(size, int(count)) for size, count in enumerate(cardinality.histogram)]
    return Table(
        key=key,
        title=title,
        columns=(Column("Labels", "int"), Column("Clips", "int")),
        rows=rows,
        notes=[f"Mean: {cardinality.mean:.2f}"] + ([note] if note else []),
    )


def run_cardinality_table(data: RunData) -> Table:
    return cardinality_table(
        "cardinality",
        f"Cardinality of the union set (run {data.run.pk})",
        metrics.cardinality(data.union, max_size=len(data.heads)),
    )


def runs_tables(datas: Sequence[RunData]) -> dict[str, Table]:
    """The paper's Tables 1-4 and the multi-label details over several predict runs."""
    groups = run_groups(datas)
    tables = [table1(groups), table2(groups), multilabel_details_table(groups), table3(groups), table4(groups)]
    return {table.key: table for table in tables}


def run_tables(data: RunData, companions: Sequence[RunData]) -> dict[str, Table]:
    """Everything about one predict run: the paper's tables for its dataset (with the
    newest runs of the other model kinds) and the per-run tables."""
    tables = runs_tables([data, *companions])
    if data.run.model_kind == "event_heads":
        for table in (head_accuracy_table(data), category_event_types_table(data), run_cardinality_table(data)):
            tables[table.key] = table
    else:
        tables[head_accuracy_table(data).key] = head_accuracy_table(data)
    return tables


# --------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------


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
    """One (clip, label) with its votes: a shown label, or one raters added."""

    clip: int
    label: int
    present: int
    absent: int
    unsure: int
    source: str  # "proposal" | "decoy" | "added"

    @property
    def confirmed(self) -> bool:
        return self.present > self.absent

    @property
    def agreement(self) -> float:
        """Share of the decisive votes on the majority side (nan without decisive votes)."""
        decisive = self.present + self.absent
        return max(self.present, self.absent) / decisive if decisive else float("nan")


def label_votes(data: StudyData) -> list[LabelVotes]:
    """Every shown label with its votes, then every added label: present = raters who added
    it, absent = the clip's other raters who completed it (they saw the clip and did not)."""
    items = data.items
    out = [
        LabelVotes(int(c), int(label), int(p), int(a), int(u), "decoy" if decoy else "proposal")
        for c, label, (p, a, u), decoy in zip(items.clip, items.label, items.counts, items.is_decoy, strict=True)
    ]
    out.extend(
        LabelVotes(int(c), int(label), int(votes), int(data.completed[c] - votes), 0, "added")
        for c, label, votes in zip(data.added_clip, data.added_label, data.added_votes, strict=True)
    )
    return out


def missing_labels_table(data: StudyData) -> Table:
    """Labels the raters' majority confirmed that the original annotation lacks."""
    rows = []
    for vote in label_votes(data):
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
        notes=["An added label counts as absent for each rater of the clip who did not add it."],
    )


def rater_quality_table(data: StudyData) -> Table:
    quality = metrics.rater_quality(
        rater=data.judgment_rater,
        item=data.judgment_item,
        answer=data.judgment_answer,
        counts=data.items.counts,
        is_decoy=data.items.is_decoy,
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
            "Gold accuracy: decisive answers on gold clips that match the original labels.",
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
    tables = [
        human_study_table(data, summary),
        study_cardinality_table(data),
        agreement_by_label_table(data),
        missing_labels_table(data),
        rater_quality_table(data),
    ]
    return {table.key: table for table in tables}
