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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: The event types, in the model's head order (mirrors ``modelzoo.nn.model.HEAD_NAMES``).
EVENT_TYPES: tuple[str, ...] = ("continuous", "instant", "onset", "visual", "audio")
#: The audio-visual heads compared in Table 3.
AV_HEADS: tuple[str, ...] = ("continuous", "instant", "onset")

ANSWERS: tuple[str, ...] = ("present", "absent", "unsure")
PRESENT, ABSENT, UNSURE = 0, 1, 2


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _as_int(values: ArrayLike, name: str, ndim: int) -> IntArray:
    array = np.asarray(values)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer) and not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError(f"{name} must hold integers")
    return array.astype(np.int64, copy=False)


def _as_indicator(values: ArrayLike, name: str) -> BoolArray:
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, C) indicator matrix, got shape {array.shape}")
    if array.dtype != np.bool_:
        if array.size and not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0/1 or booleans")
        array = array.astype(np.bool_)
    return array


def _safe_divide(numerator: ArrayLike, denominator: ArrayLike, zero_division: float = np.nan) -> FloatArray:
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, zero_division, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


# --------------------------------------------------------------------------------------
# Single-label accuracy (Table 1)
# --------------------------------------------------------------------------------------


def correct_matrix(predictions: ArrayLike, truth: ArrayLike) -> BoolArray:
    """Which predictions hit the truth.

    predictions: (N,) or (H, N) class indices, -1 for "no prediction".
    truth: (N,) class indices (single label) or (N, C) indicator (a hit is any true label).
    Returns a boolean array of the predictions' shape.
    """
    preds = np.asarray(predictions)
    if preds.ndim not in (1, 2):
        raise ValueError(f"predictions must be (N,) or (H, N), got shape {preds.shape}")
    preds = _as_int(preds, "predictions", preds.ndim)
    n = preds.shape[-1]
    truth_arr = np.asarray(truth)
    if truth_arr.ndim == 1:
        labels = _as_int(truth_arr, "truth", 1)
        if labels.shape[0] != n:
            raise ValueError(f"truth has {labels.shape[0]} clips, predictions {n}")
        if labels.size and labels.min() < 0:
            raise ValueError("truth holds a negative class index; drop unlabelled clips first")
        return (preds == labels) & (preds >= 0)
    indicator = _as_indicator(truth_arr, "truth")
    if indicator.shape[0] != n:
        raise ValueError(f"truth has {indicator.shape[0]} clips, predictions {n}")
    c = indicator.shape[1]
    if preds.size and preds.max() >= c:
        raise ValueError(f"a prediction names class {int(preds.max())} but truth has only {c} classes")
    safe = np.clip(preds, 0, max(c - 1, 0))
    rows = np.arange(n)
    return indicator[rows, safe] & (preds >= 0) if c else np.zeros(preds.shape, dtype=np.bool_)


def accuracy(predictions: ArrayLike, truth: ArrayLike) -> float:
    """Share of clips whose prediction is a true label.

    predictions: (N,) class indices (-1 = none); truth: (N,) indices or (N, C) indicator.
    Use it for one head, for a baseline's argmax, or for the vote label.
    """
    hits = correct_matrix(predictions, truth)
    return float(hits.mean()) if hits.size else float("nan")


def head_accuracies(head_predictions: ArrayLike, truth: ArrayLike) -> FloatArray:
    """Accuracy per head. head_predictions: (H, N); truth: (N,) or (N, C). Returns (H,)."""
    preds = np.asarray(head_predictions)
    if preds.ndim != 2:
        raise ValueError(f"head_predictions must be (H, N), got shape {preds.shape}")
    hits = correct_matrix(preds, truth)
    if hits.shape[1] == 0:
        return np.full(hits.shape[0], np.nan)
    return hits.mean(axis=1)


# --------------------------------------------------------------------------------------
# Label sets: union of heads, Top-K, cardinality (Table 2)
# --------------------------------------------------------------------------------------


def indices_to_indicator(label_sets: Sequence[Sequence[int]], num_classes: int) -> BoolArray:
    """Turn N lists of class indices into an (N, C) indicator; -1 entries are ignored."""
    out = np.zeros((len(label_sets), num_classes), dtype=np.bool_)
    lengths = np.fromiter((len(s) for s in label_sets), dtype=np.int64, count=len(label_sets))
    if lengths.sum() == 0:
        return out
    rows = np.repeat(np.arange(len(label_sets)), lengths)
    cols = np.fromiter((c for s in label_sets for c in s), dtype=np.int64, count=int(lengths.sum()))
    keep = cols >= 0
    if cols.size and cols.max() >= num_classes:
        raise ValueError(f"class index {int(cols.max())} is outside [0, {num_classes})")
    out[rows[keep], cols[keep]] = True
    return out


