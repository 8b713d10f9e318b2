"""LLP / AVVP dense (segment-level) annotations for evaluation. Pure Python, no Django.

`AVVP_eval_audio.csv` and `AVVP_eval_visual.csv` (YapengTian/AVVP-ECCV20) list events as
`filename<TAB>onset<TAB>offset<TAB>event_labels` with integer seconds; an event covers the
1-second segments `[onset, offset)` of a 10-segment grid, the way the reference code sets
`GT[idx, onset:offset] = 1`. Audio-visual events are not stored: they are the segments
where a class is both heard and seen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from pathlib import Path

SEGMENTS = 10
DENSE_HEADER = ["filename", "onset", "offset", "event_labels"]
CLASS_LIST = Path(__file__).resolve().parent.parent / "data" / "llp_classes.txt"

DenseEvents = dict[str, dict[str, set[int]]]


def llp_class_names() -> list[str]:
    """The 25 LLP classes in the index order of the reference code."""
    return [line.strip() for line in CLASS_LIST.read_text(encoding="utf-8").splitlines() if line.strip()]


def parse_avvp_dense(path: Path | str, *, filenames: Collection[str] | None = None) -> DenseEvents:
    """filename -> label -> the set of segment indices (0..9) in which the event occurs.

    As in the reference code, a row with onset >= offset (6 rows of eval_audio, such as
    `8DF2PxdT5tE_390_400 9 0`) marks no segment: its file is listed (with its other
    events, or none) but the label gets no segment and no key of its own. Rows of the
    same file and label are merged. With `filenames` (e.g. the val and test videos),
    rows of other files (the few mangled ids, like `17iGUal2M_10_20`) are dropped. A row
    that is not `filename, onset, offset, labels` with whole-second bounds raises
    ValueError naming its line."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    header = next(reader, None)
    if header is None or [value.strip().lower() for value in header] != DENSE_HEADER:
        raise ValueError(f"{path}: expected the header {'<TAB>'.join(DENSE_HEADER)}, got {header!r}")
    wanted = None if filenames is None else set(filenames)
    events: DenseEvents = {}
    for fields in reader:
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) != 4:
            raise ValueError(f"{path}, line {reader.line_num}: expected 4 tab-separated columns, got {len(fields)}")
        filename = fields[0].strip()
        try:
            onset, offset = int(fields[1]), int(fields[2])
        except ValueError:
            raise ValueError(
                f"{path}, line {reader.line_num}: onset {fields[1]!r} and offset {fields[2]!r} must be whole seconds"
            ) from None
        if wanted is not None and filename not in wanted:
            continue
        segments = set(range(max(onset, 0), min(offset, SEGMENTS)))
        labels = events.setdefault(filename, {})
        for label in (name.strip() for name in fields[3].split(",")):
            if label and segments:
                labels.setdefault(label, set()).update(segments)
    return events
