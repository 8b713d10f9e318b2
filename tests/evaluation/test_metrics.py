"""Metrics against small hand-computed cases."""

import math

import numpy as np
import pytest

from evaluation import metrics
from evaluation.metrics import ABSENT, PRESENT, UNSURE
from evaluation.metrics._arrays import _safe_divide

EXACT = 1e-12


# --- accuracy --------------------------------------------------------------------------


def test_accuracy_counts_no_prediction_as_wrong():
    assert metrics.accuracy([0, 2, -1, 1], [0, 1, 3, 1]) == 0.5


def test_head_accuracies_per_row():
    heads = np.array([[0, 1, 2, 3], [0, 0, 0, 0]])
    assert metrics.head_accuracies(heads, [0, 1, 2, 0]).tolist() == [0.75, 0.5]


def test_accuracy_against_multilabel_truth_accepts_any_true_label():
    truth = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    assert metrics.accuracy([1, 0], truth) == 0.5


def test_accuracy_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="clips"):
        metrics.accuracy([0, 1], [0, 1, 2])


# --- label sets --------------------------------------------------------------------------


def test_union_of_heads_ignores_missing_heads():
    heads = np.array([[0, 2], [0, -1], [1, 2]])
    assert metrics.union_indicator(heads, 3).tolist() == [[True, True, False], [False, False, True]]


def test_top_k_breaks_ties_towards_the_lower_index():
    scores = np.array([[0.2, 0.5, 0.5, 0.5], [0.9, 0.1, 0.3, 0.2]])
    result = metrics.top_k_indicators(scores, [1, 2, 4, 9])
    assert result[1].tolist() == [[False, True, False, False], [True, False, False, False]]
    assert result[2].tolist() == [[False, True, True, False], [True, False, True, False]]
    assert result[4].all() and result[9].all()


def test_top_k_rejects_k_zero():
    with pytest.raises(ValueError):
        metrics.top_k_indicator(np.zeros((2, 3)), 0)


def test_cardinality_mean_and_histogram():
    indicator = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 1, 0]], dtype=bool)
    result = metrics.cardinality(indicator, max_size=5)
    assert result.mean == 2.0
    assert result.histogram.tolist() == [0, 1, 2, 1, 0, 0]


def test_indices_to_indicator():
    assert metrics.indices_to_indicator([[0, 2], [], [1, -1]], 3).tolist() == [
        [True, False, True],
        [False, False, False],
        [False, True, False],
    ]


# --- precision / recall / F1 ------------------------------------------------------------


def test_sample_averaged_f1_by_hand():
    # clip 0: T={0,1}, P={0}: p=1, r=1/2, f1=2/3; clip 1: T={2}, P={1,2}: p=1/2, r=1, f1=2/3;
    # clip 2: T={0}, P={1}: all 0.
    truth = np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 0]], dtype=bool)
    samples = metrics.multilabel_prf(truth, pred, average="samples")
    assert samples.precision == pytest.approx(0.5, abs=EXACT)
    assert samples.recall == pytest.approx(0.5, abs=EXACT)
    assert samples.f1 == pytest.approx(4 / 9, abs=EXACT)
    # micro: tp=2, |P|=4, |T|=4
    micro = metrics.multilabel_prf(truth, pred, average="micro")
    assert (micro.precision, micro.recall, micro.f1) == pytest.approx((0.5, 0.5, 0.5), abs=EXACT)
    # macro: class0 tp1 |T|2 |P|1 -> f1 2/3; class1 tp0 -> 0; class2 tp1 |T|1 |P|1 -> 1
    assert metrics.f1_score(truth, pred, average="macro") == pytest.approx((2 / 3 + 0 + 1) / 3, abs=EXACT)


def test_zero_division_value_is_used_for_empty_sets():
    truth = np.array([[0, 0], [1, 0]], dtype=bool)
    pred = np.array([[0, 0], [1, 0]], dtype=bool)
    assert metrics.f1_score(truth, pred, zero_division=1.0) == 1.0
    assert metrics.f1_score(truth, pred, zero_division=0.0) == 0.5


