"""The end-to-end test's checks of the dashboard downloads against the figures
tests/browser/e2e_expected.py recomputes by hand from the stored judgments."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.browser import e2e_expected as expected


def download(page, link) -> str:
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    return Path(download.path()).read_text(encoding="utf-8")


def close(actual: float | None, wanted: float | None) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return actual == pytest.approx(wanted, rel=1e-9, abs=1e-12)


def check_human_study(csv_text: str, json_text: str, want: expected.StudyExpectation, *, study_name: str) -> None:
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["Measure", "Value", "95% CI low", "95% CI high"]
    from_csv = {row[0]: [float(cell) if cell else None for cell in row[1:]] for row in rows[1:]}
    document = json.loads(json_text)
    assert document["key"] == "human_study" and document["title"] == f"Human study: {study_name}"
    assert [column["name"] for column in document["columns"]] == rows[0]
    from_json = {row[0]: row[1:] for row in document["rows"]}
    assert from_json == from_csv, "the JSON and CSV downloads hold the same table"

    wanted = want.human_study_values()
    assert list(from_csv) == list(wanted)
    for measure, value in wanted.items():
        estimate, low, high = from_csv[measure]
        assert close(estimate, value), f"{measure}: table {estimate}, by hand {value}"
        if low is not None and high is not None and estimate is not None:
            assert low - 1e-9 <= estimate <= high + 1e-9, f"{measure}: {estimate} outside [{low}, {high}]"
    # the hand-made figures are not degenerate: the raters disagreed somewhere
    assert want.fleiss_kappa is not None and want.fleiss_kappa < 1
    assert want.krippendorff_alpha is not None and want.krippendorff_alpha < 1


def check_missing_labels(csv_text: str, want: expected.StudyExpectation) -> None:
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["Clip", "Label", "Source", "Present", "Absent", "Unsure", "Agreement", "Original labels"]
    got = [
        (c, label, source, int(p), int(a), int(u), float(agr), orig)
        for c, label, source, p, a, u, agr, orig in rows[1:]
    ]
    wanted = want.missing_label_rows()
    assert [row[:6] + row[7:] for row in got] == [row[:6] + row[7:] for row in wanted]
    assert all(close(g[6], w[6]) for g, w in zip(got, wanted, strict=True))
    # the label rater 0 added and rater 1 confirmed (absent from the original labels) is a candidate
    assert any(row[2] == "added" and row[3:6] == (2, 0, 0) for row in got)


def check_dataset(csv_text: str, want: expected.StudyExpectation, *, include_rejected: bool) -> None:
    reader = csv.DictReader(io.StringIO(csv_text))
    assert tuple(reader.fieldnames) == (
        "clip_id",
        "youtube_id",
        "start_seconds",
        "original_labels",
        "label",
        "source",
        "confirmed",
        "adjudicated",
        "in_original",
        "votes_present",
        "votes_absent",
        "votes_unsure",
        "agreement",
        "modality",
        "votes_A",
        "votes_V",
        "votes_AV",
        "raters",
        "is_gold",
    )
    by_clip: dict[str, list[dict]] = {}
    for row in reader:
        by_clip.setdefault(row["clip_id"], []).append(row)
    assert set(by_clip) == set(want.clips)
    for clip_id, rows in by_clip.items():
        clip = want.clips[clip_id]
        for row in rows:
            assert row["youtube_id"] == clip.youtube_id
            if clip.start_seconds is None:
                assert row["start_seconds"] == ""
            else:
                assert float(row["start_seconds"]) == clip.start_seconds
            assert row["original_labels"] == ";".join(clip.original_labels)
            assert int(row["raters"]) == clip.raters == 2
            assert row["is_gold"] == "0"
        listed = clip.listed(include_rejected=include_rejected)
        if not listed:
            assert [row["label"] for row in rows] == [""]
            continue
        got = [
            (
                row["label"],
                row["source"],
                row["confirmed"],
                row["in_original"],
                int(row["votes_present"]),
                int(row["votes_absent"]),
                int(row["votes_unsure"]),
            )
            for row in rows
        ]
        assert got == [
            (v.label, v.source, str(int(v.confirmed)), str(int(v.in_original)), v.present, v.absent, v.unsure)
            for v in listed
        ], clip_id
        for row, vote in zip(rows, listed, strict=True):
            assert close(float(row["agreement"]) if row["agreement"] else None, vote.agreement)
            # every present the raters typed (one press) and the added label are "heard and seen"
            assert (int(row["votes_A"]), int(row["votes_V"]), int(row["votes_AV"])) == (0, 0, vote.present)
            assert row["modality"] == ("AV" if vote.present else "")
    listed_added = [v for clip in want.clips.values() for v in clip.listed(include_rejected=include_rejected)]
    assert any(v.source == "added" and v.present == 2 and v.absent == 0 for v in listed_added)
    if include_rejected:
        assert any(not v.confirmed for v in listed_added), "some label was rejected or tied"
