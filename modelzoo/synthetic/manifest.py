"""The files that describe a generated dataset: manifest.json/.csv for model code, classes.txt
and the generic clips.csv for the annotator's importers."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modelzoo.synthetic.classes import EVENT_TYPE_HEAD, EVENT_TYPES, SynthClass
from modelzoo.synthetic.specs import (
    CLASSES_FILE,
    CLIPS_CSV,
    MANIFEST_CSV,
    MANIFEST_JSON,
    ClipSpec,
    SyntheticConfig,
)

GENERATOR = "modelzoo.synthetic"
GENERIC_CSV_HEADER = ("clip_id", "labels", "youtube_id", "start_seconds", "split", "media_path")
MANIFEST_CSV_HEADER = (
    "clip_id",
    "path",
    "label",
    "label_name",
    "labels",
    "label_names",
    "event_type",
    "event_types",
    "split",
    "has_audio",
)


def _manifest_row(spec: ClipSpec, classes: Sequence[SynthClass]) -> dict[str, Any]:
    return {
        "clip_id": spec.clip_id,
        "path": spec.relpath,
        "label": spec.label,
        "label_name": classes[spec.label].name,
        "labels": list(spec.labels),
        "label_names": [classes[index].name for index in spec.labels],
        "event_type": spec.event_type,
        "event_types": [source.event_type for source in spec.sources],
        "split": spec.split,
        "has_audio": spec.has_audio,
        "sources": [
            {
                "class_index": source.class_index,
                "event_type": source.event_type,
                "window": list(source.window) if source.window else None,
                "beats": list(source.beats),
            }
            for source in spec.sources
        ],
        "distractors": [
            {
                "class_index": distractor.class_index,
                "seen": [list(window) for window in distractor.seen],
                "heard": [list(window) for window in distractor.heard],
            }
            for distractor in spec.distractors
        ],
    }


def write_manifests(
    root: Path, config: SyntheticConfig, classes: Sequence[SynthClass], clips: Sequence[ClipSpec]
) -> None:
    """manifest.json/.csv (for nn code), classes.txt and clips.csv (for the importers)."""
    rows = [_manifest_row(spec, classes) for spec in clips]
    manifest = {
        "generator": GENERATOR,
        "config": asdict(config),
        "event_types": list(EVENT_TYPES),
        "event_type_heads": EVENT_TYPE_HEAD,
        "classes": [asdict(synth_class) for synth_class in classes],
        "clips": rows,
    }
    (root / MANIFEST_JSON).write_text(json.dumps(manifest, indent=1) + "\n")
    with open(root / MANIFEST_CSV, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MANIFEST_CSV_HEADER)
        for row in rows:
            writer.writerow(
                [
                    row["clip_id"],
                    row["path"],
                    row["label"],
                    row["label_name"],
                    ";".join(str(i) for i in row["labels"]),
                    ";".join(row["label_names"]),
                    row["event_type"],
                    ";".join(row["event_types"]),
                    row["split"],
                    int(row["has_audio"]),
                ]
            )
    (root / CLASSES_FILE).write_text("".join(f"{synth_class.name}\n" for synth_class in classes))
    with open(root / CLIPS_CSV, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(GENERIC_CSV_HEADER)
        for row in rows:
            writer.writerow([row["clip_id"], ";".join(row["label_names"]), "", "", row["split"], row["path"]])


def load_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest.json of a generated dataset, with absolute clip paths added as ``abspath``."""
    root = Path(root).resolve()
    manifest = json.loads((root / MANIFEST_JSON).read_text())
    for row in manifest["clips"]:
        row["abspath"] = str(root / row["path"])
    return manifest
