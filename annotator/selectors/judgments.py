"""Bulk reads of annotator's tables for evaluation: judgment counts, a taxonomy's categories,
and clips' metadata and original labels as plain rows (values lists, no model instance per
row), so a 15,000-clip run loads in seconds."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from django.db import connection, transaction

from annotator.models import (
    Category,
    Clip,
    ClipEvidence,
    ClipLabel,
    Judgment,
    Modality,
    Rating,
    Study,
    StudyClip,
    StudyClipLabel,
    StudyRater,
)
from annotator.selectors.snapshots import in_snapshot

#: Primary keys per ``IN (...)`` list: one statement stays small for any number of clips.
CHUNK_SIZE = 5000
#: What the codes of ``StudyJudgmentArrays`` stand for, by code.
ANSWERS: tuple[str, ...] = tuple(Judgment.Answer.values)
MODALITIES: tuple[str, ...] = tuple(code for code in Modality.values if code)  # -1: not given
SOURCES: tuple[str, ...] = tuple(StudyClipLabel.Source.values)
#: Rows per fetch on backends without COPY.
FETCH_ROWS = 100_000


def study_judgment_count(*, study: Study) -> int:
    """Judgments on the study's clips (proposals, decoys and labels raters added)."""
    return Judgment.objects.filter(study=study).count()


def taxonomy_category_rows(*, taxonomy_id: int) -> list[tuple[int, int, str]]:
    """(pk, index, name) of each category of a taxonomy, by index."""
    return list(Category.objects.filter(taxonomy_id=taxonomy_id).order_by("index").values_list("pk", "index", "name"))


def _for_pks(sql: str, pks: Sequence[int], params: Sequence = ()) -> Iterator[tuple]:
    """Rows of `sql`, whose `{pks}` stands for a condition "column among these pks" and
    whose other parameters are `params`: one statement with `= ANY(array)` on PostgreSQL
    (a primary-key list of any length is one parameter), else `IN (...)` lists of
    CHUNK_SIZE. Raw SQL: building ORM lookups of 5000 values cost more than the reads."""
    pk_list = [int(pk) for pk in pks]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array literal ('{1,2,...}'): psycopg2 would send ARRAY[1, 2, ...], an
            # expression per element that the server parses and plans one by one.
            array = "{" + ",".join(map(str, pk_list)) + "}"
            cursor.execute(sql.format(pks="= ANY(%s::bigint[])"), [*params, array])
            yield from cursor.fetchall()
            return
        for start in range(0, len(pk_list), CHUNK_SIZE):
            chunk = pk_list[start : start + CHUNK_SIZE]
            cursor.execute(sql.format(pks=f"IN ({', '.join(['%s'] * len(chunk))})"), [*params, *chunk])
            yield from cursor.fetchall()


def _columns(model, *names: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in names)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def clip_metadata_rows(*, clip_pks: Sequence[int]) -> Iterator[tuple[int, str, str, float | None]]:
    """(pk, clip_id, youtube_id, start_seconds) of each of these clips, in no set order."""
    columns = _columns(Clip, "id", "clip_id", "youtube_id", "start_seconds")
    return _for_pks(f"SELECT {columns} FROM {_table(Clip)} WHERE id {{pks}}", clip_pks)


