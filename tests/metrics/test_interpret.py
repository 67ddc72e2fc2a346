"""Interpretation functions against cases with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.metrics.interpret import (
    auc_difference,
    auc_with_error,
    convolve,
    cut_scan_roc,
    fisher_discriminant,
    in_window,
    most_activating,
    pixel_correlation,
    strongest_filters,
)
from hepml.metrics.roc import _trapezoid


def test_a_network_reading_one_pixel_correlates_with_that_pixel_alone():
    rng = np.random.default_rng(0)
    images = rng.exponential(1.0, (4000, 5, 6))
    output = 1 / (1 + np.exp(-(images[:, 2, 4] - 1.0)))  # monotonic in one pixel only
    corr = pixel_correlation(images, output)
    assert corr.shape == (5, 6)
    assert corr[2, 4] > 0.9
    others = np.delete(corr.ravel(), 2 * 6 + 4)
    assert np.abs(others).max() < 4 / np.sqrt(4000)
    linear = pixel_correlation(images, -3 * images[:, 0, 0] + 2)
    assert linear[0, 0] == pytest.approx(-1.0)


def test_pixel_correlation_of_a_constant_pixel_is_nan():
    images = np.zeros((10, 2, 2))
    images[:, 0, 0] = np.arange(10)
    corr = pixel_correlation(images, np.arange(10.0))
    assert corr[0, 0] == pytest.approx(1.0) and np.isnan(corr[1, 1])
    with pytest.raises(ValueError, match="10 images but 3 outputs"):
        pixel_correlation(images, np.arange(3.0))


def test_windows_select_the_narrow_bins():
    values = {"jet_m": np.array([78.0, 79.5, 80.9, 81.0]), "tau21": np.array([0.2, 0.2, 0.4, 0.2])}
    keep = in_window(values, {"jet_m": (79, 81), "tau21": (0.19, 0.21)})
    np.testing.assert_array_equal(keep, [False, True, False, False])
    with pytest.raises(KeyError, match="mass"):
        in_window(values, {"mass": (0, 1)})


def test_auc_with_error_matches_a_known_separation():
    rng = np.random.default_rng(1)
    n = 4000
    label = rng.integers(0, 2, n)
    score = rng.normal(label * 1.0, 1.0)  # AUC = Phi(1 / sqrt 2) = 0.760
    value, err = auc_with_error(score, label, n_boot=50)
    assert value == pytest.approx(0.760, abs=0.02)
    assert 0.003 < err < 0.015  # ~ sqrt(AUC (1 - AUC) / (n / 4))
    assert np.isnan(auc_with_error(score, np.ones(n))[0])


def test_fisher_discriminant_finds_the_discriminating_pixel():
    rng = np.random.default_rng(2)
    bkg = rng.normal(0, 1, (3000, 4, 4))
    sig = rng.normal(0, 1, (3000, 4, 4))
    sig[:, 1, 3] += 1.5
    w = fisher_discriminant(np.r_[sig, bkg], np.r_[np.ones(3000), np.zeros(3000)])
    assert w.shape == (16,) and w[1 * 4 + 3] > 0.98
    # correlated noise: the discriminant subtracts the correlated pixel
    noise, own = rng.normal(0, 1, 6000), rng.normal(0, 0.2, (2, 6000))
    x = np.stack([noise + own[0] + np.r_[np.ones(3000), np.zeros(3000)], noise + own[1]], axis=1)
    w2 = fisher_discriminant(x, np.r_[np.ones(3000), np.zeros(3000)], shrinkage=0.0)
    # S_W = [[1.04, 1], [1, 1.04]]: w ~ S_W^-1 (1, 0) ~ (1.04, -1)
    assert w2[0] / -w2[1] == pytest.approx(1.04, abs=0.03) and w2[0] > 0


def test_cut_scan_finds_the_signal_box():
    rng = np.random.default_rng(3)
    n = 4000
    sig_m, sig_t = rng.uniform(70, 90, n), rng.uniform(0.0, 0.3, n)
    bkg_m, bkg_t = rng.uniform(0, 200, n), rng.uniform(0.0, 1.0, n)
    label = np.r_[np.ones(n), np.zeros(n)]
    sig, bkg = cut_scan_roc(np.r_[sig_m, bkg_m], np.r_[sig_t, bkg_t], label)
    assert np.all(np.diff(sig) >= 0) and np.all(np.diff(bkg) >= 0)
    assert (sig[0], bkg[0]) == (0.0, 0.0) and (sig[-1], bkg[-1]) == (1.0, 1.0)
    # the box 70-90 GeV x tau21 < 0.3 keeps all signal and 0.1 x 0.3 = 3% of the background
    at_full = bkg[np.searchsorted(sig, 0.99)]
    assert at_full == pytest.approx(0.03, abs=0.01)
    assert _trapezoid(sig, bkg) > 0.97
    # the envelope ends at (1, 1) even when every signal jet passes a tighter cut
    sig2, bkg2 = cut_scan_roc(np.r_[sig_m, bkg_m], np.r_[sig_t, bkg_t], label, n_grid=5)
    assert (sig2[-1], bkg2[-1]) == (1.0, 1.0) and sig2[-2] == pytest.approx(1.0)


def test_convolution_matches_a_shift_and_torch():
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    shift = np.zeros((3, 3))
    shift[0, 1] = 1.0  # picks the pixel one row up: the peak moves one row down
    out = convolve(image, shift)
    assert out[3, 2] == 1.0 and out.sum() == 1.0
    import torch

    rng = np.random.default_rng(4)
    x, k = rng.normal(size=(2, 7, 6)), rng.normal(size=(5, 5))
    ref = torch.nn.functional.conv2d(
        torch.tensor(x)[:, None], torch.tensor(k)[None, None], padding=2
    )
    np.testing.assert_allclose(convolve(x, k), ref[:, 0].numpy(), atol=1e-12)


def test_strongest_filter_is_the_one_matching_the_difference():
    difference = np.zeros((9, 9))
    difference[4, 6] = 1.0
    difference[4, 2] = -1.0
    filters = np.zeros((3, 3, 3))
    filters[0, 1, 1] = 0.1
    filters[1, 1, 1] = 2.0
    filters[2] = 0.01
    order, conv = strongest_filters(difference, filters, n=2)
    assert list(order) == [1, 0] and conv.shape == (2, 9, 9)
    assert conv[0, 4, 6] == pytest.approx(2.0)


def test_most_activating_images_average_the_top_outputs():
    rng = np.random.default_rng(5)
    images = rng.uniform(0, 1, (1000, 3, 3))
    top = most_activating(images, images[:, 0, 0], fraction=0.01)
    assert top[0, 0] > 0.98 and abs(top[2, 2] - 0.5) < 0.25
    np.testing.assert_allclose(most_activating(images, np.arange(1000.0), 1e-6), images[-1])
    with pytest.raises(ValueError, match="fraction"):
        most_activating(images, images[:, 0, 0], 0.0)


def test_paired_auc_difference_is_smaller_than_the_single_errors():
    rng = np.random.default_rng(6)
    n = 4000
    label = rng.integers(0, 2, n)
    base = rng.normal(label * 1.0, 1.0)
    better = base + 0.3 * label  # the same classifier, a little better
    diff, err = auc_difference(better, base, label, n_boot=50)
    _, single = auc_with_error(base, label, n_boot=50)
    assert diff > 0 and err < single and diff > 3 * err
    assert auc_difference(base, base, label, n_boot=10) == (0.0, 0.0)
