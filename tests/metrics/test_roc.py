"""Known-answer tests for hepml.metrics.roc."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from hepml.metrics import (
    auc,
    best_significance,
    binary_metrics,
    discovery_significance,
    rejection_at,
    roc_curve,
)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_roc_endpoints_and_monotonic(rng):
    scores = rng.random(1000)
    labels = rng.integers(0, 2, 1000)
    sig_eff, bkg_eff, thresholds = roc_curve(scores, labels)
    assert (sig_eff[0], bkg_eff[0]) == (0.0, 0.0)
    assert sig_eff[-1] == pytest.approx(1.0) and bkg_eff[-1] == pytest.approx(1.0)
    assert np.all(np.diff(sig_eff) >= 0) and np.all(np.diff(bkg_eff) >= 0)
    assert thresholds[0] == np.inf and np.all(np.diff(thresholds) < 0)


def test_roc_ties_cross_together():
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    labels = np.array([1, 1, 0, 0, 0])
    sig_eff, bkg_eff, thresholds = roc_curve(scores, labels)
    np.testing.assert_allclose(sig_eff, [0, 0.5, 1, 1])
    np.testing.assert_allclose(bkg_eff, [0, 0, 2 / 3, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.9, 0.5, 0.1])


def test_perfect_classifier():
    scores = np.r_[np.zeros(500), np.ones(500)]
    labels = np.r_[np.zeros(500), np.ones(500)].astype(int)
    assert auc(scores, labels) == 1.0
    assert rejection_at(scores, labels, 0.5) == np.inf
    metrics = binary_metrics(scores, labels)
    assert metrics["auc"] == 1.0
    assert metrics["rejection_eff30"] == metrics["rejection_eff70"] == np.inf
    assert all(isinstance(v, float) for v in metrics.values())


def test_inverted_classifier():
    scores = np.r_[np.ones(500), np.zeros(500)]
    labels = np.r_[np.zeros(500), np.ones(500)].astype(int)
    assert auc(scores, labels) == 0.0


def test_random_classifier(rng):
    n = 200_000
    assert auc(rng.random(n), rng.integers(0, 2, n)) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_levels", [None, 7])
def test_auc_matches_sklearn(rng, weighted, n_levels):
    n = 5000
    labels = rng.integers(0, 2, n)
    scores = rng.normal(labels * 0.8, 1.0)
    if n_levels is not None:  # many ties
        scores = np.round(scores * n_levels / 4) / n_levels
    weights = rng.exponential(size=n) if weighted else None
    assert auc(scores, labels, weights) == pytest.approx(
        roc_auc_score(labels, scores, sample_weight=weights), abs=1e-12
    )


def test_integer_weights_equal_repetition(rng):
    labels = rng.integers(0, 2, 300)
    scores = rng.random(300)
    weights = rng.integers(1, 4, 300)
    repeated = rejection_at(np.repeat(scores, weights), np.repeat(labels, weights), [0.3, 0.6])
    np.testing.assert_allclose(rejection_at(scores, labels, [0.3, 0.6], weights), repeated)


@pytest.mark.parametrize("eff", [0.3, 0.5, 0.7])
def test_rejection_two_gaussians(rng, eff):
    # Statistical spread of the measured rejection is <= 1.8 % here; the tolerance is > 3 sigma.
    separation = 1.5
    n = 200_000
    scores = np.r_[rng.normal(0.0, 1.0, n), rng.normal(separation, 1.0, n)]
    labels = np.r_[np.zeros(n), np.ones(n)].astype(int)
    threshold = norm.isf(eff, loc=separation)  # cut passing a fraction eff of the signal
    expected = 1.0 / norm.sf(threshold)
    assert rejection_at(scores, labels, eff) == pytest.approx(expected, rel=0.06)


def test_rejection_vectorised(rng):
    scores = rng.random(1000)
    labels = rng.integers(0, 2, 1000)
    out = rejection_at(scores, labels, np.array([0.3, 0.5]))
    assert out.shape == (2,)
    assert out[1] == rejection_at(scores, labels, 0.5)


def test_significance_known_values():
    # 2 * (110 ln 1.1 - 10) = 0.968240 -> Z = 0.983992
    assert discovery_significance(10, 100) == pytest.approx(0.9839916, rel=1e-6)
    # s = b: Z = sqrt(2 s (2 ln 2 - 1))
    assert discovery_significance(10, 10) == pytest.approx(np.sqrt(20 * (2 * np.log(2) - 1)))
    assert discovery_significance(1.0, 1e6) == pytest.approx(1.0 / np.sqrt(1e6), rel=1e-5)
    np.testing.assert_array_equal(discovery_significance([0, 0, 5], [0, 3, 0]), [0, 0, np.inf])


def test_best_significance_respects_min_background():
    scores = np.array([0.95, 0.9, 0.8, 0.6, 0.4, 0.2, 0.1])
    labels = np.array([1, 1, 0, 1, 0, 0, 0])
    out = best_significance(scores, labels, n_signal=30.0, n_background=40.0, min_background=1.0)
    # Cuts: >=0.9 -> s=20, b=0 (skipped); >=0.6 -> s=30, b=10: the best allowed one.
    assert out["threshold"] == 0.6
    assert (out["s"], out["b"]) == (30.0, 10.0)
    assert out["significance"] == pytest.approx(discovery_significance(30.0, 10.0))
    no_minimum = best_significance(scores, labels, n_signal=30, n_background=40, min_background=0)
    assert no_minimum["significance"] == np.inf
    with pytest.raises(ValueError, match="min_background"):
        best_significance(scores, labels, n_signal=30, n_background=40, min_background=100)


def test_input_errors():
    with pytest.raises(ValueError, match="labels must be 0"):
        roc_curve([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="both signal"):
        roc_curve([0.1, 0.2], [1, 1])
