"""The column read of a study (annotator.selectors.judgments.study_judgment_arrays) against
the row read (study_judgments), and the binary COPY format it parses."""

import io
import struct

import numpy as np
import pytest

from annotator import selectors as annotator_selectors
from annotator.selectors import judgments
from tests.evaluation.builders import build_study

RECORD = np.dtype([("v0", ">i8"), ("v1", ">i2"), ("v2", ">f8")])


def _packed_copy(groups: list[list[tuple]], *, counts: list[int] | None = None, trailer: bytes = b"\xff\xff") -> bytes:
    """Binary COPY data as the server sends packed groups: per row, a count and a bytea."""
    out = io.BytesIO()
    out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    for n, rows in enumerate(groups):
        packed = np.array(rows, dtype=RECORD).tobytes()
        count = len(rows) if counts is None else counts[n]
        out.write(struct.pack(">hiq", 2, 8, count) + struct.pack(">i", len(packed)) + packed)
    out.write(trailer)
    return out.getvalue()


def _read(data: bytes) -> list[np.ndarray]:
    return judgments._packed_columns(
        io.BytesIO(data),
        size=len(data),
        wire=[">i8", ">i2", ">f8"],
        dtypes=[np.dtype(np.int64), np.dtype(np.int8), np.dtype(np.float64)],
    )


def test_packed_columns_read_every_row_of_every_group():
    groups = [
        [(i, -i % 3, float(i) / 2) for i in range(start, start + size)] for start, size in ((0, 3), (3, 1), (4, 5))
    ]
    groups[1][0] = (3, 2, float("nan"))

    ids, codes, seconds = _read(_packed_copy(groups))

    assert ids.tolist() == list(range(9))
    assert codes.dtype == np.int8 and codes.tolist() == [0, 2, 1, 2, 2, 1, 0, 2, 1]
    assert np.isnan(seconds[3]) and seconds[8] == 4.0


def test_packed_columns_of_no_rows_are_empty():
    assert [len(column) for column in _read(_packed_copy([]))] == [0, 0, 0]


def test_packed_columns_refuse_a_group_short_of_its_count():
    # A NULL value in a row makes the server's concatenation NULL and drops the row.
    with pytest.raises(ValueError, match="row count"):
        _read(_packed_copy([[(1, 0, 0.0), (2, 0, 0.0)]], counts=[3]))


def test_packed_columns_refuse_data_that_does_not_end_where_expected():
    with pytest.raises(ValueError, match="does not end"):
        _read(_packed_copy([[(1, 0, 0.0)]], trailer=b"\xff\xff\x00"))
    with pytest.raises(ValueError, match="does not end"):
        _read(_packed_copy([[(1, 0, 0.0)]])[:-6])


@pytest.mark.django_db
def test_study_judgment_arrays_hold_what_study_judgments_lists():
    built = build_study()
    rows = annotator_selectors.study_judgments(study=built.study)

    arrays = judgments.study_judgment_arrays(study=built.study)

    rating_of = dict(zip(arrays.rating_pk.tolist(), range(len(arrays.rating_pk)), strict=True))
    study_clip_of = dict(zip(arrays.clip_study_clip.tolist(), range(len(arrays.clip_study_clip)), strict=True))
    shown = {
        (sc, category): judgments.SOURCES[code]
        for sc, category, code in zip(
            arrays.label_study_clip.tolist(), arrays.label_category.tolist(), arrays.label_source.tolist(), strict=True
        )
    }
    got = set()
    for rating, category, answer, modality, added in zip(
        arrays.judgment_rating.tolist(),
        arrays.judgment_category.tolist(),
        arrays.judgment_answer.tolist(),
        arrays.judgment_modality.tolist(),
        arrays.judgment_added.tolist(),
        strict=True,
    ):
        q = rating_of[rating]
        study_clip = int(arrays.rating_study_clip[q])
        n = study_clip_of[study_clip]
        got.add(
            (
                study_clip,
                int(arrays.clip_pk[n]),
                bool(arrays.clip_is_gold[n]),
                int(arrays.rating_rater[q]),
                category,
                judgments.ANSWERS[answer],
                judgments.MODALITIES[modality] if modality >= 0 else "",
                added,
                shown.get((study_clip, category), "added" if added else "proposal"),
            )
        )
    expected = {
        (row["study_clip_id"], row["clip_id"], row["is_gold"], row["rater_id"], row["category_id"], row["answer"],
         row["modality"], row["added_by_rater"], row["source"])
        for row in rows
        if not row["skipped"]
    }  # fmt: skip
    assert got == expected
    assert int(arrays.rating_skipped.sum()) == sum(row["skipped"] for row in rows if row["category_id"] is None)
