"""Read the real LLP/AVVP annotation files (tab-separated) into numpy arrays for metric tests.

Dense files go through IMPORTERS' ``annotator.importers.llp.parse_avvp_dense`` (the one
parser of the project); weak-label files are two columns and read here.
"""

import csv
from pathlib import Path

import numpy as np

from annotator.importers.llp import SEGMENTS, llp_class_names, parse_avvp_dense

#: The 25 classes in the index order of the AVVP code (see shared/data/llp_avvp/README.md).
LLP_CLASSES = tuple(llp_class_names())
CLASS_INDEX = {name: i for i, name in enumerate(LLP_CLASSES)}


def read_weak(path: Path) -> tuple[list[str], np.ndarray]:
    """A weak-label file -> (filenames, (N, 25) bool indicator), in file order."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    names = [row["filename"] for row in rows]
    labels = np.zeros((len(rows), len(LLP_CLASSES)), dtype=bool)
    for n, row in enumerate(rows):
        for name in row["event_labels"].split(","):
            labels[n, CLASS_INDEX[name]] = True
    return names, labels


def read_dense(path: Path) -> dict[str, np.ndarray]:
    """A dense (eval_audio / eval_visual) file -> {filename: (10 segments, 25) bool}."""
    out: dict[str, np.ndarray] = {}
    for filename, events in parse_avvp_dense(path).items():
        grid = np.zeros((SEGMENTS, len(LLP_CLASSES)), dtype=bool)
        for label, segments in events.items():
            grid[sorted(segments), CLASS_INDEX[label]] = True
        out[filename] = grid
    return out


def dense_for(names: list[str], dense: dict[str, np.ndarray]) -> np.ndarray:
    """(N, 10, 25) segment labels for the given files; files without a row are all False."""
    empty = np.zeros((SEGMENTS, len(LLP_CLASSES)), dtype=bool)
    return np.stack([dense.get(name, empty) for name in names])
