"""Datasets the model zoo brings: a synthetic dataset imported through the annotator's importers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from annotator import selectors as annotator_selectors
from annotator import services as annotator_services
from annotator.models import Dataset
from config.errors import ApplicationError

if TYPE_CHECKING:
    from annotator.importers.report import ImportReport


def synthetic_dataset_import(
    *,
    root: Path,
    dataset_name: str,
    taxonomy_name: str = "",
    owner=None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Dataset, dict[str, ImportReport]]:
    """Import a folder written by ``modelzoo.synthetic.generate_dataset`` through the
    annotator's importers: its class list as a taxonomy, its clips CSV (generic format) and
    its media files (probed). Reruns update, never duplicate. ``owner`` (a researcher) owns
    the dataset; without one it is for admins only. A dataset someone else owns is refused
    before anything is imported."""
    from annotator.importers.clips import clips_import
    from annotator.importers.media import media_import
    from annotator.importers.taxonomy import taxonomy_import
    from modelzoo import synthetic

    root = Path(root).resolve()
    if not (root / synthetic.CLASSES_FILE).is_file() or not (root / synthetic.CLIPS_CSV).is_file():
        raise ApplicationError(
            f"{root} holds no synthetic dataset (no {synthetic.CLASSES_FILE} / {synthetic.CLIPS_CSV})"
        )
    taxonomy_name = taxonomy_name or dataset_name
    if owner is not None:
        annotator_services.dataset_claim(name=dataset_name, owner=owner)
    reports = {
        "taxonomy": taxonomy_import(name=taxonomy_name, path=root / synthetic.CLASSES_FILE, file_format="lines"),
        "clips": clips_import(
            dataset_name=dataset_name,
            path=root / synthetic.CLIPS_CSV,
            file_format="generic",
            taxonomy_name=taxonomy_name,
        ),
    }
    dataset = annotator_selectors.dataset_get_by_name(name=dataset_name)
    if owner is not None:
        annotator_services.dataset_owner_set(dataset=dataset, owner=owner)
    reports["media"] = media_import(dataset=dataset, folder=root / synthetic.CLIPS_DIR, on_progress=on_progress)
    return dataset, reports
