"""Known-answer tests for hepml.metrics.resolution."""

import numpy as np
import pytest
from scipy.stats import norm

from hepml.metrics import (
    bias,
    binned_response,
    calibrate_scale,
    central_interval_halfwidth,
    iqr_resolution,
    regression_metrics,
    relative_resolution,
    response,
    weighted_quantile,
)

SIGMA = 0.1
HALFWIDTH_68 = norm.ppf(0.84)  # 68 % central half-width of a unit Gaussian: 0.99446
IQR_SIGMA = 2 * norm.ppf(0.75) / 1.349  # IQR / 1.349 of a unit Gaussian: 0.99998


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def gaussian_response(rng):
    return rng.normal(1.0, SIGMA, 200_000)


def test_resolution_of_gaussian(gaussian_response):
    assert relative_resolution(gaussian_response) == pytest.approx(SIGMA * HALFWIDTH_68, abs=1e-3)
    assert iqr_resolution(gaussian_response) == pytest.approx(SIGMA * IQR_SIGMA, abs=1e-3)
    assert central_interval_halfwidth(gaussian_response, 0.68) == pytest.approx(
        SIGMA * HALFWIDTH_68, abs=1e-3
    )


def test_bias(rng):
    assert bias(rng.normal(1.05, SIGMA, 100_000)) == pytest.approx(0.05, abs=2e-3)


def test_weighted_quantile_equals_repetition(rng):
    x = rng.normal(size=200)
    w = rng.integers(1, 5, 200)
    q = np.linspace(0, 1, 21)
    np.testing.assert_allclose(weighted_quantile(x, q, w), weighted_quantile(np.repeat(x, w), q))
    # Scaling the weights changes nothing.
    np.testing.assert_allclose(weighted_quantile(x, q, w), weighted_quantile(x, q, 0.01 * w))


def test_weighted_quantile_unweighted_is_hazen(rng):
    x = rng.normal(size=101)
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.84, 1.0])
    np.testing.assert_allclose(weighted_quantile(x, q), np.quantile(x, q, method="hazen"))
    assert weighted_quantile([1.0, 2.0, 3.0], 0.5, [1, 0, 1]) == 2.0  # zero weight ignored
    assert weighted_quantile([1.0, 2.0, 3.0], 0.5, [1, 2, 1]) == 2.0


def test_weighted_resolution_reweights(rng):
    # A narrow and a wide component; weighting out the wide one gives the narrow width.
    resp = np.r_[rng.normal(1.0, 0.05, 50_000), rng.normal(1.0, 0.3, 50_000)]
    weights = np.r_[np.ones(50_000), np.zeros(50_000)]
    assert relative_resolution(resp, weights) == pytest.approx(0.05 * HALFWIDTH_68, abs=1e-3)


def test_response_errors_on_zero_truth():
    np.testing.assert_allclose(response([2.0, 3.0], [1.0, 2.0]), [2.0, 1.5])
    with pytest.raises(ValueError, match="truth is zero for 1"):
        response([1.0, 2.0], [0.0, 1.0])


def test_binned_response_recovers_widths(rng):
    n = 40_000
    x = rng.uniform(0, 4, n)
    widths = np.array([0.2, 0.15, 0.1, 0.05])
    resp = rng.normal(1.0, widths[x.astype(int)])
    out = binned_response(resp, x, np.arange(5.0))
    np.testing.assert_allclose(out["resolution"], widths * HALFWIDTH_68, rtol=0.05)
    np.testing.assert_allclose(out["iqr_resolution"], widths * IQR_SIGMA, rtol=0.05)
    np.testing.assert_allclose(out["median"], 1.0, atol=0.01)
    np.testing.assert_allclose(out["centers"], [0.5, 1.5, 2.5, 3.5])
    assert out["count"].sum() == n


def test_binned_response_sparse_bins_are_nan(rng):
    x = np.r_[rng.uniform(0, 1, 100), [1.5, 1.6]]
    resp = rng.normal(1.0, 0.1, x.size)
    out = binned_response(resp, x, np.array([0.0, 1.0, 2.0]), min_entries=10)
    assert np.isfinite(out["median"][0]) and np.isnan(out["median"][1])
    assert list(out["count"]) == [100, 2]


def test_calibrate_scale(rng):
    truth = rng.uniform(20, 200, 1000)
    assert calibrate_scale(0.8 * truth, truth) == pytest.approx(1.25)


def test_regression_metrics_with_baseline(rng):
    truth = rng.uniform(20, 200, 100_000)
    pred = truth * rng.normal(1.0, 0.1, truth.size)
    baseline = truth * rng.normal(1.0, 0.2, truth.size)
    out = regression_metrics(pred, truth, baseline=baseline)
    assert set(out) == {
        "resolution",
        "bias",
        "iqr_resolution",
        "baseline_resolution",
        "baseline_bias",
        "improvement",
    }
    assert all(isinstance(v, float) for v in out.values())
    assert out["improvement"] == pytest.approx(0.5, abs=0.02)
    assert set(regression_metrics(pred, truth)) == {"resolution", "bias", "iqr_resolution"}
