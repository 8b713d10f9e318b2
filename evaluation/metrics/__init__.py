"""Evaluation metrics as plain, vectorised numpy functions (no Django).

Shapes use these letters: N clips, C classes, H heads, M rated items (one item is one
(clip, shown label) pair of a study), J judgments (one rater's answer on one item), K
answer categories, B bootstrap resamples, G groups (labels, raters, categories).

Conventions
- A class index is an int in [0, C); ``-1`` means "no prediction" and is never correct.
- Indicator matrices are boolean (N, C): ``y[n, c]`` is True when clip n has class c.
- Answers are coded ``PRESENT = 0``, ``ABSENT = 1``, ``UNSURE = 2`` (see ``ANSWERS``).
- Undefined values (a rate over an empty set, a kappa with a single observed category)
  are ``nan``, never an exception, so a table can show them as "n/a".

The rules the human study uses (the paper's "62% of predicted labels confirmed") are
documented on ``majority_confirmed`` and ``corrected_acceptance``.

One module per concern (``single_label`` for Table 1, ``label_sets`` and ``multilabel``
for Table 2, ``study``, ``agreement``, ``bootstrap``, ``summary`` and ``raters`` for the
human study, ``av_heads`` for Table 3, ``event_types`` for Table 4); every public name is
importable from here, so callers write ``metrics.accuracy``.
"""

from evaluation.metrics._arrays import BoolArray, FloatArray, IntArray
from evaluation.metrics.agreement import (
    agreement_counts,
    alpha_from_sums,
    alpha_item_terms,
    fleiss_kappa,
    fleiss_kappa_by_group,
    kappa_from_sums,
    kappa_item_terms,
    krippendorff_alpha_by_group,
    krippendorff_alpha_nominal,
)
from evaluation.metrics.av_heads import Complementarity, complementarity
from evaluation.metrics.bootstrap import BOOTSTRAP_BLOCK, Interval, bootstrap_intervals, bootstrap_weights
from evaluation.metrics.codes import (
    ABSENT,
    ANSWERS,
    AV_HEADS,
    EVENT_TYPE_MODALITY,
    EVENT_TYPES,
    MODALITIES,
    PRESENT,
    UNSURE,
)
from evaluation.metrics.consensus import (
    ADDED_MIN_PRESENT,
    DECIDED_ABSENT,
    DECIDED_PRESENT,
    NOT_DECIDED,
    decided,
    decided_modality,
    label_confirmed,
    modality_agreement,
    modality_consensus,
)
from evaluation.metrics.event_types import category_event_types, dominant_event_types, event_type_counts
from evaluation.metrics.label_sets import (
    Cardinality,
    cardinality,
    indices_to_indicator,
    top_k_indicator,
    top_k_indicators,
    union_indicator,
)
from evaluation.metrics.multilabel import (
    AVERAGES,
    PRF,
    f1_score,
    multilabel_prf,
    multilabel_report,
    precision_score,
    recall_score,
)
from evaluation.metrics.raters import RaterQuality, grouped_median, rater_quality
from evaluation.metrics.single_label import accuracy, correct_matrix, head_accuracies
from evaluation.metrics.study import (
    ACCEPTANCE_SUMS,
    StudyItems,
    acceptance_clip_sums,
    acceptance_from_sums,
    answer_counts,
    corrected_acceptance,
    majority_confirmed,
    majority_rejected,
)
from evaluation.metrics.summary import StudySummary, acceptance_by_label, study_summary

__all__ = [
    "DECIDED_ABSENT",
    "DECIDED_PRESENT",
    "NOT_DECIDED",
    "decided",
    "decided_modality",
    "label_confirmed",
    "modality_agreement",
    "modality_consensus",
    "ABSENT",
    "ADDED_MIN_PRESENT",
    "ACCEPTANCE_SUMS",
    "ANSWERS",
    "EVENT_TYPE_MODALITY",
    "MODALITIES",
    "AVERAGES",
    "AV_HEADS",
    "BOOTSTRAP_BLOCK",
    "EVENT_TYPES",
    "PRESENT",
    "PRF",
    "UNSURE",
    "BoolArray",
    "Cardinality",
    "Complementarity",
    "FloatArray",
    "IntArray",
    "Interval",
    "RaterQuality",
    "StudyItems",
    "StudySummary",
    "acceptance_by_label",
    "acceptance_clip_sums",
    "acceptance_from_sums",
    "accuracy",
    "agreement_counts",
    "alpha_from_sums",
    "alpha_item_terms",
    "answer_counts",
    "bootstrap_intervals",
    "bootstrap_weights",
    "cardinality",
    "category_event_types",
    "complementarity",
    "correct_matrix",
    "corrected_acceptance",
    "dominant_event_types",
    "event_type_counts",
    "f1_score",
    "fleiss_kappa",
    "fleiss_kappa_by_group",
    "grouped_median",
    "head_accuracies",
    "indices_to_indicator",
    "kappa_from_sums",
    "kappa_item_terms",
    "krippendorff_alpha_by_group",
    "krippendorff_alpha_nominal",
    "majority_confirmed",
    "majority_rejected",
    "multilabel_prf",
    "multilabel_report",
    "precision_score",
    "rater_quality",
    "recall_score",
    "study_summary",
    "top_k_indicator",
    "top_k_indicators",
    "union_indicator",
]