def union_indicator(head_predictions: ArrayLike, num_classes: int) -> BoolArray:
    """The multi-label set P = union over heads of each head's top-1.

    head_predictions: (H, N) class indices (-1 = head gave nothing). Returns (N, C).
    """
    preds = _as_int(head_predictions, "head_predictions", 2)
    if preds.size and preds.max() >= num_classes:
        raise ValueError(f"class index {int(preds.max())} is outside [0, {num_classes})")
    n = preds.shape[1]
    out = np.zeros((n, num_classes), dtype=np.bool_)
    rows = np.broadcast_to(np.arange(n), preds.shape)
    keep = preds >= 0
    out[rows[keep], preds[keep]] = True
    return out


def top_k_indicators(scores: ArrayLike, ks: Sequence[int]) -> dict[int, BoolArray]:
    """Top-K label sets from scores, for several K at once.

    scores: (N, C) floats (probabilities or logits). Returns {K: (N, C) indicator} with
    exactly min(K, C) labels per clip. Ties at the K-th score go to the lower class index,
    so the result is deterministic.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be (N, C), got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError("scores hold NaN")
    n, c = s.shape
    if not ks:
        return {}
    if min(ks) < 1:
        raise ValueError("K must be at least 1")
    kmax = min(max(ks), c)
    # The kmax largest values per row, ascending (one partition, then a sort of kmax columns).
    tail = np.sort(np.partition(s, c - kmax, axis=1)[:, c - kmax :], axis=1)
    result: dict[int, BoolArray] = {}
    for k in ks:
        k_eff = min(k, c)
        if k_eff == c:
            result[k] = np.ones((n, c), dtype=np.bool_)
            continue
        kth = tail[:, kmax - k_eff][:, None]
        chosen = s >= kth
        tied = np.flatnonzero(chosen.sum(axis=1) > k_eff)
        if tied.size:  # several classes share the K-th score: keep the lower indices
            sub, sub_kth = s[tied], kth[tied]
            ties = sub == sub_kth
            need = k_eff - (sub > sub_kth).sum(axis=1, keepdims=True)
            chosen[tied] = (sub > sub_kth) | (ties & (np.cumsum(ties, axis=1) <= need))
        result[k] = chosen
    return result


def top_k_indicator(scores: ArrayLike, k: int) -> BoolArray:
    """Top-K label set from (N, C) scores as an (N, C) indicator (see ``top_k_indicators``)."""
    return top_k_indicators(scores, [k])[k]


@dataclass(frozen=True)
class Cardinality:
    """Label-set sizes: mean and histogram (``histogram[s]`` = clips with s labels)."""

    mean: float
    histogram: IntArray


def cardinality(indicator: ArrayLike, *, max_size: int | None = None) -> Cardinality:
    """Mean |P| and a histogram of |P| over clips.

    indicator: (N, C). The histogram has max(max_size, largest set) + 1 bins (0..size).
    """
    sizes = _as_indicator(indicator, "indicator").sum(axis=1)
    length = max(max_size or 0, int(sizes.max()) if sizes.size else 0) + 1
    return Cardinality(
        mean=float(sizes.mean()) if sizes.size else float("nan"),
        histogram=np.bincount(sizes, minlength=length).astype(np.int64),
    )


# --------------------------------------------------------------------------------------
# Multi-label precision / recall / F1
# --------------------------------------------------------------------------------------

AVERAGES = ("samples", "micro", "macro")


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[BoolArray, BoolArray]:
    t = _as_indicator(y_true, "y_true")
    p = _as_indicator(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    return t, p


def multilabel_prf(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> PRF:
    """Precision, recall and F1 of (N, C) indicator matrices.

    average:
      - "samples": per clip P = |T&P|/|P|, R = |T&P|/|T|, F1 = 2|T&P|/(|T|+|P|), then the
        mean over clips (the paper's Table 2 score);
      - "micro": the same ratios over all (clip, class) cells pooled;
      - "macro": per class over clips, then the unweighted mean over classes.
    zero_division: the value of a ratio whose denominator is 0 (scikit-learn's
    ``zero_division`` with the same meaning, F1 included).
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    t, p = _check_pair(y_true, y_pred)
    axis = 1 if average == "samples" else 0
    if average == "micro":
        tp = np.array([np.count_nonzero(t & p)])
        n_true = np.array([np.count_nonzero(t)])
        n_pred = np.array([np.count_nonzero(p)])
    else:
        tp = (t & p).sum(axis=axis)
        n_true = t.sum(axis=axis)
        n_pred = p.sum(axis=axis)
    precision = _safe_divide(tp, n_pred, zero_division)
    recall = _safe_divide(tp, n_true, zero_division)
    f1 = _safe_divide(2 * tp, n_true + n_pred, zero_division)
    if precision.size == 0:
        return PRF(float("nan"), float("nan"), float("nan"))
    return PRF(float(precision.mean()), float(recall.mean()), float(f1.mean()))


def f1_score(y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0) -> float:
    """F1 of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).f1


def precision_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> float:
    """Precision of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).precision


