"""Write tables (CSV, JSON, Markdown, LaTeX), the multi-labelled dataset and retargeted
sub-datasets (CSV, JSON). Pure functions from ``Table`` / loaded arrays to text."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from evaluation import metrics
from evaluation.tables import Cell, Column, Table, clip_event_types, label_votes

if TYPE_CHECKING:  # data loaded by selectors; these modules need no Django at run time
    from evaluation.selectors import RunData, StudyData

TABLE_FORMATS: dict[str, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "md": "text/markdown",
    "tex": "text/x-tex",
}
DATASET_FORMATS: dict[str, str] = {"csv": "text/csv", "json": "application/json"}
#: A study's dataset comes in these too (evaluation.dataset_files): JSON Lines, Parquet and a
#: zipped Hugging Face folder.
STUDY_DATASET_FORMATS: dict[str, str] = {
    **DATASET_FORMATS,
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
    "hf": "application/zip",
}
TEXT_DATASET_FORMATS = ("csv", "json", "jsonl")


def dataset_content_type(fmt: str) -> str:
    content_type = STUDY_DATASET_FORMATS[fmt]
    return f"{content_type}; charset=utf-8" if fmt in TEXT_DATASET_FORMATS else content_type


def study_dataset_filename(study_pk: int, fmt: str) -> str:
    return f"study-{study_pk}-dataset-hf.zip" if fmt == "hf" else f"study-{study_pk}-dataset.{fmt}"


# --------------------------------------------------------------------------------------
# CSV: every file this module writes goes through `csv_text`
# --------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): =HYPERLINK(...) in a category or rater name would run on the researcher's
# machine. Such text gets a leading ' (shown as text, hidden by spreadsheets); text already
# starting with quotes before one of them gets one more, so `csv_cell_text` reads every
# string back exactly.
_FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")


def csv_cell(value: object) -> str:
    """A value as a CSV cell: text neutralised against formulas, numbers as they are (repr
    of floats round-trips; -0.25 stays a number), None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if _FORMULA_START.match(value) else value
    if isinstance(value, float):
        return float.__repr__(value)  # numpy floats too, without numpy's "np.float64(...)"
    return str(value)


def csv_cell_text(cell: str) -> str:
    """The text `csv_cell` wrote: its neutralising quote taken off."""
    return cell[1:] if cell.startswith("'") and _FORMULA_START.match(cell) else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file: the header, then one line per row, each cell through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def table_to_csv(table: Table) -> str:
    return csv_text([column.name for column in table.columns], table.rows)


def table_from_csv(text: str, *, key: str, title: str, columns: Sequence[Column]) -> Table:
    """Read a CSV written by ``table_to_csv`` back, typing cells by the given columns."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    header = None if header is None else [csv_cell_text(name) for name in header]
    if header != [column.name for column in columns]:
        raise ValueError(f"CSV header {header} does not match the columns {[c.name for c in columns]}")
    rows = []
    for line, cells in enumerate(reader, start=2):
        if len(cells) != len(columns):
            raise ValueError(f"line {line}: {len(cells)} cells, expected {len(columns)}")
        rows.append(tuple(_parse(cell, column) for cell, column in zip(cells, columns, strict=True)))
    return Table(key=key, title=title, columns=tuple(columns), rows=rows)


def _parse(cell: str, column: Column) -> Cell:
    if column.kind == "text":
        return csv_cell_text(cell)
    if cell == "":
        return None
    return int(cell) if column.kind == "int" else float(cell)


def table_to_json(table: Table) -> str:
    return json.dumps(table.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)


def table_from_json(text: str) -> Table:
    return Table.from_dict(json.loads(text))


def format_cell(value: Cell, column: Column, *, missing: str = "n/a", percent_sign: str = "%") -> str:
    """A cell for reading: decimals per column, percentages scaled, None as ``missing``."""
    if value is None:
        return missing
    if column.kind == "text":
        return str(value)
    if column.kind == "int":
        return str(int(value))
    number = float(value)
    if column.kind == "percent":
        return f"{number * 100:.{column.digits}f}{percent_sign}"
    if column.kind == "number" and math.isfinite(number) and number.is_integer():
        return str(int(number))
    return f"{number:.{column.digits}f}"


def markdown_escape(text: str) -> str:
    """Text for a Markdown table: raw HTML escaped (a renderer would run `<script>` in a
    category name), table syntax escaped, one line."""
    text = html.escape(text, quote=False)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table_to_markdown(table: Table) -> str:
    align = ["---" if column.kind == "text" else "---:" for column in table.columns]
    lines = [
        f"### {markdown_escape(table.title)}",
        "",
        "| " + " | ".join(markdown_escape(column.name) for column in table.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        cells = [markdown_escape(format_cell(value, column)) for value, column in zip(row, table.columns, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    if table.notes:
        lines.append("")
        lines.extend(f"- {markdown_escape(note)}" for note in table.notes)
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LATEX_PATTERN = re.compile("|".join(re.escape(char) for char in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters (and fold line breaks) so text sets as written."""
    return _LATEX_PATTERN.sub(lambda match: _LATEX_SPECIAL[match.group(0)], text.replace("\n", " "))


