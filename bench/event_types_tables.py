"""The tables of the event-type bench, from each seed's logits on the test clips.

Every cell is a mean over seeds and clips with a 95% interval (``event_types_stats``). The
decisions (vote, union, dominant event type) are the model library's own, applied to logits
saved by ``modelzoo.nn.infer.head_logits``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bench.event_types_stats import Estimate, bootstrap
from modelzoo import synthetic
from modelzoo.nn.model import HEAD_NAMES, event_types, union_labels, vote

TOP_KS = (1, 2, 3, 4, 5)
MAX_SET = len(HEAD_NAMES)


@dataclass(frozen=True)
class SeedRun:
    """One training seed's outputs on the evaluated clips: {head: (N, C) logits} and naive AV's (N, C)."""

    ours: dict[str, np.ndarray]
    naive: np.ndarray

    def probs(self) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(values).softmax(dim=-1) for name, values in self.ours.items()}


def _picked(rows: Sequence[dict], event_type: str) -> list[int]:
    return [i for i, row in enumerate(rows) if row["event_type"] == event_type]


def _f1(predicted: Sequence[int], truth: Sequence[int]) -> float:
    hits = len(set(predicted) & set(truth))
    return 2 * hits / (len(set(predicted)) + len(set(truth)))


def _columns(run: SeedRun) -> dict[str, np.ndarray]:
    """Per clip, each column's single-label prediction: the five heads, the vote, naive AV."""
    predicted = {name: values.argmax(axis=1) for name, values in run.ours.items()}
    predicted["vote"] = vote(run.probs()).numpy()
    predicted["naive_av"] = run.naive.argmax(axis=1)
    return predicted


