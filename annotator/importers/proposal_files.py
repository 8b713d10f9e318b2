"""Proposal files (CSV or JSON, see docs/generic_csv.md) into a proposal set.

CSV: a header row with `clip_id,label` and optionally `score` and `heads` (`;`-separated).
JSON: a list of `{"clip_id": ..., "labels": [{"label": ..., "score": ..., "heads": [...]}]}`
items, optionally with the clip's evidence (`event_type`, `instant_seconds`,
`onset_seconds`, `heatmap_path`). Errors carry the line of the CSV row or of the JSON item.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from numbers import Real
from pathlib import Path

from annotator.importers.proposals import EvidenceRow, ProposalRow, proposal_set_store
from annotator.importers.readers import Record, csv_records, text_read
from annotator.importers.report import ImportInputError, ImportReport, RowError
from annotator.models import Dataset, ProposalSet

PROPOSAL_FORMATS = ("csv", "json")
CSV_REQUIRED = ("clip_id", "label")
EVIDENCE_KEYS = ("event_type", "instant_seconds", "onset_seconds", "heatmap_path")
_SPACE = re.compile(r"[ \t\n\r]*")

ParsedRows = tuple[list[ProposalRow], list[EvidenceRow], list[RowError]]


def proposals_import(*, dataset: Dataset, name: str, path: Path | str, file_format: str = "") -> ImportReport:
    """Store the proposals of a CSV or JSON file (format from the file's suffix unless
    given) as proposal set `name`, replacing the set's previous content."""
    file_format = file_format or ("json" if Path(path).suffix.lower() == ".json" else "csv")
    if file_format not in PROPOSAL_FORMATS:
        raise ImportInputError(f"unknown proposal format {file_format!r}; use one of {', '.join(PROPOSAL_FORMATS)}")
    text = text_read(path=path)
    proposals, evidence, errors = (proposal_rows_json if file_format == "json" else proposal_rows_csv)(text)
    if not proposals:
        raise ImportInputError(f"no usable proposal in {path} ({len(errors)} bad rows)")
    return proposal_set_store(
        dataset=dataset,
        name=name,
        source=ProposalSet.Source.FILE,
        source_ref=str(path),
        proposals=proposals,
        evidence=evidence,
        errors=errors,
    )


def proposal_rows_csv(text: str) -> ParsedRows:
    proposals: list[ProposalRow] = []
    errors: list[RowError] = []
    records = csv_records(text)
    header = next(records, None)
    if header is None:
        return proposals, [], errors
    if not isinstance(header, Record):
        raise ImportInputError(f"the header row cannot be read: {header[1]}")
    columns = [value.strip().lower() for value in header.fields]
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        raise ImportInputError(f"the header row lacks the column(s) {', '.join(missing)}; it has {', '.join(columns)}")
    for record in records:
        if not isinstance(record, Record):
            errors.append(RowError(*record))
            continue
        if len(record.fields) != len(columns):
            errors.append(RowError(record.line, f"expected {len(columns)} columns, got {len(record.fields)}"))
            continue
        cells = dict(zip(columns, (value.strip() for value in record.fields), strict=True))
        score = _score(cells.get("score", ""))
        if isinstance(score, str):
            errors.append(RowError(record.line, score))
            continue
        heads = tuple(dict.fromkeys(head.strip() for head in cells.get("heads", "").split(";") if head.strip()))
        proposals.append(ProposalRow(cells["clip_id"], cells["label"], score, heads, line=record.line))
    return proposals, [], errors


def proposal_rows_json(text: str) -> ParsedRows:
    proposals: list[ProposalRow] = []
    evidence: list[EvidenceRow] = []
    errors: list[RowError] = []
    for line, item in json_list_items(text):
        if not isinstance(item, dict) or not isinstance(item.get("clip_id"), str) or not item["clip_id"]:
            errors.append(RowError(line, "an item must be an object with a non-empty string clip_id"))
            continue
        labels = item.get("labels", [])
        if not isinstance(labels, list):
            errors.append(RowError(line, f"labels of clip {item['clip_id']!r} must be a list"))
            continue
        for position, entry in enumerate(labels, start=1):
            row = _json_label(item["clip_id"], entry, line)
            if isinstance(row, str):
                errors.append(RowError(line, f"clip {item['clip_id']!r}, label {position}: {row}"))
            else:
                proposals.append(row)
        if any(key in item for key in EVIDENCE_KEYS):
            row = _json_evidence(item, line)
            (errors if isinstance(row, RowError) else evidence).append(row)
    return proposals, evidence, errors


def _json_label(clip_id: str, entry: object, line: int) -> ProposalRow | str:
    if not isinstance(entry, dict) or not isinstance(entry.get("label"), str) or not entry["label"].strip():
        return 'must be an object with a non-empty string "label"'
    score = entry.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, Real) or not math.isfinite(score)):
        return f"score {score!r} is not a finite number"
    heads = entry.get("heads", [])
    if not isinstance(heads, list) or not all(isinstance(head, str) and head.strip() for head in heads):
        return "heads must be a list of non-empty strings"
    return ProposalRow(
        clip_id,
        entry["label"].strip(),
        score,
        tuple(dict.fromkeys(head.strip() for head in heads)),
        line=line,
    )


def _json_evidence(item: dict, line: int) -> EvidenceRow | RowError:
    event_type, heatmap = item.get("event_type", ""), item.get("heatmap_path", "")
    moments = {key: item.get(key, []) for key in ("instant_seconds", "onset_seconds")}
    if not isinstance(event_type, str) or not isinstance(heatmap, str):
        return RowError(line, f"event_type and heatmap_path of clip {item['clip_id']!r} must be strings")
    for key, values in moments.items():
        if not isinstance(values, list) or not all(
            isinstance(value, Real) and not isinstance(value, bool) for value in values
        ):
            return RowError(line, f"{key} of clip {item['clip_id']!r} must be a list of numbers")
    return EvidenceRow(
        item["clip_id"],
        event_type=event_type,
        instant_seconds=tuple(moments["instant_seconds"]),
        onset_seconds=tuple(moments["onset_seconds"]),
        heatmap_path=heatmap,
        line=line,
    )


def _score(raw: str) -> float | None | str:
    """None for an empty cell, the number, or an error message."""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return f"score {raw!r} is not a number"
    return value if math.isfinite(value) else f"score {raw!r} is not a finite number"


def json_list_items(text: str, *, what: str = "a JSON proposal file") -> Iterator[tuple[int, object]]:
    """The items of a top-level JSON list, each with the line it starts on. Invalid JSON
    makes the whole file unusable (ImportInputError with the line and column)."""
    decoder = json.JSONDecoder()
    pos = _SPACE.match(text).end()
    if not text.startswith("[", pos):
        raise ImportInputError(f"{what} holds a list: [{{...}}, ...]")
    line, counted = 1, 0
    pos = _SPACE.match(text, pos + 1).end()
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            line += text.count("\n", counted, pos)
            counted = pos
            try:
                item, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise ImportInputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
            except RecursionError:
                raise ImportInputError(f"invalid JSON at line {line}: nested too deeply") from None
            yield line, item
            pos = _SPACE.match(text, pos).end()
            if text.startswith(",", pos):
                pos = _SPACE.match(text, pos + 1).end()
            elif text.startswith("]", pos):
                pos += 1
                break
            else:
                raise ImportInputError(f"invalid JSON at line {text.count(chr(10), 0, pos) + 1}: expected ',' or ']'")
    if _SPACE.match(text, pos).end() != len(text):
        raise ImportInputError(f"invalid JSON at line {text.count(chr(10), 0, pos) + 1}: text after the list")