def recall_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, average: str = "samples", zero_division: float = 0.0
) -> float:
    """Recall of (N, C) indicators (see ``multilabel_prf``)."""
    return multilabel_prf(y_true, y_pred, average=average, zero_division=zero_division).recall


def multilabel_report(y_true: ArrayLike, y_pred: ArrayLike, *, zero_division: float = 0.0) -> dict[str, PRF]:
    """``multilabel_prf`` for every average: {"samples": PRF, "micro": PRF, "macro": PRF}."""
    t, p = _check_pair(y_true, y_pred)
    return {avg: multilabel_prf(t, p, average=avg, zero_division=zero_division) for avg in AVERAGES}


# --------------------------------------------------------------------------------------
# Human study: items, majority rule, acceptance, decoys
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyItems:
    """The rated items of a study, as arrays.

    counts: (M, 3) answers per item, columns present / absent / unsure.
    clip: (M,) clip index in [0, n_clips) of each item.
    label: (M,) class index of each item.
    is_decoy: (M,) True for decoys, False for model proposals.
    n_clips: N, the number of clips (clips with no item still count in per-clip means).
    """

    counts: IntArray
    clip: IntArray
    label: IntArray
    is_decoy: BoolArray
    n_clips: int

    def __post_init__(self) -> None:
        m = self.counts.shape[0]
        if self.counts.ndim != 2 or self.counts.shape[1] != len(ANSWERS):
            raise ValueError(f"counts must be (M, 3), got shape {self.counts.shape}")
        for name in ("clip", "label", "is_decoy"):
            if getattr(self, name).shape != (m,):
                raise ValueError(f"{name} must be ({m},), got shape {getattr(self, name).shape}")
        if m and (self.clip.min() < 0 or self.clip.max() >= self.n_clips):
            raise ValueError(f"clip indices must lie in [0, {self.n_clips})")
        if m and self.counts.min() < 0:
            raise ValueError("counts must be non-negative")


def answer_counts(item_index: ArrayLike, answers: ArrayLike, n_items: int) -> IntArray:
    """Count answers per item. item_index: (J,) in [0, M); answers: (J,) codes 0..2. Returns (M, 3)."""
    items = _as_int(item_index, "item_index", 1)
    codes = _as_int(answers, "answers", 1)
    if items.shape != codes.shape:
        raise ValueError("item_index and answers differ in length")
    if codes.size and (codes.min() < 0 or codes.max() >= len(ANSWERS)):
        raise ValueError("answers must be codes 0 (present), 1 (absent) or 2 (unsure)")
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"item_index must lie in [0, {n_items})")
    flat = np.bincount(items * len(ANSWERS) + codes, minlength=n_items * len(ANSWERS))
    return flat.reshape(n_items, len(ANSWERS)).astype(np.int64)


def majority_confirmed(counts: ArrayLike) -> BoolArray:
    """The majority rule: is each item confirmed by its raters?

    counts: (M, 3) present / absent / unsure. An item is confirmed when more raters said
    "present" than "absent", i.e. present > half of the decisive (non-unsure) answers.
    "Unsure" is an abstention: it counts for neither side. A tie, or an item with only
    unsure answers, is not confirmed. Returns (M,) bool.
    """
    c = np.asarray(counts)
    return c[:, PRESENT] > c[:, ABSENT]


def majority_rejected(counts: ArrayLike) -> BoolArray:
    """Mirror of ``majority_confirmed``: absent > present. Ties are neither. Returns (M,)."""
    c = np.asarray(counts)
    return c[:, ABSENT] > c[:, PRESENT]


