"""Reads for evaluation: studies and model runs turned into numpy arrays for ``metrics``.

Other apps' tables are read through their selectors only: judgments, categories and clips
through ``annotator.selectors`` (bulk rows in ``annotator.selectors.judgments``), runs and
predictions through ``modelzoo.selectors``. Who may see a study is annotator's rule
(``annotator.selectors.studies_for_researcher``), who may see a run modelzoo's
(``modelzoo.selectors.runs_for_researcher``).

``access`` holds who sees which runs and reports, ``clips`` the clip table both loaders
share, ``studies`` and ``runs`` the loaders; every public name is importable from here.
"""

from evaluation.selectors.access import (
    companion_runs,
    report_for_user,
    report_latest,
    reports_for_user,
    run_for_user,
    runs_by_ids,
    runs_for_user,
)
from evaluation.selectors.clips import ClipTable, clip_subset, clip_table, taxonomy_categories
from evaluation.selectors.runs import RunData, run_data
from evaluation.selectors.studies import ANSWER_CODES, StudyData, study_data

__all__ = [
    "ANSWER_CODES",
    "ClipTable",
    "RunData",
    "StudyData",
    "clip_subset",
    "clip_table",
    "companion_runs",
    "report_for_user",
    "report_latest",
    "reports_for_user",
    "run_data",
    "run_for_user",
    "runs_by_ids",
    "runs_for_user",
    "study_data",
    "taxonomy_categories",
]
