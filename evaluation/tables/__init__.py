"""The paper's tables and the study tables, built from arrays loaded by ``selectors``.

A ``Table`` (``table``) is a small dataclass (key, title, typed columns, rows, notes);
``exporters`` writes it as CSV, JSON, Markdown or LaTeX. The builders (``runs`` for
predict runs, ``studies`` for human studies) compute with ``metrics`` only. Every public
name is importable from here.
"""

from evaluation.tables.runs import (
    EVENT_TYPE_TITLES,
    TABLE1_KINDS,
    TOP_KS,
    category_event_types_table,
    category_types,
    clip_event_types,
    head_accuracy_table,
    multilabel_details_table,
    run_cardinality_table,
    run_groups,
    run_tables,
    runs_tables,
    table1,
    table2,
    table3,
    table4,
)
from evaluation.tables.studies import (
    LabelVotes,
    agreement_by_label_table,
    human_study_table,
    label_votes,
    missing_labels_table,
    rater_quality_table,
    study_cardinality_table,
    study_tables,
)
from evaluation.tables.table import COLUMN_KINDS, Cell, Column, Table, cardinality_table

__all__ = [
    "COLUMN_KINDS",
    "EVENT_TYPE_TITLES",
    "TABLE1_KINDS",
    "TOP_KS",
    "Cell",
    "Column",
    "LabelVotes",
    "Table",
    "agreement_by_label_table",
    "cardinality_table",
    "category_event_types_table",
    "category_types",
    "clip_event_types",
    "head_accuracy_table",
    "human_study_table",
    "label_votes",
    "missing_labels_table",
    "multilabel_details_table",
    "rater_quality_table",
    "run_cardinality_table",
    "run_groups",
    "run_tables",
    "runs_tables",
    "study_cardinality_table",
    "study_tables",
    "table1",
    "table2",
    "table3",
    "table4",
]
