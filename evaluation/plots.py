"""Figures as PNG or SVG bytes, drawn with matplotlib's Agg backend from tables.

Each ``plot_*`` takes a ``Table`` built by ``evaluation.tables`` (so a figure always shows
what the table beside it says) and returns a matplotlib Figure; ``figure_render`` turns
it into bytes and closes it.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from evaluation import metrics  # noqa: E402
from evaluation.tables import EVENT_TYPE_TITLES, Table  # noqa: E402

PLOT_FORMATS: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
_TYPE_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#8172B3", "#C44E52")


def figure_render(figure: Figure, fmt: str) -> bytes:
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"Unknown plot format {fmt!r}; use one of {', '.join(PLOT_FORMATS)}.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=120, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def _figure(width: float = 6.0, height: float = 3.6) -> Figure:
    # A bare Figure (no pyplot state): safe in web workers and threads.
    return Figure(figsize=(width, height))


def plot_cardinality(table: Table) -> Figure:
    """Histogram of label-set sizes from a cardinality table (Labels, Clips)."""
    figure = _figure()
    axes = figure.subplots()
    sizes = [row[0] for row in table.rows]
    clips = [row[1] for row in table.rows]
    axes.bar(sizes, clips, color=_TYPE_COLOURS[0])
    axes.set_xlabel("labels per clip")
    axes.set_ylabel("clips")
    axes.set_xticks(sizes)
    axes.set_title(table.title, fontsize=10)
    return figure


def plot_head_accuracy(table: Table) -> Figure:
    """Grouped bars: accuracy (%) of each head over the clips of each dominant event type."""
    figure = _figure(7.5, 3.8)
    axes = figure.subplots()
    heads = [row[0] for row in table.rows]
    n_types = len(metrics.EVENT_TYPES)
    width = 0.8 / n_types
    for t, name in enumerate(metrics.EVENT_TYPES):
        values = [(row[2 + t] or 0.0) * 100 for row in table.rows]
        positions = [h + (t - (n_types - 1) / 2) * width for h in range(len(heads))]
        axes.bar(positions, values, width, label=f"{EVENT_TYPE_TITLES[name]} clips", color=_TYPE_COLOURS[t])
    axes.set_xticks(range(len(heads)))
    axes.set_xticklabels(heads)
    axes.set_ylabel("accuracy (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=7, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    axes.set_title(table.title, fontsize=10)
    return figure


def plot_event_types(table: Table) -> Figure:
    """Stacked bars: categories per event type for each dataset row of Table 4."""
    figure = _figure(6.5, 0.9 + 0.5 * max(len(table.rows), 1))
    axes = figure.subplots()
    datasets = [row[0] for row in table.rows]
    left = [0] * len(datasets)
    for t, name in enumerate(metrics.EVENT_TYPES):
        counts = [row[1 + t] or 0 for row in table.rows]
        axes.barh(datasets, counts, left=left, label=EVENT_TYPE_TITLES[name], color=_TYPE_COLOURS[t])
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set_xlabel("categories")
    axes.invert_yaxis()
    axes.legend(fontsize=7, ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return figure


def plot_acceptance_by_class(table: Table, *, top: int = 30) -> Figure:
    """Horizontal bars: share of each label's proposals confirmed, for the most-proposed labels."""
    rows = [row for row in table.rows if row[2] is not None][:top]
    figure = _figure(6.5, 0.9 + 0.22 * max(len(rows), 1))
    axes = figure.subplots()
    names = [f"{row[0]} ({row[1]})" for row in rows]
    axes.barh(names, [row[2] * 100 for row in rows], color=_TYPE_COLOURS[2])
    axes.set_xlim(0, 100)
    axes.set_xlabel("proposals confirmed (%)")
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(f"Acceptance by label (top {len(rows)} by proposals)", fontsize=10)
    return figure


#: Which plot comes from which table: plot key -> (table key, drawer).
PLOTS = {
    "cardinality": ("cardinality", plot_cardinality),
    "head_accuracy": ("head_accuracy", plot_head_accuracy),
    "event_types": ("table4", plot_event_types),
    "acceptance_by_class": ("agreement_by_label", plot_acceptance_by_class),
}


def available_plots(tables: dict[str, Table]) -> list[str]:
    """The plot keys whose source table exists and has rows."""
    return [key for key, (table_key, _) in PLOTS.items() if table_key in tables and tables[table_key].rows]


def plot_render(tables: dict[str, Table], key: str, fmt: str) -> bytes:
    """Draw plot ``key`` from its table in ``tables``; KeyError when it has no data."""
    if key not in PLOTS:
        raise KeyError(key)
    table_key, drawer = PLOTS[key]
    if key not in available_plots(tables):
        raise KeyError(key)
    return figure_render(drawer(tables[table_key]), fmt)
