"""Bins of binned plots: equal population, logarithmic, categories."""

import numpy as np
import pytest

from hepml.plotting.binning import (
    bin_index,
    category_positions,
    equal_population_edges,
    log_edges,
    observer_binning,
)


def test_equal_population_edges_put_the_same_number_in_each_bin():
    x = np.random.default_rng(0).exponential(30.0, 10_000)
    edges = equal_population_edges(x, 8, tails=0.0)
    counts = np.bincount(bin_index(x, edges), minlength=8)
    assert edges.size == 9 and counts.min() >= 1249 and counts.max() <= 1251
    weights = np.where(x > np.median(x), 3.0, 1.0)  # weighted: equal sums of weights
    wedges = equal_population_edges(x, 4, weights, tails=0.0)
    sums = np.bincount(bin_index(x, wedges), weights=weights, minlength=4)
    assert sums == pytest.approx(np.full(4, weights.sum() / 4), rel=0.01)


def test_log_edges_and_observer_binning():
    edges = log_edges(np.array([10.0, 20.0, 1000.0]), 2, tails=0.0)
    assert edges == pytest.approx([10.0, 100.0, 1000.0])
    falling = observer_binning(np.random.default_rng(1).exponential(40, 5000) + 20, 6)
    assert falling.categories is None and falling.log
    flat = observer_binning(np.random.default_rng(1).uniform(-2.5, 2.5, 5000), 6)
    assert flat.categories is None and not flat.log and flat.edges.size == 7
    modes = np.array([0, 1, 1, 10, 11, 11, 11])
    binning = observer_binning(modes, 6)
    assert binning.categories.tolist() == [0, 1, 10, 11]
    assert bin_index(modes, binning.edges).tolist() == [0, 1, 1, 2, 3, 3, 3]
    positions = category_positions(binning, modes, min_entries=2)  # 0 and 10 have one entry
    assert np.isnan(positions[[0, 2]]).all() and positions[[1, 3]].tolist() == [0.0, 1.0]


def test_binned_medians_and_their_bootstrap_errors():
    from hepml.plotting.binned import binned_response_with_errors

    rng = np.random.default_rng(3)
    x = rng.uniform(0, 4, 16_000)
    resp = rng.normal(1.0 + 0.05 * np.floor(x), 0.2)  # 4 bins of 4,000, medians 1.00 ... 1.15
    out = binned_response_with_errors(resp, x, np.arange(5.0), n_boot=200, min_entries=10)
    assert out["count"].sum() == 16_000
    assert out["median"] == pytest.approx([1.0, 1.05, 1.1, 1.15], abs=0.02)
    # error of a Gaussian median: 1.2533 sigma / sqrt(n) = 0.0040 for n = 4,000
    assert out["median_err"] == pytest.approx(np.full(4, 1.2533 * 0.2 / np.sqrt(4000)), rel=0.25)
    assert out["resolution"] == pytest.approx(0.2 * 0.9945 / out["median"], rel=0.05)
    empty = binned_response_with_errors(resp[:5], x[:5], np.arange(5.0), min_entries=10)
    assert np.isnan(empty["median"]).all()
