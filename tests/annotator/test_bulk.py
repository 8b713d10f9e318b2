"""annotator.importers.bulk: rows_insert writes every kind of value the way the ORM would
(COPY on PostgreSQL, multi-row INSERT elsewhere), and a duplicate fails the whole insert."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from annotator.importers import bulk
from annotator.models import Clip
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db

FIELDS = (
    "dataset", "clip_id", "youtube_id", "start_seconds", "split", "media_path", "media_status",
    "media_error", "has_audio", "media_probed_at", "media_flags",
)  # fmt: skip


def test_rows_insert_keeps_text_nulls_booleans_times_and_json_as_given():
    dataset = DatasetFactory()
    probed = datetime(2026, 12, 6, 21, 30, 15, 123456, tzinfo=UTC)
    awkward = "tab\there, new\nline, cr\rback\\slash \\N and ünïcode"
    rows = [
        (dataset.pk, "plain_000001", "abc", 1.5, "test", "a/b.mp4", "ok", "", True, probed, ["no_audio"]),
        (dataset.pk, "awkward_000002", awkward, None, "", awkward, "unusable", awkward, None, None, {"k": awkward}),
        (dataset.pk, "false_000003", "", 0.0, "train", "", "missing", "\\N", False, probed, []),
    ]

    bulk.rows_insert(model=Clip, fields=FIELDS, rows=rows)

    stored = {clip.clip_id: clip for clip in Clip.objects.filter(dataset=dataset)}
    for row in rows:
        clip = stored[row[1]]
        assert tuple(getattr(clip, name) for name in FIELDS[1:]) == row[1:]


def test_rows_insert_of_many_rows_spans_chunks(monkeypatch):
    monkeypatch.setattr(bulk, "ROWS_PER_COPY", 7)
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 7)
    dataset = DatasetFactory()
    rows = [(dataset.pk, f"clip_{n:06d}", "", None, "test", "", "ok", "", None, None, []) for n in range(50)]

    bulk.rows_insert(model=Clip, fields=FIELDS, rows=rows)

    assert sorted(Clip.objects.filter(dataset=dataset).values_list("clip_id", flat=True)) == [row[1] for row in rows]


def test_rows_insert_with_a_duplicate_fails_and_inserts_nothing():
    dataset = DatasetFactory()
    row = (dataset.pk, "same_000001", "", None, "test", "", "ok", "", None, None, [])

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.rows_insert(model=Clip, fields=FIELDS, rows=[row, row])

    assert not Clip.objects.filter(dataset=dataset).exists()