def test_prf_rejects_bad_average_and_shapes():
    with pytest.raises(ValueError, match="average"):
        metrics.f1_score(np.zeros((1, 2)), np.zeros((1, 2)), average="weighted")
    with pytest.raises(ValueError, match="shape"):
        metrics.f1_score(np.zeros((1, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="0/1"):
        metrics.f1_score(np.full((1, 2), 2), np.zeros((1, 2)))


# --- human study -------------------------------------------------------------------------


def _items():
    # clip 0: proposal A (2 present, 1 absent) confirmed; proposal B (1/1/1) tie -> not;
    #         decoy X (0/3) not.
    # clip 1: proposal C (3/0) confirmed; decoy Y (2/1) confirmed.
    counts = np.array([[2, 1, 0], [1, 1, 1], [0, 3, 0], [3, 0, 0], [2, 1, 0]])
    return metrics.StudyItems(
        counts=counts,
        clip=np.array([0, 0, 0, 1, 1]),
        label=np.array([0, 1, 4, 2, 3]),
        is_decoy=np.array([False, False, True, False, True]),
        n_clips=2,
    )


def test_majority_rule_treats_unsure_as_abstention():
    counts = np.array([[2, 1, 9], [1, 1, 0], [0, 0, 3], [1, 0, 2], [0, 1, 0]])
    assert metrics.majority_confirmed(counts).tolist() == [True, False, False, True, False]
    assert metrics.majority_rejected(counts).tolist() == [False, False, False, False, True]


def test_answer_counts_from_judgments():
    counts = metrics.answer_counts([0, 0, 1, 0], [PRESENT, UNSURE, ABSENT, PRESENT], 3)
    assert counts.tolist() == [[2, 0, 1], [0, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="codes"):
        metrics.answer_counts([0], [3], 1)


def test_acceptance_decoys_and_correction_by_hand():
    sums = metrics.acceptance_clip_sums(_items()).sum(axis=0)
    acceptance, per_clip, decoy, corrected = metrics.acceptance_from_sums(sums)
    assert acceptance == pytest.approx(2 / 3, abs=EXACT)
    assert per_clip == pytest.approx(1.0, abs=EXACT)
    assert decoy == pytest.approx(0.5, abs=EXACT)
    assert corrected == pytest.approx((2 / 3 - 0.5) / 0.5, abs=EXACT)


def test_corrected_acceptance_is_nan_when_every_decoy_is_accepted():
    assert math.isnan(float(metrics.corrected_acceptance(0.8, 1.0)))
    assert float(metrics.corrected_acceptance(0.6, 0.2)) == pytest.approx(0.5, abs=EXACT)


def test_acceptance_by_label_skips_decoys():
    rate, shown = metrics.acceptance_by_label(_items(), 5)
    assert shown.tolist() == [1, 1, 1, 0, 0]
    assert rate[:3].tolist() == [1.0, 0.0, 1.0]
    assert math.isnan(rate[3]) and math.isnan(rate[4])


def test_study_summary_point_estimates_and_interval_order():
    summary = metrics.study_summary(_items(), n_boot=200, seed=1)
    assert summary.n_clips == 2 and summary.n_proposals == 3 and summary.n_decoys == 2
    assert summary.mean_proposals_per_clip == 1.5
    assert summary.acceptance.estimate == pytest.approx(2 / 3, abs=EXACT)
    assert summary.correct_per_clip.estimate == pytest.approx(1.0, abs=EXACT)
    # agreement over present/absent (unsure dropped): kappa and alpha of counts[:, :2]
    two = _items().counts[:, :2]
    assert summary.fleiss_kappa.estimate == pytest.approx(metrics.fleiss_kappa(two), abs=EXACT)
    assert summary.krippendorff_alpha.estimate == pytest.approx(metrics.krippendorff_alpha_nominal(two), abs=EXACT)
    for interval in (summary.acceptance, summary.correct_per_clip):
        assert interval.low <= interval.estimate <= interval.high


# --- agreement ---------------------------------------------------------------------------


def test_fleiss_kappa_by_hand_equal_raters():
    # P_i = 1, 1, 0 -> P_bar 2/3; p = (1/2, 1/2) -> P_e 1/2; kappa = 1/3
    assert metrics.fleiss_kappa([[2, 0], [0, 2], [1, 1]]) == pytest.approx(1 / 3, abs=EXACT)


def test_fleiss_kappa_by_hand_varying_raters_ignores_single_ratings():
    # P_i = 1, 0, 1 -> 2/3; p = (4/7, 3/7) -> P_e = 25/49; kappa = 23/72
    assert metrics.fleiss_kappa([[3, 0], [1, 1], [0, 2]]) == pytest.approx(23 / 72, abs=EXACT)
    assert metrics.fleiss_kappa([[3, 0], [1, 1], [0, 2], [1, 0]]) == pytest.approx(23 / 72, abs=EXACT)


def test_fleiss_kappa_wikipedia_example():
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert metrics.fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def test_krippendorff_alpha_by_hand():
    # n = 6, O = 2 + 2 + 0 = 4, n_c = (3, 3): alpha = 1 - 5 * 2 / (36 - 18) = 4/9
    assert metrics.krippendorff_alpha_nominal([[2, 0], [0, 2], [1, 1]]) == pytest.approx(4 / 9, abs=EXACT)


def test_krippendorff_alpha_textbook_example_with_missing_values():
    value_counts = [
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 2, 0, 0],
        [2, 0, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 2, 1],
        [0, 0, 0, 3],
        [1, 0, 1, 0],
        [0, 2, 0, 0],
        [2, 0, 0, 0],
        [2, 0, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 0],
        [0, 0, 1, 1],
    ]
    assert metrics.krippendorff_alpha_nominal(value_counts) == pytest.approx(0.691358, abs=1e-6)


def test_agreement_is_nan_when_only_one_category_is_used():
    assert math.isnan(metrics.fleiss_kappa([[3, 0], [2, 0]]))
    assert math.isnan(metrics.krippendorff_alpha_nominal([[3, 0], [2, 0]]))


def test_agreement_by_group_equals_agreement_of_each_subset():
    rng = np.random.default_rng(0)
    counts = rng.multinomial(4, [0.5, 0.3, 0.2], size=60)
    group = rng.integers(0, 3, 60)
    kappas = metrics.fleiss_kappa_by_group(counts, group, 4)
    alphas = metrics.krippendorff_alpha_by_group(counts, group, 4)
    for g in range(3):
        assert kappas[g] == pytest.approx(metrics.fleiss_kappa(counts[group == g]), abs=EXACT)
        assert alphas[g] == pytest.approx(metrics.krippendorff_alpha_nominal(counts[group == g]), abs=EXACT)
    assert math.isnan(kappas[3]) and math.isnan(alphas[3])


def test_agreement_counts_drop_unsure_by_default():
    counts = np.array([[1, 2, 3]])
    assert metrics.agreement_counts(counts).tolist() == [[1, 2]]
    assert metrics.agreement_counts(counts, unsure_as_category=True).tolist() == [[1, 2, 3]]


# --- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_weights_rows_sum_to_clip_count_and_are_seeded():
    w = metrics.bootstrap_weights(7, n_boot=50, seed=3)
    assert w.shape == (50, 7) and (w.sum(axis=1) == 7).all()
    assert np.array_equal(w, metrics.bootstrap_weights(7, n_boot=50, seed=3))
    assert not np.array_equal(w, metrics.bootstrap_weights(7, n_boot=50, seed=4))


def test_bootstrap_interval_equals_explicit_resampling():
    # Given per-clip numerators and denominators of a ratio
    rng = np.random.default_rng(2)
    num = rng.integers(0, 4, 40).astype(float)
    den = num + rng.integers(0, 3, 40)
    sums = np.stack([num, den], axis=1)
    # When bootstrapping the ratio of sums
    (interval,) = metrics.bootstrap_intervals(sums, lambda s: (s[..., 0] / s[..., 1])[..., None], n_boot=300, seed=9)
    # Then it equals resampling clips one resample at a time with the same draws
    draws = np.random.default_rng(9).integers(0, 40, size=(300, 40))
    ratios = np.array([num[d].sum() / den[d].sum() for d in draws])
    assert interval.estimate == pytest.approx(num.sum() / den.sum(), abs=EXACT)
    assert interval.low == pytest.approx(np.percentile(ratios, 2.5), abs=EXACT)
    assert interval.high == pytest.approx(np.percentile(ratios, 97.5), abs=EXACT)


def test_bootstrap_skips_undefined_resamples():
    sums = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    (interval,) = metrics.bootstrap_intervals(sums, lambda s: _safe_divide(s[..., 0], s[..., 1])[..., None])
    assert interval.estimate == 1.0 and interval.low == 1.0 and interval.high == 1.0


# --- raters --------------------------------------------------------------------------------


def test_rater_quality_by_hand():
    # items: 0 proposal on a gold clip, original label; 1 decoy on the gold clip (not original);
    #        2 proposal on a normal clip.
    # raters 0, 1, 2 answer item 0: P, P, A; item 1: A, P, U; item 2: P, P, P
    rater = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    item = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    answer = np.array([PRESENT, PRESENT, ABSENT, ABSENT, PRESENT, UNSURE, PRESENT, PRESENT, PRESENT])
    counts = metrics.answer_counts(item, answer, 3)
    quality = metrics.rater_quality(
        rater=rater,
        item=item,
        answer=answer,
        counts=counts,
        is_decoy=np.array([False, True, False]),
        gold_truth=np.array([1, 0, -1]),
        n_raters=3,
        rating_rater=np.array([0, 0, 1, 2, 2]),
        rating_seconds=np.array([4.0, 8.0, 3.0, 1.0, np.nan]),
    )
    assert quality.n_judgments.tolist() == [3, 3, 3]
    assert quality.gold_accuracy.tolist() == [1.0, 0.5, 0.0]  # rater 2's unsure is skipped
    assert quality.decoy_acceptance.tolist() == [0.0, 1.0, 0.0]
    # leave-one-out: item 0 others of r0 (P,A) tie -> skip; r1 same; r2 others (P,P) -> disagree.
    # item 1: r0 others (P,U) -> P, r0 said A -> disagree; r1 others (A,U) -> A -> disagree; r2 unsure.
    # item 2: everyone agrees with the others.
    assert quality.consensus_agreement.tolist() == [0.5, 0.5, 0.5]
    assert quality.median_seconds.tolist() == [6.0, 3.0, 1.0]


def test_grouped_median_matches_numpy():
    rng = np.random.default_rng(4)
    values = rng.random(101)
    group = rng.integers(0, 6, 101)
    medians = metrics.grouped_median(values, group, 7)
    for g in range(6):
        assert medians[g] == pytest.approx(np.median(values[group == g]), abs=EXACT)
    assert math.isnan(medians[6])


# --- Table 3 and Table 4 ----------------------------------------------------------------------


def test_complementarity_counts_every_pattern():
    # columns: clips; rows: continuous, instant, onset
    correct = np.array(
        [
            [1, 0, 0, 1, 0, 1, 1, 0, 0],
            [0, 1, 0, 1, 1, 0, 1, 0, 1],
            [0, 0, 1, 0, 1, 1, 1, 0, 0],
        ],
        dtype=bool,
    )
    result = metrics.complementarity(correct)
    assert (result.only_continuous, result.only_instant, result.only_onset) == (1, 2, 1)
    assert result.new_heads_over_continuous == 4  # clips 1, 2, 4, 8
    assert (result.exactly_two, result.all_three, result.none) == (3, 1, 1)
    assert result.n_clips == 9


def test_dominant_event_type_per_clip_category_and_dataset():
    probs = np.array(
        [
            [0.1, 0.6, 0.2, 0.0, 0.1],  # instant
            [0.5, 0.5, 0.1, 0.1, 0.1],  # tie -> continuous
            [0.0, 0.1, 0.1, 0.1, 0.9],  # audio
            [np.nan, 0.1, 0.1, 0.1, 0.9],  # no prediction
            [0.1, 0.7, 0.1, 0.1, 0.0],  # instant
        ]
    )
    types = metrics.dominant_event_types(probs)
    assert types.tolist() == [1, 0, 4, -1, 1]
    per_category = metrics.category_event_types(types, np.array([0, 0, 1, 1, 0]), n_categories=3, n_types=5)
    assert per_category.tolist() == [1, 4, -1]
    assert metrics.event_type_counts(per_category, 5).tolist() == [0, 1, 0, 0, 1]


def test_event_types_mirror_model_head_order():
    model = pytest.importorskip("modelzoo.nn.model")
    assert tuple(model.HEAD_NAMES) == metrics.EVENT_TYPES