def corrected_acceptance(acceptance: ArrayLike, decoy_acceptance: ArrayLike) -> FloatArray:
    """Acceptance corrected for raters' tendency to accept wrong labels: (a - d) / (1 - d).

    If raters confirm a wrong label with probability d (measured on decoys, labels the model
    did not propose) and a right one always, an observed acceptance a arises from a true
    share t of right proposals as a = t + (1 - t) d, hence t = (a - d) / (1 - d) (the
    classic correction for guessing). It can be negative when a < d; d = 1 gives nan.
    """
    a = np.asarray(acceptance, dtype=np.float64)
    d = np.asarray(decoy_acceptance, dtype=np.float64)
    return _safe_divide(a - d, 1.0 - d)


#: Columns of ``acceptance_clip_sums``.
ACCEPTANCE_SUMS = ("confirmed_proposals", "proposals", "confirmed_decoys", "decoys", "clips")


def acceptance_clip_sums(items: StudyItems) -> FloatArray:
    """Per clip: confirmed proposals, proposals, confirmed decoys, decoys, 1. Returns (N, 5)."""
    confirmed = majority_confirmed(items.counts)
    proposal = ~items.is_decoy
    n = items.n_clips
    return np.stack(
        [
            np.bincount(items.clip, weights=confirmed & proposal, minlength=n),
            np.bincount(items.clip, weights=proposal, minlength=n),
            np.bincount(items.clip, weights=confirmed & items.is_decoy, minlength=n),
            np.bincount(items.clip, weights=items.is_decoy, minlength=n),
            np.ones(n),
        ],
        axis=1,
    ).astype(np.float64)


def acceptance_from_sums(sums: ArrayLike) -> FloatArray:
    """Acceptance statistics from summed ``acceptance_clip_sums`` columns.

    sums: (..., 5) summed over clips (the last column then counts clips). Returns (..., 4):
    acceptance (confirmed proposals / proposals), correct labels per clip (confirmed
    proposals / clips), decoy acceptance (confirmed decoys / decoys), corrected acceptance.
    """
    s = np.asarray(sums, dtype=np.float64)
    acceptance = _safe_divide(s[..., 0], s[..., 1])
    per_clip = _safe_divide(s[..., 0], s[..., 4])
    decoy = _safe_divide(s[..., 2], s[..., 3])
    return np.stack([acceptance, per_clip, decoy, corrected_acceptance(acceptance, decoy)], axis=-1)


# --------------------------------------------------------------------------------------
# Agreement: Fleiss' kappa and Krippendorff's alpha (nominal) from counts
# --------------------------------------------------------------------------------------


def _check_counts(counts: ArrayLike) -> FloatArray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"counts must be (M, K), got shape {c.shape}")
    if c.size and c.min() < 0:
        raise ValueError("counts must be non-negative")
    return c


def kappa_item_terms(counts: ArrayLike) -> FloatArray:
    """Per-item additive terms of Fleiss' kappa: (M, 2 + K) = [P_i, 1, n_i1 .. n_iK].

    counts: (M, K) ratings per item and category. P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1))
    is the item's observed pairwise agreement. Items rated fewer than twice cannot form a
    pair: their row is all zeros, so they drop out of any sum.
    """
    c = _check_counts(counts)
    n_i = c.sum(axis=1)
    pairable = n_i >= 2
    p_i = _safe_divide((c * c).sum(axis=1) - n_i, n_i * (n_i - 1), 0.0)
    terms = np.concatenate([p_i[:, None], np.ones((c.shape[0], 1)), c], axis=1)
    terms[~pairable] = 0.0
    return terms


def kappa_from_sums(sums: ArrayLike) -> FloatArray:
    """Fleiss' kappa from summed ``kappa_item_terms`` (..., 2 + K) -> (...).

    kappa = (P_bar - P_e) / (1 - P_e), P_bar = mean P_i over pairable items, P_e = sum_j
    p_j^2 with p_j the share of category j among their ratings. With every item rated by the
    same number of raters this is exactly Fleiss (1971); with varying numbers it is the usual
    generalisation (each item's agreement weighted equally). nan when undefined (no pairable
    item, or a single category used: P_e = 1).
    """
    s = np.asarray(sums, dtype=np.float64)
    p_bar = _safe_divide(s[..., 0], s[..., 1])
    totals = s[..., 2:].sum(axis=-1, keepdims=True)
    p_j = _safe_divide(s[..., 2:], totals)
    p_e = (p_j * p_j).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        return _safe_divide(p_bar - p_e, 1.0 - p_e)


def fleiss_kappa(counts: ArrayLike) -> float:
    """Fleiss' kappa of an (M, K) table of ratings per item and category (see ``kappa_from_sums``)."""
    return float(kappa_from_sums(kappa_item_terms(counts).sum(axis=0)))


