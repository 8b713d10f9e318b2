"""The column read of a study (annotator.selectors.judgments.study_judgment_arrays) against
the row read (study_judgments), and the binary COPY format it parses."""

import io
import struct

import numpy as np
import pytest

from annotator import selectors as annotator_selectors
from annotator.selectors import judgments
from tests.evaluation.builders import build_study


def _copy_bytes(rows: list[tuple[float, ...]], *, trailer: bytes = b"\xff\xff") -> bytes:
    out = io.BytesIO()
    out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    for row in rows:
        out.write(struct.pack(">h", len(row)))
        for value in row:
            out.write(struct.pack(">id", 8, value))
    out.write(trailer)
    return out.getvalue()


def test_binary_copy_blocks_read_every_row_across_block_edges():
    rows = [(float(i), -1.0, float("nan")) for i in range(7)]

    blocks = list(judgments._binary_copy_blocks(io.BytesIO(_copy_bytes(rows)), columns=3, rows=3))

    values = np.concatenate(blocks)
    assert values.shape == (7, 3)
    assert values[:, 0].tolist() == list(range(7))
    assert (values[:, 1] == -1).all() and np.isnan(values[:, 2]).all()


def test_binary_copy_blocks_refuse_data_that_does_not_end_where_expected():
    with pytest.raises(ValueError, match="does not end"):
        list(judgments._binary_copy_blocks(io.BytesIO(_copy_bytes([(1.0,)], trailer=b"")), columns=1))


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
