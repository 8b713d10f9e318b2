"""Metrics against reference implementations on the real LLP/AVVP annotation files.

scikit-learn (precision/recall/F1), statsmodels (Fleiss' kappa) and the krippendorff
package (nominal alpha) must agree with evaluation.metrics to 1e-9.
"""

import krippendorff
import numpy as np
import pytest
from sklearn import metrics as skm
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from evaluation import metrics
from tests.evaluation.llp import LLP_CLASSES, dense_for, read_dense, read_weak

TOL = 1e-9


@pytest.fixture(scope="module")
def llp(shared_data):
    folder = shared_data / "llp_avvp"
    test_names, test_labels = read_weak(folder / "AVVP_test_pd.csv")
    val_names, val_labels = read_weak(folder / "AVVP_val_pd.csv")
    audio = read_dense(folder / "AVVP_eval_audio.csv")
    visual = read_dense(folder / "AVVP_eval_visual.csv")
    return {
        "test_names": test_names,
        "test_labels": test_labels,
        "val_names": val_names,
        "val_labels": val_labels,
        "audio": audio,
        "visual": visual,
        "test_audio": dense_for(test_names, audio),  # (1200, 10, 25)
        "test_visual": dense_for(test_names, visual),
    }


def _prediction_sets(llp):
    """Real and generated predictions of the 1,200 test videos' multi-labels (N, 25)."""
    truth = llp["test_labels"]
    rng = np.random.default_rng(7)
    scores = truth * 0.6 + rng.random(truth.shape)
    heads = np.argmax(scores[None] + rng.normal(0, 0.4, (5, *truth.shape)), axis=2)  # (5, N)
    sets = {
        "audio events": llp["test_audio"].any(axis=1),  # 5 videos have none: empty rows
        "visual events": llp["test_visual"].any(axis=1),  # 121 empty rows
        "union of 5 heads": metrics.union_indicator(heads, len(LLP_CLASSES)),
    }
    for k, indicator in metrics.top_k_indicators(scores, [1, 2, 3, 4, 5]).items():
        sets[f"top-{k}"] = indicator
    return truth, sets


@pytest.mark.parametrize("average", ["samples", "micro", "macro"])
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_prf_matches_sklearn_on_llp_test_multilabels(llp, average, zero_division):
    # Given the true multi-labels of the 1,200 LLP test videos and several prediction sets
    truth, sets = _prediction_sets(llp)
    assert truth.shape == (1200, 25)
    for name, pred in sets.items():
        # When both implementations score them
        ours = metrics.multilabel_prf(truth, pred, average=average, zero_division=zero_division)
        kwargs = {"average": average, "zero_division": zero_division}
        # Then they agree to 1e-9
        assert ours.f1 == pytest.approx(skm.f1_score(truth, pred, **kwargs), abs=TOL), name
        assert ours.precision == pytest.approx(skm.precision_score(truth, pred, **kwargs), abs=TOL), name
        assert ours.recall == pytest.approx(skm.recall_score(truth, pred, **kwargs), abs=TOL), name


def test_single_score_functions_match_sklearn(llp):
    truth, sets = _prediction_sets(llp)
    pred = sets["audio events"]
    assert metrics.f1_score(truth, pred, average="macro") == pytest.approx(
        skm.f1_score(truth, pred, average="macro", zero_division=0.0), abs=TOL
    )
    assert metrics.precision_score(truth, pred) == pytest.approx(
        skm.precision_score(truth, pred, average="samples", zero_division=0.0), abs=TOL
    )
    assert metrics.recall_score(truth, pred, average="micro") == pytest.approx(
        skm.recall_score(truth, pred, average="micro", zero_division=0.0), abs=TOL
    )


def test_accuracy_matches_sklearn_on_llp_single_label_restriction(llp):
    # Given the single-label restriction (first listed label) and a noisy head
    truth = llp["test_labels"]
    first = np.argmax(truth, axis=1)
    rng = np.random.default_rng(3)
    pred = np.where(rng.random(first.shape) < 0.7, first, rng.integers(0, 25, first.shape))
    assert metrics.accuracy(pred, first) == pytest.approx(skm.accuracy_score(first, pred), abs=TOL)
    # A multi-label truth counts a prediction of any true label as a hit
    expected = np.mean([truth[n, p] for n, p in enumerate(pred)])
    assert metrics.accuracy(pred, truth) == pytest.approx(expected, abs=TOL)


def _two_rater_segment_counts(llp):
    """Audio and visual annotators as two raters of each (video, segment, class) unit."""
    audio = llp["test_audio"].reshape(-1)
    visual = llp["test_visual"].reshape(-1)
    present = audio.astype(int) + visual.astype(int)
    counts = np.stack([present, 2 - present], axis=1)  # (1200*10*25, 2)
    label = np.broadcast_to(np.arange(25), llp["test_audio"].shape).reshape(-1)
    return counts, label