def alpha_item_terms(counts: ArrayLike) -> FloatArray:
    """Per-unit additive terms of Krippendorff's nominal alpha: (M, 2 + K) = [D_u, m_u, n_u1 .. n_uK].

    counts: (M, K) values per unit (missing values simply are not counted, so any number of
    coders per unit works). m_u = sum_k n_uk; D_u = sum_k n_uk (n_uk - 1) / (m_u - 1) is
    the unit's contribution to the diagonal of the coincidence matrix. Units with m_u < 2
    are not pairable and contribute zeros.
    """
    c = _check_counts(counts)
    m_u = c.sum(axis=1)
    pairable = m_u >= 2
    d_u = _safe_divide((c * (c - 1)).sum(axis=1), m_u - 1, 0.0)
    terms = np.concatenate([d_u[:, None], m_u[:, None], c], axis=1)
    terms[~pairable] = 0.0
    return terms


def alpha_from_sums(sums: ArrayLike) -> FloatArray:
    """Krippendorff's alpha (nominal) from summed ``alpha_item_terms`` (..., 2 + K) -> (...).

    With n pairable values, n_k of them in category k, and O = sum of D_u (agreeing
    coincidences): alpha = 1 - (n - 1) (n - O) / (n^2 - sum_k n_k^2). nan when undefined
    (fewer than two pairable values, or a single category: no expected disagreement).
    """
    s = np.asarray(sums, dtype=np.float64)
    n = s[..., 1]
    observed_disagreement = (n - 1.0) * (n - s[..., 0])
    expected_disagreement = n * n - (s[..., 2:] ** 2).sum(axis=-1)
    return 1.0 - _safe_divide(observed_disagreement, expected_disagreement)


def krippendorff_alpha_nominal(counts: ArrayLike) -> float:
    """Krippendorff's alpha, nominal level, from (M, K) value counts per unit."""
    return float(alpha_from_sums(alpha_item_terms(counts).sum(axis=0)))


def _group_sums(terms: FloatArray, group: ArrayLike, n_groups: int) -> FloatArray:
    """Sum (M, T) rows by group (M,) -> (G, T), vectorised with one bincount per column."""
    g = _as_int(group, "group", 1)
    if g.shape[0] != terms.shape[0]:
        raise ValueError("group and counts differ in length")
    if g.size and (g.min() < 0 or g.max() >= n_groups):
        raise ValueError(f"group indices must lie in [0, {n_groups})")
    out = np.empty((n_groups, terms.shape[1]), dtype=np.float64)
    for j in range(terms.shape[1]):
        out[:, j] = np.bincount(g, weights=terms[:, j], minlength=n_groups)
    return out


def fleiss_kappa_by_group(counts: ArrayLike, group: ArrayLike, n_groups: int) -> FloatArray:
    """Fleiss' kappa per group (e.g. per label): counts (M, K), group (M,) -> (G,)."""
    return kappa_from_sums(_group_sums(kappa_item_terms(counts), group, n_groups))


def krippendorff_alpha_by_group(counts: ArrayLike, group: ArrayLike, n_groups: int) -> FloatArray:
    """Krippendorff's nominal alpha per group: counts (M, K), group (M,) -> (G,)."""
    return alpha_from_sums(_group_sums(alpha_item_terms(counts), group, n_groups))


def agreement_counts(counts: ArrayLike, *, unsure_as_category: bool = False) -> IntArray:
    """The answer columns agreement is measured on.

    By default "unsure" is treated as a missing value (the rater abstained), so agreement
    is on present/absent: (M, 2). With ``unsure_as_category`` it is a third category: (M, 3).
    """
    c = np.asarray(counts, dtype=np.int64)
    return c if unsure_as_category else c[:, [PRESENT, ABSENT]]