def clip_label_rows(*, clip_pks: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(clip pk, category pk) of each original label of these clips, in no set order."""
    columns = _columns(ClipLabel, "clip", "category")
    return _for_pks(f"SELECT {columns} FROM {_table(ClipLabel)} WHERE clip_id {{pks}}", clip_pks)


def clip_event_type_rows(*, proposal_set_id: int, clip_pks: Sequence[int]) -> Iterator[tuple[int, str]]:
    """(clip pk, the model's dominant event type) for these clips in a proposal set's evidence."""
    columns = _columns(ClipEvidence, "clip", "event_type")
    return _for_pks(
        f"SELECT {columns} FROM {_table(ClipEvidence)} "
        f"WHERE proposal_set_id = %s AND event_type <> '' AND clip_id {{pks}}",
        clip_pks,
        params=[int(proposal_set_id)],
    )


@dataclass(frozen=True)
class StudyJudgmentArrays:
    """A study's ratings, answers and shown labels as integer columns, one array per column
    and no Python object per row (a 200k-clip study with 12 raters has ~7M answers).
    Codes index ``ANSWERS``, ``MODALITIES`` (-1: none given) and ``SOURCES``."""

    clip_study_clip: np.ndarray  # (N,) study clip pk, ascending
    clip_position: np.ndarray  # (N,) serving position
    clip_pk: np.ndarray  # (N,) Clip pk
    clip_is_gold: np.ndarray  # (N,) bool
    rating_pk: np.ndarray  # (Q,) ascending
    rating_study_clip: np.ndarray  # (Q,)
    rating_rater: np.ndarray  # (Q,) user pk
    rating_skipped: np.ndarray  # (Q,) bool
    rating_seconds: np.ndarray  # (Q,) float, nan when unknown
    judgment_rating: np.ndarray  # (J,) rating pk
    judgment_category: np.ndarray  # (J,) category pk
    judgment_answer: np.ndarray  # (J,) code in ANSWERS
    judgment_modality: np.ndarray  # (J,) code in MODALITIES, -1 when blank
    judgment_added: np.ndarray  # (J,) bool: added_by_rater
    label_study_clip: np.ndarray  # (L,) shown labels
    label_category: np.ndarray  # (L,)
    label_source: np.ndarray  # (L,) code in SOURCES


def study_judgment_arrays(*, study: Study, snapshot: str | None = None) -> StudyJudgmentArrays:
    """Everything ``study_judgments`` lists, as columns (the bulk read evaluation uses): four
    statements, each streamed by binary COPY on PostgreSQL (fetchmany elsewhere) into arrays;
    side by side on connections of their own, given the snapshot of ``snapshots.read_snapshot``
    to read (which the caller's reads of the study should be inside, for one view of it)."""
    quote = connection.ops.quote_name
    study_pk = int(study.pk)
    clips, ratings, judgments, labels = (
        quote(model._meta.db_table) for model in (StudyClip, Rating, Judgment, StudyClipLabel)
    )

    def codes(column: str, values: Sequence[str], default: int) -> str:
        cases = " ".join(f"WHEN '{value}' THEN {code}" for code, value in enumerate(values))
        return f"CASE {column} {cases} ELSE {default} END"

    pk, code, flag, seconds = np.int64, np.int8, np.bool_, np.float64
    excluded = excluded_rater_pks(study=study)
    not_excluded = " ".join(f"AND r.rater_id <> {int(rater_pk)}" for rater_pk in excluded)
    # Answer, modality and added travel as one small integer (a third of the bytes of three
    # columns); code + 1 so that -1 (none) is 0.
    answer_codes, modality_codes = len(ANSWERS) + 1, len(MODALITIES) + 1
    packed = (
        f"({codes('j.answer', ANSWERS, -1)} + 1) + {answer_codes} * (({codes('j.modality', MODALITIES, -1)} + 1) "
        f"+ {modality_codes} * CASE WHEN j.added_by_rater THEN 1 ELSE 0 END)"
    )
    clip_read = (
        f"SELECT id, position, clip_id, CASE WHEN is_gold THEN 1 ELSE 0 END FROM {clips} WHERE study_id = {study_pk}",
        (pk, pk, pk, flag),
    )
    rating_read = (
        f"SELECT r.id, r.study_clip_id, r.rater_id, CASE WHEN r.skipped THEN 1 ELSE 0 END, r.seconds_spent "
        f"FROM {ratings} r JOIN {clips} sc ON sc.id = r.study_clip_id WHERE sc.study_id = {study_pk} "
        f"{not_excluded}",
        (pk, pk, pk, flag, seconds),
    )
    # By the copied study column, with no join: joining 7M answers to their ratings and
    # clips was most of a 200k-clip study's load.
    judgment_read = (
        f"SELECT j.rating_id, j.category_id, {packed} FROM {judgments} j WHERE j.study_id = {study_pk}",
        (pk, pk, np.int16),
    )
    label_read = (
        f"SELECT l.study_clip_id, l.category_id, {codes('l.source', SOURCES, -1)} "
        f"FROM {labels} l JOIN {clips} sc ON sc.id = l.study_clip_id WHERE sc.study_id = {study_pk}",
        (pk, pk, code),
    )
    # Biggest first: with a snapshot to share, the four run side by side (snapshots.in_snapshot).
    judgment_columns, rating_columns, label, clip = in_snapshot(
        snapshot,
        [functools.partial(_number_columns, *read) for read in (judgment_read, rating_read, label_read, clip_read)],
    )
    clip, rating = _sorted_by_first(clip), _sorted_by_first(rating_columns)
    judgment_rating, judgment_category, judgment_packed = judgment_columns
    del judgment_columns
    answer, rest = np.divmod(judgment_packed, answer_codes)[::-1]
    modality, added = np.divmod(rest, modality_codes)[::-1]
    del judgment_packed, rest
    judgment = [
        judgment_rating,
        judgment_category,
        (answer - 1).astype(code),
        (modality - 1).astype(code),
        added.astype(flag),
    ]
    del answer, modality, added
    # Answers of ratings not read (a rater removed with their ratings excluded) are dropped.
    if excluded:
        judgment = _of_ratings(judgment, rating_pks=rating[0])
    return StudyJudgmentArrays(*clip, *rating, *judgment, *label)


def excluded_rater_pks(*, study: Study) -> list[int]:
    """Raters removed from the study with their ratings left out of its consensus."""
    return sorted(StudyRater.objects.filter(study=study, ratings_excluded=True).values_list("rater_id", flat=True))


def _sorted_by_first(columns: list[np.ndarray]) -> list[np.ndarray]:
    """The rows of these columns in ascending order of the first (unchanged when they are)."""
    first = columns[0]
    if len(first) < 2 or (first[1:] > first[:-1]).all():
        return columns
    order = np.argsort(first, kind="stable")
    for index, column in enumerate(columns):  # one column at a time: each unsorted one is freed as it goes
        columns[index] = column[order]
    return columns


def _of_ratings(columns: list[np.ndarray], *, rating_pks: np.ndarray) -> list[np.ndarray]:
    """The rows of judgment columns (rating pk first) whose rating is among `rating_pks` (ascending)."""
    found = np.searchsorted(rating_pks, columns[0])
    keep = rating_pks[np.minimum(found, len(rating_pks) - 1)] == columns[0] if len(rating_pks) else found < 0
    return columns if keep.all() else [column[keep] for column in columns]


#: How a column of each result dtype is packed: SQL type (its send function writes the
#: value big-endian, as binary COPY does), wire type.
_WIRE_TYPES = {
    np.dtype(np.int64): ("int8", ">i8"),
    np.dtype(np.int32): ("int4", ">i4"),
    np.dtype(np.int16): ("int2", ">i2"),
    np.dtype(np.int8): ("int2", ">i2"),
    np.dtype(np.bool_): ("int2", ">i2"),
    np.dtype(np.float64): ("float8", ">f8"),
}
#: Rows are packed in groups of first-column values within 2**16 of each other: a group of
#: answers (by rating id) is a few MB, far below a value's 1 GB limit.
_GROUP_SHIFT = 16
#: Memory the grouping may use before it spills to disk (PostgreSQL's default is 4 MB): the
#: answers of a 200k-clip study, packed, are 130 MB.
_PACK_WORK_MEM = "256MB"


def _number_columns(sql: str, dtypes: Sequence[type]) -> list[np.ndarray]:
    """One array per column (of these dtypes: integers, bool from 0 / 1, or float64 with
    NULL as nan) of a query whose columns are all numbers, integer ones never NULL, the
    first an integer key such as an id; the rows in no set order. On PostgreSQL the server
    packs the rows, fixed-width records in each column's smallest wire type, into a few
    large values (grouped by the first column), sent by binary COPY into a temporary file
    and read into arrays allocated once: row by row, psycopg2 spends a Python call per row
    (2.3 s of CPU for a 200k-clip study's 7.2M answers, against 0.3 s packed). Elsewhere
    by fetchmany."""
    dtypes = [np.dtype(dtype) for dtype in dtypes]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [f"c{i}" for i in range(len(dtypes))]
            wire = [_WIRE_TYPES[dtype] for dtype in dtypes]
            fields = " || ".join(
                f"float8send(COALESCE({name}::float8, 'NaN'))"
                if sql_type == "float8"
                else f"{sql_type}send({name}::{sql_type})"
                for name, (sql_type, _) in zip(names, wire, strict=True)
            )
            packed = (
                f"SELECT count(*), string_agg({fields}, ''::bytea) FROM ({sql}) AS q({', '.join(names)}) "
                f"GROUP BY c0 >> {_GROUP_SHIFT}"
            )
            with tempfile.TemporaryFile() as data, transaction.atomic():
                # For this transaction only (a caller's, when there is one).
                cursor.execute("SET LOCAL work_mem = %s", [_PACK_WORK_MEM])
                cursor.copy_expert(f"COPY ({packed}) TO STDOUT WITH (FORMAT binary)", data)
                size = data.tell()
                data.seek(0)
                return _packed_columns(data, size=size, wire=[code for _, code in wire], dtypes=dtypes)
        parts: list[list[np.ndarray]] = [[] for _ in dtypes]
        cursor.execute(sql)
        while chunk := cursor.fetchmany(FETCH_ROWS):
            block = np.asarray(chunk, dtype=np.float64).reshape(-1, len(dtypes))
            for column, dtype in enumerate(dtypes):
                parts[column].append(block[:, column].astype(dtype))
    return [
        np.concatenate(part) if part else np.zeros(0, dtype=dtype) for part, dtype in zip(parts, dtypes, strict=True)
    ]


def _packed_columns(data: BinaryIO, *, size: int, wire: Sequence[str], dtypes: Sequence[np.dtype]) -> list[np.ndarray]:
    """The columns of `size` bytes of packed groups (``_packed_groups``) whose records have
    fields of these wire types, as arrays of these dtypes, each allocated once for the rows
    the size allows."""
    record = np.dtype([(f"v{i}", code) for i, code in enumerate(wire)])
    columns = [np.empty(size // record.itemsize, dtype=dtype) for dtype in dtypes]
    filled = 0
    for count, chunk in _packed_groups(data):
        if len(chunk) != count * record.itemsize:
            raise ValueError("a packed group does not hold its row count's records (a NULL value?)")
        block = np.frombuffer(chunk, dtype=record)
        for index, column in enumerate(columns):
            column[filled : filled + count] = block[f"v{index}"]
        filled += count
    return [column[:filled] for column in columns]


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = len(_COPY_SIGNATURE) + 8  # signature, flags, header extension length


def _packed_groups(data: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """The (row count, packed records) rows of PostgreSQL binary COPY data of two columns,
    an int8 and a bytea: after the header, each row is a 16-bit field count, then per field
    a 32-bit length and the value; a 16-bit -1 ends the data."""
    header = data.read(_COPY_HEADER)
    if not header.startswith(_COPY_SIGNATURE):
        raise ValueError("not PostgreSQL binary COPY data")
    data.read(int.from_bytes(header[-4:], "big"))  # the header extension, unused
    while (fields := int.from_bytes(data.read(2), "big", signed=True)) != -1:
        if fields != 2 or int.from_bytes(data.read(4), "big", signed=True) != 8:
            raise ValueError("unexpected field in binary COPY data")
        count = int.from_bytes(data.read(8), "big", signed=True)
        length = int.from_bytes(data.read(4), "big", signed=True)
        chunk = data.read(max(length, 0))
        if len(chunk) != max(length, 0):
            raise ValueError("binary COPY data does not end where expected")
        yield count, chunk
    if data.read(1):
        raise ValueError("binary COPY data does not end where expected")
