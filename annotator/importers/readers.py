"""Reading source files: whole-file UTF-8 text and CSV records with their line numbers.

Files are read completely before anything is written, so an undecodable file is refused
up front instead of half-imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from annotator.importers.report import ImportInputError


@dataclass(frozen=True)
class Record:
    """One CSV record: `line` is the 1-based line it starts on."""

    line: int
    fields: list[str]


def text_read(*, path: Path | str) -> str:
    """The file's text (UTF-8, an optional byte-order mark dropped); ImportInputError if it
    is missing, a folder, unreadable or not UTF-8."""
    path = Path(path)
    if not path.exists():
        raise ImportInputError(f"file not found: {path}")
    if not path.is_file():
        raise ImportInputError(f"not a file: {path}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ImportInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ImportInputError(f"{path} is not UTF-8 text (line {line}: {exc.reason})") from exc


def csv_records(text: str, *, delimiter: str = ",") -> Iterator[Record | tuple[int, str]]:
    """Records of a CSV text, blank lines skipped. A record the csv module cannot parse, or a
    quoted field that runs over several lines (an unbalanced quote), comes out as a
    `(line, message)` pair so the caller can report it and carry on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next_line = 1
    while True:
        start = next_line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                message = f"unbalanced quote: a quoted field opened on line {start} is never closed"
            else:
                message = f"malformed CSV: {exc}"
            next_line = reader.line_num + 1
            yield (start, message)
            continue
        next_line = reader.line_num + 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if any("\n" in value or "\r" in value for value in fields):
            yield (start, f"unbalanced quote: a quoted field runs from line {start} to line {reader.line_num}")
            continue
        yield Record(start, fields)
