"""Set-based upserts for large imports, on PostgreSQL and SQLite (3.35+) alike.

`bulk_create` builds a model instance and prepares every concrete field of every row; for
the ~200k clips of VGGSound that is most of an import's time. The statement here sends only
the columns an importer owns, many rows a statement, in chunks the backend accepts.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

ROWS_PER_STATEMENT = 1000
#: Rows per COPY: the text buffer of one chunk is what a copy holds in memory.
ROWS_PER_COPY = 50_000
#: Field types whose values the field adapts before they are sent (the others go as they are).
ADAPTED_TYPES = frozenset({"JSONField", "DateTimeField"})


def rows_upsert(
    *,
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    unique_fields: Sequence[str],
    update_fields: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """`INSERT INTO <model> (fields) VALUES ... ON CONFLICT (unique_fields) DO UPDATE SET
    update_fields` (or `DO NOTHING` without update_fields; no ON CONFLICT clause at all
    without unique_fields: a duplicate fails the statement) `RETURNING returning`. Rows are
    tuples in the order of `fields`; the fields are model field names. Values go to the
    database as they are (str, int, float, bool, None), except that JSON and date-time
    fields are adapted by the field. Returns the returned rows (those inserted or updated; rows skipped by DO
    NOTHING return nothing)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    columns = ", ".join(column(name) for name in fields)
    conflict = ", ".join(column(name) for name in unique_fields)
    if not unique_fields:
        action = ""
    elif update_fields:
        action = f"ON CONFLICT ({conflict}) DO UPDATE SET " + ", ".join(
            f"{column(name)} = excluded.{column(name)}" for name in update_fields
        )
    else:
        action = f"ON CONFLICT ({conflict}) DO NOTHING"
    tail = f" RETURNING {', '.join(column(name) for name in returning)}" if returning else ""
    adapted = [i for i, name in enumerate(fields) if meta.get_field(name).get_internal_type() in ADAPTED_TYPES]
    if adapted:
        rows = _adapted(rows, adapted, meta, fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = connection.features.max_query_params
    chunk = min(ROWS_PER_STATEMENT, limit // len(fields)) if limit else ROWS_PER_STATEMENT
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholder] * len(part))} "
                f"{action}{tail}"
            )
            cursor.execute(sql, [value for row in part for value in row])
            if returning:
                returned += cursor.fetchall()
    return returned


def rows_insert(*, model: type[Model], fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert rows that are new by construction, such as a new study's clips, where a
    duplicate is a bug that must fail. On PostgreSQL a `COPY ... FROM STDIN`, which parses
    rows without planning statements (half the time of multi-row INSERTs for a 200k-clip
    study's 600k shown labels, bench/study_scale.py); elsewhere rows_upsert without ON
    CONFLICT. Every NOT NULL column without a database default must be among `fields`."""
    if connection.vendor != "postgresql":
        rows_upsert(model=model, fields=fields, rows=rows, unique_fields=())
        return
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    encoders = [_copy_encoder(meta.get_field(name)) for name in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_COPY):
            buffer = io.StringIO(_copy_text(rows[start : start + ROWS_PER_COPY], encoders))
            with connection.wrap_database_errors:  # Django's errors, as from execute()
                cursor.copy_expert(sql, buffer)


#: COPY's text format: a backslash escapes these, and \N is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Field types whose values are numbers, written by str() as they are.
_NUMBER_TYPES = frozenset(
    {"AutoField", "BigAutoField", "BigIntegerField", "FloatField", "ForeignKey", "IntegerField",
     "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
     "SmallIntegerField"}
)  # fmt: skip


def _copy_encoder(field):
    """The function that writes one of `field`'s values (not None) as COPY text."""
    kind = field.get_internal_type()
    if kind in _NUMBER_TYPES:
        return str
    if kind == "BooleanField":
        return lambda value: "t" if value else "f"
    if kind == "JSONField":
        return lambda value: json.dumps(value, cls=field.encoder).translate(_COPY_ESCAPES)
    if kind == "DateTimeField":
        return lambda value: field.get_db_prep_save(value, connection).isoformat()
    return lambda value: str(value).translate(_COPY_ESCAPES)


def _copy_column(values: tuple, encoder) -> list[str]:
    """One column's values as COPY text. A column of one repeated value (one timestamp for a
    whole batch) is encoded once; None is NULL."""
    first = values[0]
    if all(value is first for value in values):
        return [r"\N" if first is None else encoder(first)] * len(values)
    if None in values:
        return [r"\N" if value is None else encoder(value) for value in values]
    return list(map(encoder, values))


def _copy_text(rows: Sequence[tuple], encoders: list) -> str:
    """Rows as COPY text: tab-separated, a line each, built a column at a time."""
    columns = [_copy_column(values, encoder) for values, encoder in zip(zip(*rows, strict=True), encoders, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _adapted(rows: Sequence[tuple], positions: list[int], meta, fields: Sequence[str]) -> list[tuple]:
    """Rows with the values at `positions` adapted by their fields; a value that is the
    same object as the row before's (one timestamp for a whole batch) is adapted once."""
    prepare = {i: meta.get_field(fields[i]).get_db_prep_save for i in positions}
    last: dict[int, tuple[object, object]] = {}
    out = []
    for row in rows:
        values = list(row)
        for i in positions:
            value = values[i]
            seen = last.get(i)
            if seen is None or seen[0] is not value:
                seen = last[i] = (value, prepare[i](value, connection))
            values[i] = seen[1]
        out.append(tuple(values))
    return out


def rows_delete(*, model: type[Model], pks: Sequence[int], chunk: int = 5000) -> int:
    """Delete rows by primary key, in chunks that stay within the backend's query limits."""
    deleted = 0
    for start in range(0, len(pks), chunk):
        deleted += model._base_manager.filter(pk__in=pks[start : start + chunk]).delete()[0]
    return deleted
