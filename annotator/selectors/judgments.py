"""Bulk reads of annotator's tables for evaluation: judgment counts, a taxonomy's categories,
and clips' metadata and original labels as plain rows (values lists, no model instance per
row), so a 15,000-clip run loads in seconds."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from django.db import connection

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


def study_judgment_arrays(*, study: Study) -> StudyJudgmentArrays:
    """Everything ``study_judgments`` lists, as columns (the bulk read evaluation uses): four
    statements, each streamed as text (COPY on PostgreSQL) and parsed by numpy."""
    quote = connection.ops.quote_name
    study_pk = int(study.pk)
    clips, ratings, judgments, labels = (
        quote(model._meta.db_table) for model in (StudyClip, Rating, Judgment, StudyClipLabel)
    )

    def codes(column: str, values: Sequence[str], default: int) -> str:
        cases = " ".join(f"WHEN '{value}' THEN {code}" for code, value in enumerate(values))
        return f"CASE {column} {cases} ELSE {default} END"

    pk, code, flag, seconds = np.int64, np.int8, np.bool_, np.float64
    clip = _number_columns(
        f"SELECT id, position, clip_id, CASE WHEN is_gold THEN 1 ELSE 0 END FROM {clips} "
        f"WHERE study_id = {study_pk} ORDER BY id",
        (pk, pk, pk, flag),
    )
    excluded = " ".join(f"AND r.rater_id <> {int(rater_pk)}" for rater_pk in excluded_rater_pks(study=study))
    rating = _number_columns(
        f"SELECT r.id, r.study_clip_id, r.rater_id, CASE WHEN r.skipped THEN 1 ELSE 0 END, r.seconds_spent "
        f"FROM {ratings} r JOIN {clips} sc ON sc.id = r.study_clip_id WHERE sc.study_id = {study_pk} {excluded} "
        f"ORDER BY r.id",
        (pk, pk, pk, flag, seconds),
    )
    # By the copied study column, with no join: joining 7M answers to their ratings and
    # clips was most of a 200k-clip study's load. Answers of ratings not read above
    # (skipped, or of a rater removed with their ratings excluded) are dropped here.
    judgment = _number_columns(
        f"SELECT j.rating_id, j.category_id, {codes('j.answer', ANSWERS, -1)}, {codes('j.modality', MODALITIES, -1)}, "
        f"CASE WHEN j.added_by_rater THEN 1 ELSE 0 END FROM {judgments} j WHERE j.study_id = {study_pk}",
        (pk, pk, code, code, flag),
    )
    judgment = _of_ratings(judgment, rating_pks=rating[0])
    label = _number_columns(
        f"SELECT l.study_clip_id, l.category_id, {codes('l.source', SOURCES, -1)} "
        f"FROM {labels} l JOIN {clips} sc ON sc.id = l.study_clip_id WHERE sc.study_id = {study_pk}",
        (pk, pk, code),
    )
    return StudyJudgmentArrays(*clip, *rating, *judgment, *label)


def excluded_rater_pks(*, study: Study) -> list[int]:
    """Raters removed from the study with their ratings left out of its consensus."""
    return sorted(StudyRater.objects.filter(study=study, ratings_excluded=True).values_list("rater_id", flat=True))


def _of_ratings(columns: list[np.ndarray], *, rating_pks: np.ndarray) -> list[np.ndarray]:
    """The rows of judgment columns (rating pk first) whose rating is among `rating_pks` (ascending)."""
    found = np.searchsorted(rating_pks, columns[0])
    keep = rating_pks[np.minimum(found, len(rating_pks) - 1)] == columns[0] if len(rating_pks) else found < 0
    return columns if keep.all() else [column[keep] for column in columns]


def _number_columns(sql: str, dtypes: Sequence[type]) -> list[np.ndarray]:
    """One array per column (of these dtypes) of a query whose columns are all numbers
    (NULL: nan). Values pass through float64: exact for integers up to 2**53, far beyond
    any key here. On PostgreSQL the rows come by binary COPY into a temporary file, read
    back in blocks as fixed-width records (a Python object per row, or parsing text, cost
    more than the query); elsewhere by fetchmany."""
    parts: list[list[np.ndarray]] = [[] for _ in dtypes]

    def add(block: np.ndarray) -> None:
        block = block.reshape(-1, len(dtypes))
        for column, dtype in enumerate(dtypes):
            parts[column].append(block[:, column].astype(dtype))

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [f"c{i}" for i in range(len(dtypes))]
            floats = ", ".join(f"COALESCE({name}::float8, 'NaN')" for name in names)
            copy = f"COPY (SELECT {floats} FROM ({sql}) AS q({', '.join(names)})) TO STDOUT WITH (FORMAT binary)"
            with tempfile.TemporaryFile() as data:
                cursor.copy_expert(copy, data)
                data.seek(0)
                for block in _binary_copy_blocks(data, columns=len(dtypes)):
                    add(block)
        else:
            cursor.execute(sql)
            while chunk := cursor.fetchmany(FETCH_ROWS):
                add(np.asarray(chunk, dtype=np.float64))
    return [
        np.concatenate(part) if part else np.zeros(0, dtype=dtype) for part, dtype in zip(parts, dtypes, strict=True)
    ]


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _binary_copy_blocks(data: BinaryIO, *, columns: int, rows: int = 65_536) -> Iterator[np.ndarray]:
    """(rows, columns) float64 blocks of PostgreSQL's binary COPY format whose fields are
    all float8 and never NULL: after the header, each row is a 16-bit field count, then per
    field a 32-bit length (8) and the big-endian value; a 16-bit -1 ends the data."""
    header = data.read(len(_COPY_SIGNATURE) + 8)
    if not header.startswith(_COPY_SIGNATURE):
        raise ValueError("not PostgreSQL binary COPY data")
    data.read(int.from_bytes(header[-4:], "big"))  # the header extension, unused
    record = np.dtype(
        [("fields", ">i2")] + [item for i in range(columns) for item in ((f"n{i}", ">i4"), (f"v{i}", ">f8"))]
    )
    rest = b""
    while chunk := data.read(record.itemsize * rows):
        chunk = rest + chunk
        whole = len(chunk) // record.itemsize * record.itemsize
        rest = chunk[whole:]
        block = np.frombuffer(chunk[:whole], dtype=record)
        if len(block) and (
            (block["fields"] != columns).any() or any((block[f"n{i}"] != 8).any() for i in range(columns))
        ):
            raise ValueError("unexpected field in binary COPY data")
        yield np.stack([block[f"v{i}"].astype(np.float64) for i in range(columns)], axis=1)
    if rest != b"\xff\xff":
        raise ValueError("binary COPY data does not end where expected")