# --------------------------------------------------------------------------------------
# Bootstrap over clips
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval (nan bounds when undefined)."""

    estimate: float
    low: float
    high: float


def _draw_blocks(n_clips: int, n_boot: int, seed: int, block: int) -> Iterator[FloatArray]:
    """Yield (b, N) resample count blocks, b <= block, B rows in all, from one seeded stream."""
    if n_clips < 1:
        raise ValueError("bootstrap needs at least one clip")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        draws = rng.integers(0, n_clips, size=(rows, n_clips), dtype=np.int64)
        draws += (np.arange(rows, dtype=np.int64) * n_clips)[:, None]
        yield np.bincount(draws.ravel(), minlength=rows * n_clips).reshape(rows, n_clips).astype(np.float64)


def bootstrap_weights(n_clips: int, *, n_boot: int = 1000, seed: int = 0) -> FloatArray:
    """How often each clip is drawn in each resample: (B, N) counts, each row summing to N.

    A resample draws N clips with replacement from ``numpy.random.default_rng(seed)``; row b
    holds the draws ``rng.integers(0, N, size=(B, N))[b]``.
    """
    return np.concatenate(list(_draw_blocks(n_clips, n_boot, seed, BOOTSTRAP_BLOCK)), axis=0)


#: Resamples materialised at once (bounds memory to BLOCK x N floats).
BOOTSTRAP_BLOCK = 64


def bootstrap_intervals(
    clip_sums: ArrayLike,
    statistic: Callable[[FloatArray], FloatArray],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> list[Interval]:
    """Percentile bootstrap intervals for statistics that are functions of sums over clips.

    clip_sums: (N, S) additive per-clip terms (e.g. ``acceptance_clip_sums``, or item terms
    of kappa/alpha summed per clip). statistic maps summed terms (..., S) to (..., R).
    A resample's sums are a row of ``bootstrap_weights(N) @ clip_sums`` (B, S): the whole
    bootstrap is a few matrix products, done in blocks of ``BOOTSTRAP_BLOCK`` resamples.
    Returns R intervals; resamples where a statistic is nan (e.g. no decoy drawn) are left
    out of its percentiles.
    """
    if not 0 < level < 1:
        raise ValueError("level must lie in (0, 1)")
    sums = np.asarray(clip_sums, dtype=np.float64)
    if sums.ndim != 2:
        raise ValueError(f"clip_sums must be (N, S), got shape {sums.shape}")
    resampled_sums = np.concatenate(
        [block @ sums for block in _draw_blocks(sums.shape[0], n_boot, seed, BOOTSTRAP_BLOCK)], axis=0
    )
    estimate = np.atleast_1d(statistic(sums.sum(axis=0)))
    resampled = np.asarray(statistic(resampled_sums)).reshape(n_boot, -1)
    tail = (1.0 - level) / 2.0 * 100.0
    out = []
    for r in range(estimate.shape[0]):
        column = resampled[:, r]
        column = column[~np.isnan(column)]
        if column.size == 0 or np.isnan(estimate[r]):
            out.append(Interval(float(estimate[r]), float("nan"), float("nan")))
            continue
        low, high = np.percentile(column, [tail, 100.0 - tail])
        out.append(Interval(float(estimate[r]), float(low), float(high)))
    return out


# --------------------------------------------------------------------------------------
# The human-study summary (one call, one set of bootstrap weights)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudySummary:
    """The human-study figures with bootstrap 95% intervals over clips."""

    n_clips: int
    n_proposals: int
    n_decoys: int
    mean_proposals_per_clip: float
    acceptance: Interval
    correct_per_clip: Interval
    decoy_acceptance: Interval
    corrected_acceptance: Interval
    fleiss_kappa: Interval
    krippendorff_alpha: Interval


def study_summary(
    items: StudyItems, *, n_boot: int = 1000, seed: int = 0, unsure_as_category: bool = False
) -> StudySummary:
    """Acceptance, correct labels per clip, decoys, kappa and alpha, each with a 95% CI.

    Agreement (kappa, alpha) is over every shown item, proposals and decoys alike; see
    ``agreement_counts`` for how "unsure" is handled.
    """
    if items.n_clips < 1:
        raise ValueError("the study has no clips")
    n = items.n_clips
    acc = acceptance_clip_sums(items)
    agree = agreement_counts(items.counts, unsure_as_category=unsure_as_category)
    kappa_terms = _group_sums(kappa_item_terms(agree), items.clip, n)
    alpha_terms = _group_sums(alpha_item_terms(agree), items.clip, n)
    sums = np.concatenate([acc, kappa_terms, alpha_terms], axis=1)
    k = kappa_terms.shape[1]

    def statistic(s: FloatArray) -> FloatArray:
        kappa = kappa_from_sums(s[..., 5 : 5 + k])
        alpha = alpha_from_sums(s[..., 5 + k :])
        return np.concatenate([acceptance_from_sums(s[..., :5]), kappa[..., None], alpha[..., None]], axis=-1)

    acceptance, per_clip, decoy, corrected, kappa, alpha = bootstrap_intervals(
        sums, statistic, n_boot=n_boot, seed=seed
    )
    n_proposals = int((~items.is_decoy).sum())
    return StudySummary(
        n_clips=n,
        n_proposals=n_proposals,
        n_decoys=int(items.is_decoy.sum()),
        mean_proposals_per_clip=n_proposals / n,
        acceptance=acceptance,
        correct_per_clip=per_clip,
        decoy_acceptance=decoy,
        corrected_acceptance=corrected,
        fleiss_kappa=kappa,
        krippendorff_alpha=alpha,
    )


def acceptance_by_label(items: StudyItems, n_labels: int) -> tuple[FloatArray, IntArray]:
    """Share of each label's proposals (decoys excluded) confirmed: ((L,) rate, (L,) proposals)."""
    proposal = ~items.is_decoy
    confirmed = majority_confirmed(items.counts) & proposal
    shown = np.bincount(items.label[proposal], minlength=n_labels)
    hits = np.bincount(items.label[confirmed], minlength=n_labels)
    return _safe_divide(hits, shown), shown.astype(np.int64)


