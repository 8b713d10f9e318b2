"""Plumbing for the queue's hand-written statements: column lists, and model instances built
from rows as the ORM would build them (Model.from_db, through the backend's converters).

A statement is written out only where bench/rater_load.py measured it against its ORM
version (bench/README.md); each says beside it what it buys.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection

from annotator.models import Clip, Study, StudyClip


def table(model) -> str:
    return model._meta.db_table


@functools.cache
def columns(model, alias: str) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)


def instance(model, values: Sequence):
    """The model instance the ORM would build from a row of columns(model, ...)."""
    fields, converters = _field_converters(model, connection.vendor)
    if converters:
        values = list(values)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, fields, values)


@functools.cache
def _field_converters(model, vendor: str) -> tuple[list[str], list[tuple[int, object, list]]]:
    """Attribute names and the database converters (SQLite booleans and datetimes, JSON
    text, ...) of a model's concrete fields, in column order; per backend, built once."""
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return [field.attname for field in model._meta.concrete_fields], converters


def fetch_one(sql: str, params) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The relations a study clip can be read with, as select_related would join them.
_STUDY_CLIP_RELATED = {"study": (Study, "st", "st.id = sc.study_id"), "clip": (Clip, "c", "c.id = sc.clip_id")}


@functools.cache
def study_clip_select(related: tuple[str, ...], extra: str = "") -> str:
    """SELECT <study clip and related columns>[, extra] FROM <study clip joined to them> (alias sc)."""
    selected = [columns(StudyClip, "sc")]
    joins = [f"FROM {table(StudyClip)} sc"]
    for name in related:
        model, alias, condition = _STUDY_CLIP_RELATED[name]
        selected.append(columns(model, alias))
        joins.append(f"JOIN {table(model)} {alias} ON {condition}")
    return f"SELECT {', '.join(selected + ([extra] if extra else []))} {' '.join(joins)}"


def study_clip_from_row(row: Sequence, related: tuple[str, ...]) -> StudyClip:
    """A StudyClip with its related rows attached, from a row of study_clip_select(related)."""
    end = len(StudyClip._meta.concrete_fields)
    study_clip = instance(StudyClip, row[:end])
    for name in related:
        model = _STUDY_CLIP_RELATED[name][0]
        start, end = end, end + len(model._meta.concrete_fields)
        setattr(study_clip, name, instance(model, row[start:end]))
    return study_clip
