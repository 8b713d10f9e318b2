"""The paper's Tables 1-4 and the per-run tables, from predict runs loaded by ``selectors``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from evaluation import metrics
from evaluation.tables.table import Column, Table, cardinality_table

if TYPE_CHECKING:  # data loaded by selectors; this module needs no Django at run time
    from evaluation.selectors import RunData

#: Table 1's columns: model kind -> heading, in the paper's order.
TABLE1_KINDS: dict[str, str] = {
    "audio_only": "Audio Only",
    "vision_only": "Vision Only",
    "naive_av": "Naive AV",
    "event_heads": "Ours",
}
TOP_KS = (1, 2, 3, 4, 5)
EVENT_TYPE_TITLES = {name: name.capitalize() for name in metrics.EVENT_TYPES}


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
