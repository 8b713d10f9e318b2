"""Set-based upserts for large imports, on PostgreSQL and SQLite (3.35+) alike.

`bulk_create` builds a model instance and prepares every concrete field of every row; for
the ~200k clips of VGGSound that is most of an import's time. The statement here sends only
the columns an importer owns, many rows a statement, in chunks the backend accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

ROWS_PER_STATEMENT = 1000


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
    update_fields` (or `DO NOTHING` without update_fields) `RETURNING returning`. Rows are
    tuples in the order of `fields`; the fields are model field names. Values go to the
    database as they are (str, int, float, bool, None), except that JSON fields are adapted
    by the field. Returns the returned rows (those inserted or updated; rows skipped by DO
    NOTHING return nothing)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    columns = ", ".join(column(name) for name in fields)
    conflict = ", ".join(column(name) for name in unique_fields)
    if update_fields:
        action = "DO UPDATE SET " + ", ".join(f"{column(name)} = excluded.{column(name)}" for name in update_fields)
    else:
        action = "DO NOTHING"
    tail = f" RETURNING {', '.join(column(name) for name in returning)}" if returning else ""
    json_positions = [i for i, name in enumerate(fields) if meta.get_field(name).get_internal_type() == "JSONField"]
    if json_positions:
        rows = [_with_json(row, json_positions, meta, fields) for row in rows]
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = connection.features.max_query_params
    chunk = min(ROWS_PER_STATEMENT, limit // len(fields)) if limit else ROWS_PER_STATEMENT
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholder] * len(part))} "
                f"ON CONFLICT ({conflict}) {action}{tail}"
            )
            cursor.execute(sql, [value for row in part for value in row])
            if returning:
                returned += cursor.fetchall()
    return returned


def _with_json(row: tuple, positions: list[int], meta, fields: Sequence[str]) -> tuple:
    values = list(row)
    for i in positions:
        values[i] = meta.get_field(fields[i]).get_db_prep_save(values[i], connection)
    return tuple(values)


def rows_delete(*, model: type[Model], pks: Sequence[int], chunk: int = 5000) -> int:
    """Delete rows by primary key, in chunks that stay within the backend's query limits."""
    deleted = 0
    for start in range(0, len(pks), chunk):
        deleted += model._base_manager.filter(pk__in=pks[start : start + chunk]).delete()[0]
    return deleted