def test_fleiss_kappa_matches_statsmodels_on_audio_vs_visual_segments(llp):
    counts, label = _two_rater_segment_counts(llp)
    assert counts.shape == (300_000, 2)
    assert metrics.fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts), abs=TOL)
    per_label = metrics.fleiss_kappa_by_group(counts, label, 25)
    for c in range(25):
        reference = sm_fleiss_kappa(counts[label == c])
        assert per_label[c] == pytest.approx(reference, abs=TOL, nan_ok=True), LLP_CLASSES[c]


def test_fleiss_kappa_matches_statsmodels_with_three_raters_per_video_class(llp):
    # Raters: the weak labels, "any audio event" and "any visual event", for each (video, class)
    weak = llp["test_labels"]
    audio = llp["test_audio"].any(axis=1)
    visual = llp["test_visual"].any(axis=1)
    present = (weak.astype(int) + audio + visual).reshape(-1)
    counts = np.stack([present, 3 - present], axis=1)
    label = np.broadcast_to(np.arange(25), weak.shape).reshape(-1)
    assert metrics.fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts), abs=TOL)
    per_label = metrics.fleiss_kappa_by_group(counts, label, 25)
    for c in range(25):
        assert per_label[c] == pytest.approx(sm_fleiss_kappa(counts[label == c]), abs=TOL), LLP_CLASSES[c]


def test_fleiss_kappa_matches_statsmodels_with_three_categories(llp):
    # Categories per (video, class): audio-only, visual-only, audio-visual, none, judged by the
    # segment majority of 10 segments as "raters" of the unit -> 10 ratings per unit, 4 categories.
    a = llp["test_audio"]
    v = llp["test_visual"]
    category = (a.astype(int) + 2 * v.astype(int)).transpose(0, 2, 1).reshape(-1, 10)  # (30000, 10)
    counts = np.stack([(category == k).sum(axis=1) for k in range(4)], axis=1)
    assert metrics.fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts), abs=TOL)


def _three_raters_with_missing(llp):
    """(3 raters, units) reliability data over (video, class) of val+test, NaN where the
    rater did not annotate the video: weak labels for all, audio/visual only for the videos
    present in their dense files (so units have 1 to 3 values)."""
    names = llp["val_names"] + llp["test_names"]
    weak = np.concatenate([llp["val_labels"], llp["test_labels"]]).astype(float)
    audio = dense_for(names, llp["audio"]).any(axis=1).astype(float)
    visual = dense_for(names, llp["visual"]).any(axis=1).astype(float)
    audio[[name not in llp["audio"] for name in names]] = np.nan
    visual[[name not in llp["visual"] for name in names]] = np.nan
    data = np.stack([weak.reshape(-1), audio.reshape(-1), visual.reshape(-1)])
    label = np.broadcast_to(np.arange(25), weak.shape).reshape(-1)
    return data, label


def _value_counts(data, values):
    return np.stack([(data == value).sum(axis=0) for value in values], axis=1)


def test_krippendorff_alpha_matches_package_with_missing_values(llp):
    data, label = _three_raters_with_missing(llp)
    assert np.isnan(data).any()
    counts = _value_counts(data, [0.0, 1.0])
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert metrics.krippendorff_alpha_nominal(counts) == pytest.approx(reference, abs=TOL)
    per_label = metrics.krippendorff_alpha_by_group(counts, label, 25)
    for c in range(25):
        expected = krippendorff.alpha(
            reliability_data=data[:, label == c], level_of_measurement="nominal", value_domain=[0.0, 1.0]
        )
        assert per_label[c] == pytest.approx(expected, abs=TOL), LLP_CLASSES[c]


def test_krippendorff_alpha_matches_package_on_segments_with_four_values(llp):
    # Units: (video, class); coders: the 10 one-second segments; value: 0 none, 1 audio only,
    # 2 visual only, 3 audio-visual; a seeded 20% of the codings is missing.
    a = llp["test_audio"].astype(float)
    v = llp["test_visual"].astype(float)
    data = (a + 2 * v).transpose(1, 0, 2).reshape(10, -1)  # (10 coders, 30000 units)
    data[np.random.default_rng(5).random(data.shape) < 0.2] = np.nan
    values = [0.0, 1.0, 2.0, 3.0]
    counts = _value_counts(data, values)
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=values)
    assert metrics.krippendorff_alpha_nominal(counts) == pytest.approx(reference, abs=TOL)
    assert metrics.krippendorff_alpha_nominal(counts) == pytest.approx(
        krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"), abs=TOL
    )


def test_top_k_matches_a_full_sort_on_llp_scores(llp):
    truth = llp["test_labels"]
    scores = truth * 0.5 + np.random.default_rng(11).random(truth.shape)
    order = np.argsort(-scores, axis=1, kind="stable")
    for k, indicator in metrics.top_k_indicators(scores, [1, 3, 5]).items():
        expected = np.zeros_like(indicator)
        np.put_along_axis(expected, order[:, :k], True, axis=1)
        assert np.array_equal(indicator, expected)
        assert (indicator.sum(axis=1) == k).all()
