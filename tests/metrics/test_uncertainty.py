"""Uncertainty helpers against known answers: Clopper-Pearson tables, the width of a median."""

import numpy as np
import pytest

from hepml.metrics.resolution import weighted_quantile
from hepml.metrics.uncertainty import (
    ONE_SIGMA,
    bootstrap_quantiles,
    bootstrap_std,
    clopper_pearson,
    effective_entries,
    efficiency_interval,
    ratio_interval,
    rejection_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [  # exact binomial 95% intervals as tabulated (e.g. Clopper & Pearson 1934; NIST handbook)
        (0, 10, 0.0, 0.3085),
        (5, 10, 0.1871, 0.8129),
        (10, 10, 0.6915, 1.0),
        (3, 20, 0.0321, 0.3789),
        (1, 100, 0.00025, 0.05446),
    ],
)
def test_clopper_pearson_95_percent_tables(k, n, lower, upper):
    lo, hi = clopper_pearson(k, n, cl=0.95)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


def test_clopper_pearson_closed_forms_at_one_sigma():
    # k = 0: upper = 1 - ((1 - cl) / 2)^(1/n); k = n: lower = ((1 - cl) / 2)^(1/n)
    tail = (1 - ONE_SIGMA) / 2
    assert ONE_SIGMA == pytest.approx(0.682689, abs=1e-6)
    lo, hi = clopper_pearson(np.array([0, 35]), 35)
    assert lo[0] == 0.0 and hi[0] == pytest.approx(1 - tail ** (1 / 35), rel=1e-9)
    assert hi[1] == 1.0 and lo[1] == pytest.approx(tail ** (1 / 35), rel=1e-9)
    # 35 background events pass of 1000: about +-sqrt(35) events around 35
    lo, hi = clopper_pearson(35, 1000)
    assert 1000 * lo == pytest.approx(35 - 5.9, abs=0.3) and 1000 * hi == pytest.approx(35 + 6.9, abs=0.3)


def test_clopper_pearson_rejects_bad_counts():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clopper_pearson(11, 10)
    with pytest.raises(ValueError, match="confidence level"):
        clopper_pearson(1, 10, cl=1.5)
    assert np.isnan(clopper_pearson(0, 0)[0])


def test_effective_entries_and_weighted_efficiency():
    assert effective_entries(None, n=12) == 12
    assert effective_entries(np.full(50, 0.2)) == pytest.approx(50)
    assert effective_entries(np.array([1.0, 1.0, 2.0])) == pytest.approx(16 / 6)
    # unit weights: the interval of an efficiency k/n is the Clopper-Pearson one
    lo, hi = efficiency_interval(0.3, 10, cl=0.95)
    assert [float(lo), float(hi)] == pytest.approx([float(x) for x in clopper_pearson(3, 10, 0.95)])


def test_rejection_interval_inverts_the_efficiency_interval():
    lo, hi = rejection_interval(np.array([0.05, 0.0]), 200)
    eff_lo, eff_hi = clopper_pearson(np.array([10, 0]), 200)
    assert lo[0] == pytest.approx(1 / eff_hi[0]) and hi[0] == pytest.approx(1 / eff_lo[0])
    assert lo[0] < 20 < hi[0]
    assert np.isinf(hi[1]) and lo[1] == pytest.approx(1 / eff_hi[1])


def test_ratio_interval_adds_relative_errors_in_quadrature():
    lo, hi = ratio_interval(np.array([20.0]), (np.array([17.0]), np.array([24.0])),
                            np.array([10.0]), (np.array([9.0]), np.array([10.5])))
    # up: 2 * (1 + hypot(0.2, 0.1)); down: 2 * (1 - hypot(0.15, 0.05))
    assert hi[0] == pytest.approx(2 * (1 + np.hypot(0.2, 0.1)))
    assert lo[0] == pytest.approx(2 * (1 - np.hypot(0.15, 0.05)))
    nan_lo, _ = ratio_interval(np.array([1.0]), (np.array([0.5]), np.array([2.0])),
                               np.array([0.0]), (np.array([0.0]), np.array([1.0])))
    assert np.isnan(nan_lo[0])


def test_bootstrap_width_of_a_gaussian_median():
    # the median of n Gaussian values has sigma sqrt(pi / 2) / sqrt(n) = 1.2533 sigma / sqrt(n)
    n, sigma = 4000, 2.0
    values = np.random.default_rng(1).normal(5.0, sigma, n)
    width = bootstrap_std(values, lambda x, w: weighted_quantile(x, 0.5, w), n_boot=400, seed=2)
    assert width == pytest.approx(1.2533 * sigma / np.sqrt(n), rel=0.1)
    # the mean for comparison: sigma / sqrt(n)
    mean_width = bootstrap_std(values, lambda x, w: np.average(x, weights=w), n_boot=400, seed=2)
    assert mean_width == pytest.approx(sigma / np.sqrt(n), rel=0.1)


def test_bootstrap_with_weights_and_reproducibility():
    rng = np.random.default_rng(4)
    values, weights = rng.normal(0, 1, 2000), rng.uniform(0.5, 1.5, 2000)
    median = lambda x, w: weighted_quantile(x, 0.5, w)  # noqa: E731
    first = bootstrap_std(values, median, weights, n_boot=100, seed=3)
    assert first == bootstrap_std(values, median, weights, n_boot=100, seed=3)
    assert first == pytest.approx(1.2533 / np.sqrt(effective_entries(weights)), rel=0.2)
    assert np.isnan(bootstrap_std(values[:1], median))
    with pytest.raises(ValueError, match="weights must match"):
        bootstrap_std(values, median, weights[:5])


def test_bootstrap_quantiles_match_weighted_quantile_per_replica():
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(0, 1, 3000), 1)  # ties are merged as in weighted_quantile
    weights = rng.uniform(0.5, 2.0, 3000)
    replicas = bootstrap_quantiles(values, [0.16, 0.5, 0.84], weights, n_boot=3, seed=7)
    order = np.argsort(values, kind="stable")
    counts = np.random.default_rng(7).poisson(1.0, (3, values.size))
    for i in range(3):
        expected = weighted_quantile(values[order], [0.16, 0.5, 0.84], weights[order] * counts[i])
        assert replicas[i] == pytest.approx(expected)
    # the spread of the replica medians is the median's error: 1.2533 sigma / sqrt(n)
    gauss = rng.normal(0, 3.0, 4000)
    medians = bootstrap_quantiles(gauss, 0.5, n_boot=400, seed=1)[:, 0]
    assert medians.std(ddof=1) == pytest.approx(1.2533 * 3.0 / np.sqrt(4000), rel=0.1)