# --------------------------------------------------------------------------------------
# Raters: gold accuracy, decoy acceptance, time, agreement with the others
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaterQuality:
    """Per rater (R,): judgments, gold accuracy, decoy acceptance, agreement, median seconds."""

    n_judgments: IntArray
    gold_accuracy: FloatArray
    decoy_acceptance: FloatArray
    consensus_agreement: FloatArray
    median_seconds: FloatArray


def grouped_median(values: ArrayLike, group: ArrayLike, n_groups: int) -> FloatArray:
    """Median of values (V,) per group (V,) -> (G,), nan for empty groups; NaN values are skipped."""
    v = np.asarray(values, dtype=np.float64)
    g = _as_int(group, "group", 1)
    keep = ~np.isnan(v)
    v, g = v[keep], g[keep]
    order = np.lexsort((v, g))
    v, g = v[order], g[order]
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.full(n_groups, np.nan)
    has = sizes > 0
    lo = starts[has] + (sizes[has] - 1) // 2
    hi = starts[has] + sizes[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def rater_quality(
    *,
    rater: ArrayLike,
    item: ArrayLike,
    answer: ArrayLike,
    counts: ArrayLike,
    is_decoy: ArrayLike,
    gold_truth: ArrayLike,
    n_raters: int,
    rating_rater: ArrayLike,
    rating_seconds: ArrayLike,
) -> RaterQuality:
    """Quality figures per rater.

    rater, item, answer: (J,) one entry per judgment on a shown label (rater index in
    [0, R), item index in [0, M), answer code). counts: (M, 3) all raters' answers per item.
    is_decoy: (M,). gold_truth: (M,) int, -1 for items of non-gold clips, else 1 when the
    label is among the clip's original labels and 0 when it is not.
    rating_rater, rating_seconds: (Q,) one entry per completed rating (seconds may be nan).

    - gold accuracy: share of the rater's decisive answers on gold items that match the
      original labels (present on an original label, absent on any other); unsure is skipped;
    - decoy acceptance: share of the rater's decoy judgments answered "present";
    - consensus agreement: share of the rater's decisive answers that match the majority of
      the *other* raters of the item (leave-one-out; items where the others tie or abstain
      are skipped);
    - median seconds per clip over the rater's completed ratings.
    """
    r = _as_int(rater, "rater", 1)
    i = _as_int(item, "item", 1)
    a = _as_int(answer, "answer", 1)
    c = np.asarray(counts, dtype=np.int64)
    decoy = np.asarray(is_decoy, dtype=np.bool_)[i]
    gold = _as_int(gold_truth, "gold_truth", 1)[i]
    decisive = a != UNSURE

    on_gold = (gold >= 0) & decisive
    gold_hit = on_gold & (a == np.where(gold == 1, PRESENT, ABSENT))
    gold_accuracy = _safe_divide(
        np.bincount(r, weights=gold_hit, minlength=n_raters), np.bincount(r, weights=on_gold, minlength=n_raters)
    )
    decoy_accepted = decoy & (a == PRESENT)
    decoy_acceptance = _safe_divide(
        np.bincount(r, weights=decoy_accepted, minlength=n_raters),
        np.bincount(r, weights=decoy, minlength=n_raters),
    )
    others = c[i].copy()
    others[np.arange(a.shape[0]), a] -= 1
    others_present = others[:, PRESENT] > others[:, ABSENT]
    others_absent = others[:, ABSENT] > others[:, PRESENT]
    comparable = decisive & (others_present | others_absent)
    agrees = comparable & np.where(a == PRESENT, others_present, others_absent)
    agreement = _safe_divide(
        np.bincount(r, weights=agrees, minlength=n_raters), np.bincount(r, weights=comparable, minlength=n_raters)
    )
    return RaterQuality(
        n_judgments=np.bincount(r, minlength=n_raters).astype(np.int64),
        gold_accuracy=gold_accuracy,
        decoy_acceptance=decoy_acceptance,
        consensus_agreement=agreement,
        median_seconds=grouped_median(rating_seconds, rating_rater, n_raters),
    )


# --------------------------------------------------------------------------------------
# Table 3: complementarity of the audio-visual heads
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Complementarity:
    """Table 3 counts over clips for the continuous / instant / onset heads.

    only_continuous, only_instant, only_onset: clips that head gets right while the other
    two are wrong (the paper's first three columns); new_heads_over_continuous: clips the
    continuous head gets wrong and instant or onset right, ``(Ins. or Ons.) and not Cont.``
    (the paper's last column). exactly_two, all_three, none: the remaining patterns.
    """

    only_continuous: int
    only_instant: int
    only_onset: int
    new_heads_over_continuous: int
    exactly_two: int
    all_three: int
    none: int
    n_clips: int


def complementarity(correct: ArrayLike) -> Complementarity:
    """Table 3 from correctness of the AV heads. correct: (3, N) bool, rows continuous,
    instant, onset (``AV_HEADS``)."""
    hits = np.asarray(correct, dtype=np.bool_)
    if hits.ndim != 2 or hits.shape[0] != 3:
        raise ValueError(f"correct must be (3, N) for {AV_HEADS}, got shape {hits.shape}")
    code = hits[0].astype(np.int64) | (hits[1].astype(np.int64) << 1) | (hits[2].astype(np.int64) << 2)
    pattern = np.bincount(code, minlength=8)
    return Complementarity(
        only_continuous=int(pattern[0b001]),
        only_instant=int(pattern[0b010]),
        only_onset=int(pattern[0b100]),
        new_heads_over_continuous=int(pattern[0b010] + pattern[0b100] + pattern[0b110]),
        exactly_two=int(pattern[0b011] + pattern[0b101] + pattern[0b110]),
        all_three=int(pattern[0b111]),
        none=int(pattern[0b000]),
        n_clips=int(hits.shape[1]),
    )


# --------------------------------------------------------------------------------------
# Table 4: event characteristics
# --------------------------------------------------------------------------------------


def dominant_event_types(label_probs: ArrayLike) -> IntArray:
    """Dominant event type per clip: argmax over heads of the softmax probability of the
    clip's true label.

    label_probs: (N, H) with H = len(EVENT_TYPES) in head order. Ties go to the earlier head;
    rows with any NaN (no usable prediction) get -1. Returns (N,) head indices.
    """
    p = np.asarray(label_probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"label_probs must be (N, H), got shape {p.shape}")
    if p.shape[1] == 0:
        raise ValueError("label_probs has no head column")
    bad = np.asarray(np.isnan(p).any(axis=1), dtype=np.bool_)
    out = np.argmax(np.where(bad[:, None], 0.0, p), axis=1).astype(np.int64)
    out[bad] = -1
    return out


def category_event_types(clip_types: ArrayLike, clip_category: ArrayLike, n_categories: int, n_types: int) -> IntArray:
    """A category's event type: the majority over its clips' dominant types.

    clip_types: (N,) type indices (-1 = unknown, ignored); clip_category: (N,) category
    indices. Ties go to the earlier type; categories without a typed clip get -1. Returns (C,).
    """
    t = _as_int(clip_types, "clip_types", 1)
    cat = _as_int(clip_category, "clip_category", 1)
    if t.shape != cat.shape:
        raise ValueError("clip_types and clip_category differ in length")
    keep = t >= 0
    if keep.any() and (t[keep].max() >= n_types or cat[keep].min() < 0 or cat[keep].max() >= n_categories):
        raise ValueError("a type or category index is out of range")
    votes = np.bincount(cat[keep] * n_types + t[keep], minlength=n_categories * n_types).reshape(n_categories, n_types)
    out = votes.argmax(axis=1).astype(np.int64)
    out[votes.sum(axis=1) == 0] = -1
    return out


def event_type_counts(category_types: ArrayLike, n_types: int) -> IntArray:
    """Table 4 row: number of categories per event type, (T,); untyped (-1) ones are skipped."""
    t = _as_int(category_types, "category_types", 1)
    return np.bincount(t[t >= 0], minlength=n_types).astype(np.int64)
