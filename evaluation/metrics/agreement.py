"""Agreement: Fleiss' kappa and Krippendorff's alpha (nominal) from counts."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evaluation.metrics._arrays import FloatArray, IntArray, _as_int, _safe_divide
from evaluation.metrics.codes import ABSENT, PRESENT


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