def accuracy(rows: Sequence[dict], runs: Sequence[SeedRun]) -> tuple[str, dict[tuple[str, str], Estimate]]:
    """Accuracy of each head, the vote and naive AV by event type (single-source clips)."""
    labels = np.array([row["label"] for row in rows])
    correct = [{name: guess == labels for name, guess in _columns(run).items()} for run in runs]
    columns = [*HEAD_NAMES, "vote", "naive_av"]
    groups = [(t, _picked(rows, t)) for t in synthetic.EVENT_TYPES]
    groups.append(("all single-source", [i for i, row in enumerate(rows) if row["event_type"] != "multi-source"]))
    cells: dict[tuple[str, str], Estimate] = {}
    lines = [
        "| event type (head built for it) | n | " + " | ".join(columns) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for group, picked in groups:
        row_cells = []
        for column in columns:
            estimate = bootstrap(np.stack([c[column][picked] for c in correct]))
            cells[(group, column)] = estimate
            own = synthetic.EVENT_TYPE_HEAD.get(group) == column
            row_cells.append(f"**{estimate}**" if own else str(estimate))
        name = f"{group} ({synthetic.EVENT_TYPE_HEAD[group]})" if group in synthetic.EVENT_TYPE_HEAD else group
        lines.append(f"| {name} | {len(picked)} | " + " | ".join(row_cells) + " |")
    return "\n".join(lines), cells


def accuracy_targets(cells: dict[tuple[str, str], Estimate]) -> str:
    lines = []
    for event_type in synthetic.EVENT_TYPES[1:]:
        head = synthetic.EVENT_TYPE_HEAD[event_type]
        own, continuous = cells[(event_type, head)], cells[(event_type, "continuous")]
        verdict = "met" if own.above(continuous) else "MISSED"
        lines.append(f"- {head} head on {event_type} clips: {own} vs continuous {continuous}: {verdict}")
    vote_all, naive_all = cells[("all single-source", "vote")], cells[("all single-source", "naive_av")]
    verdict = "met" if vote_all.mean >= naive_all.mean else "MISSED"
    lines.append(f"- vote overall {vote_all} vs naive AV {naive_all} (mean at least as good): {verdict}")
    return "\n".join(lines)


def dominant_types(rows: Sequence[dict], runs: Sequence[SeedRun], *, on: str) -> str:
    """Confusion of construction type vs the dominant head argmax_i score_i[y] (``on``: logits or softmax).

    Single-source clips use their label; each source of a multi-source clip adds a row for its
    class and its own event type.
    """
    cases: list[tuple[int, int, str]] = []  # (clip position, class, construction type)
    for i, row in enumerate(rows):
        if row["event_type"] == synthetic.MULTI_SOURCE:
            cases += [(i, source["class_index"], source["event_type"]) for source in row["sources"]]
        else:
            cases.append((i, row["label"], row["event_type"]))
    clip = torch.tensor([c[0] for c in cases])
    labels = torch.tensor([c[1] for c in cases])
    found = []
    for run in runs:
        scores = run.probs() if on == "softmax" else {n: torch.from_numpy(v) for n, v in run.ours.items()}
        found.append(event_types({n: s[clip] for n, s in scores.items()}, labels))
    lines = [
        "| construction type | n | " + " | ".join(HEAD_NAMES) + " | agreement |",
        "| --- | ---: | " + " | ".join("---:" for _ in HEAD_NAMES) + " | ---: |",
    ]
    for multi in (False, True):
        for event_type in synthetic.EVENT_TYPES:
            picked = [
                k
                for k, c in enumerate(cases)
                if c[2] == event_type and (rows[c[0]]["event_type"] == "multi-source") == multi
            ]
            if not picked:
                continue
            shares = [np.mean([f[k] == head for f in found for k in picked]) for head in HEAD_NAMES]
            own = synthetic.EVENT_TYPE_HEAD[event_type]
            agree = bootstrap(np.array([[f[k] == own for k in picked] for f in found]))
            name = f"{'multi-source: ' if multi else ''}{event_type}"
            lines.append(f"| {name} | {len(picked)} | " + " | ".join(f"{s:.2f}" for s in shares) + f" | {agree} |")
    return "\n".join(lines)


def logits_vs_softmax(rows: Sequence[dict], runs: Sequence[SeedRun]) -> float:
    """Share of single-source clips where the two readings of 'highest score' pick different heads."""
    picked = [i for i, row in enumerate(rows) if row["event_type"] != synthetic.MULTI_SOURCE]
    labels = torch.tensor([rows[i]["label"] for i in picked])
    differ = []
    for run in runs:
        on_logits = event_types({n: torch.from_numpy(v)[picked] for n, v in run.ours.items()}, labels)
        on_probs = event_types({n: p[picked] for n, p in run.probs().items()}, labels)
        differ += [a != b for a, b in zip(on_logits, on_probs, strict=True)]
    return float(np.mean(differ))


def multi_label(rows: Sequence[dict], runs: Sequence[SeedRun]) -> tuple[str, Estimate, Estimate]:
    """Per-sample F1 of the union of the heads vs naive-AV Top-K on multi-source clips."""
    picked = _picked(rows, synthetic.MULTI_SOURCE)
    truth = [rows[i]["labels"] for i in picked]
    unions = [[u for k, u in enumerate(union_labels(run.probs())) if k in set(picked)] for run in runs]
    union = bootstrap(np.array([[_f1(p, t) for p, t in zip(u, truth, strict=True)] for u in unions]))
    size = bootstrap(np.array([[len(p) for p in u] for u in unions]))
    lines = [
        "| prediction | per-sample F1 | set size |",
        "| --- | ---: | ---: |",
        f"| union of the heads (ours) | {union} | {size} |",
    ]
    best = Estimate(float("-inf"), float("-inf"), float("-inf"))
    for k in TOP_KS:
        tops = [np.argsort(-run.naive[picked], axis=1)[:, :k] for run in runs]
        estimate = bootstrap(np.array([[_f1(p.tolist(), t) for p, t in zip(top, truth, strict=True)] for top in tops]))
        best = estimate if estimate.mean > best.mean else best
        lines.append(f"| naive AV Top-{k} | {estimate} | {k} |")
    lines.append(f"\n{len(picked)} multi-source test clips, 2 true labels each; training saw one (crc32 rule).")
    return "\n".join(lines), union, best


def set_sizes(rows: Sequence[dict], runs: Sequence[SeedRun]) -> str:
    """Distribution of the union's size |P| against the true number of labels."""
    unions = [union_labels(run.probs()) for run in runs]
    lines = [
        "| true labels | n | " + " | ".join(f"|P|={k}" for k in range(1, MAX_SET + 1)) + " | mean |P| |",
        "| --- | ---: | " + " | ".join("---:" for _ in range(MAX_SET)) + " | ---: |",
    ]
    for count in (1, 2):
        picked = [i for i, row in enumerate(rows) if len(row["labels"]) == count]
        sizes = np.array([[len(u[i]) for i in picked] for u in unions])
        shares = [f"{np.mean(sizes == k):.2f}" for k in range(1, MAX_SET + 1)]
        lines.append(f"| {count} | {len(picked)} | " + " | ".join(shares) + f" | {bootstrap(sizes)} |")
    return "\n".join(lines)
