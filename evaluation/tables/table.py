"""The ``Table`` every builder returns: a key, a title, typed columns, rows and notes.

``exporters`` writes it as CSV, JSON, Markdown or LaTeX; ``to_dict`` / ``from_dict`` are how
a report stores it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from evaluation import metrics

Cell = str | int | float | None
COLUMN_KINDS = ("text", "int", "float", "number", "percent")


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


def cardinality_table(key: str, title: str, cardinality: metrics.Cardinality, note: str = "") -> Table:
    rows = [(size, int(count)) for size, count in enumerate(cardinality.histogram)]
    return Table(
        key=key,
        title=title,
        columns=(Column("Labels", "int"), Column("Clips", "int")),
        rows=rows,
        notes=[f"Mean: {cardinality.mean:.2f}"] + ([note] if note else []),
    )