def table_to_latex(table: Table) -> str:
    """A booktabs ``tabular`` fragment (needs ``\\usepackage{booktabs}``); title and notes as
    comments, so the fragment drops into any ``table`` environment."""
    spec = "".join("l" if column.kind == "text" else "r" for column in table.columns)
    lines = [f"% {latex_escape(table.title)}"]
    lines.extend(f"% {latex_escape(note)}" for note in table.notes)
    lines += [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(column.name) for column in table.columns) + " \\\\",
        "\\midrule",
    ]
    for row in table.rows:
        cells = [
            latex_escape(format_cell(value, column, missing="--", percent_sign="%"))
            for value, column in zip(row, table.columns, strict=True)
        ]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


TABLE_WRITERS: dict[str, Callable[[Table], str]] = {
    "csv": table_to_csv,
    "json": table_to_json,
    "md": table_to_markdown,
    "tex": table_to_latex,
}


def table_render(table: Table, fmt: str) -> str:
    """The table in one of ``TABLE_FORMATS``; ValueError for any other format."""
    writer = TABLE_WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"Unknown table format {fmt!r}; use one of {', '.join(TABLE_WRITERS)}.")
    return writer(table)


# --------------------------------------------------------------------------------------
# The multi-labelled dataset of a study
# --------------------------------------------------------------------------------------

DATASET_CSV_COLUMNS = (
    "clip_id",
    "youtube_id",
    "start_seconds",
    "original_labels",
    "label",
    "source",
    "confirmed",
    "adjudicated",
    "in_original",
    "votes_present",
    "votes_absent",
    "votes_unsure",
    "agreement",
    "modality",
    "votes_A",
    "votes_V",
    "votes_AV",
    "raters",
    "is_gold",
)


def study_dataset_records(data: StudyData, *, include_rejected: bool = False) -> list[dict]:
    """The records of ``study_dataset_record_iter`` as a list."""
    return list(study_dataset_record_iter(data, include_rejected=include_rejected))


def study_dataset_record_iter(data: StudyData, *, include_rejected: bool = False) -> Iterator[dict]:
    """One record per rated clip: its original labels and its consensus labels, each with
    votes and agreement (share of decisive votes on the majority side) and where it is:
    the modality consensus (A heard only, V seen only, AV both; None without modality
    votes) with its votes. With ``include_rejected`` every judged label is listed, with
    ``confirmed`` telling which. ``adjudicated`` marks a label the researcher decided: its
    ``confirmed`` (and, when they gave one, its ``modality``) is their decision, not the vote."""
    by_clip: dict[int, list] = {}
    for vote in label_votes(data, confirmed_only=not include_rejected):
        by_clip.setdefault(vote.clip, []).append(vote)
    for n, clip_id in enumerate(data.clips.clip_ids):
        original = [data.categories[i] for i in np.flatnonzero(data.clips.original[n])]
        labels = sorted(by_clip.get(n, []), key=lambda v: (-v.present, data.categories[v.label]))
        yield (
            {
                "clip_id": clip_id,
                "youtube_id": data.clips.youtube_ids[n],
                "start_seconds": data.clips.starts[n],
                "original_labels": original,
                "raters": int(data.completed[n]),
                "is_gold": bool(data.is_gold[n]),
                "labels": [
                    {
                        "label": data.categories[v.label],
                        "source": v.source,
                        "confirmed": v.confirmed,
                        "adjudicated": v.adjudicated,
                        "in_original": bool(data.clips.original[n, v.label]),
                        "votes": {"present": v.present, "absent": v.absent, "unsure": v.unsure},
                        "agreement": None if math.isnan(v.agreement) else v.agreement,
                        "modality": v.modality,
                        "modality_votes": dict(zip(metrics.MODALITIES, v.modality_votes, strict=True)),
                    }
                    for v in labels
                ],
            }
        )


def dataset_to_json(records: Sequence[dict], *, meta: dict) -> str:
    return json.dumps({**meta, "clips": list(records)}, indent=2, ensure_ascii=False, allow_nan=False)


def dataset_to_csv(records: Iterable[dict]) -> str:
    """Long format: one row per (clip, label); a clip without a listed label gets one row
    with an empty label so every clip appears. Original labels are ';'-joined. Rows are
    written as the records come (a generator of records is never held whole)."""
    return csv_text(DATASET_CSV_COLUMNS, _dataset_csv_rows(records))


def _dataset_csv_rows(records: Iterable[dict]) -> Iterator[list]:
    for record in records:
        head = [record["clip_id"], record["youtube_id"], record["start_seconds"], ";".join(record["original_labels"])]
        tail = [record["raters"], int(record["is_gold"])]
        if not record["labels"]:
            yield [*head, *[None] * 13, *tail]
        for label in record["labels"]:
            yield (
                [
                    *head,
                    label["label"],
                    label["source"],
                    int(label["confirmed"]),
                    int(label["adjudicated"]),
                    int(label["in_original"]),
                    label["votes"]["present"],
                    label["votes"]["absent"],
                    label["votes"]["unsure"],
                    label["agreement"],
                    label["modality"],
                    *(label["modality_votes"][code] for code in metrics.MODALITIES),
                    *tail,
                ]
            )


# --------------------------------------------------------------------------------------
# Retargeting: the clips of one event type or modality
# --------------------------------------------------------------------------------------

#: Modality groups of event types, beside each single event type.
RETARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "audio-visual": ("continuous", "instant", "onset"),
    "visual-only": ("visual",),
    "audio-only": ("audio",),
    **{name: (name,) for name in metrics.EVENT_TYPES},
}
RETARGET_CSV_COLUMNS = ("clip_id", "youtube_id", "start_seconds", "original_labels", "event_type", "vote", "union")


def retarget_types(target: str) -> tuple[str, ...]:
    types = RETARGET_GROUPS.get(target)
    if types is None:
        raise ValueError(f"Unknown retarget {target!r}; use one of {', '.join(RETARGET_GROUPS)}.")
    return types


def retarget_records(data: RunData, *, target: str) -> list[dict]:
    """The clips of an event-head predict run whose dominant event type is in ``target``."""
    wanted = {metrics.EVENT_TYPES.index(name) for name in retarget_types(target)}
    if data.run.model_kind != "event_heads":
        raise ValueError("Retargeting needs a predict run of the event-head model.")
    types = clip_event_types(data)
    records = []
    for n in np.flatnonzero(np.isin(types, list(wanted))):
        records.append(
            {
                "clip_id": data.clips.clip_ids[n],
                "youtube_id": data.clips.youtube_ids[n],
                "start_seconds": data.clips.starts[n],
                "original_labels": [data.categories[i] for i in np.flatnonzero(data.clips.original[n])],
                "event_type": metrics.EVENT_TYPES[types[n]],
                "vote": data.categories[data.vote[n]] if data.vote[n] >= 0 else None,
                "union": [data.categories[i] for i in np.flatnonzero(data.union[n])],
            }
        )
    return records


def retarget_to_csv(records: Sequence[dict]) -> str:
    rows = [
        [
            r["clip_id"],
            r["youtube_id"],
            r["start_seconds"],
            ";".join(r["original_labels"]),
            r["event_type"],
            r["vote"],
            ";".join(r["union"]),
        ]
        for r in records
    ]
    return csv_text(RETARGET_CSV_COLUMNS, rows)
