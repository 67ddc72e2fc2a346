"""Known answers for hepml.physics.showers on hand-made crystal grids."""

import numpy as np
import pytest
from scipy.special import ndtr

from hepml.physics.showers import (
    energy_width,
    local_maxima,
    log_weighted_width,
    max_2x2,
    n_above,
    profile_fractions,
    r9,
    window_sum,
)


def _image(entries: dict, size: int = 5) -> np.ndarray:
    """A ``size x size`` image with ``{(dieta, diphi): energy}`` relative to the centre."""
    image = np.zeros((size, size))
    for (di, dj), value in entries.items():
        image[size // 2 + di, size // 2 + dj] = value
    return image


def test_profile_fractions_single_gaussian_known_values():
    sigma = 0.4
    frac = profile_fractions([0.0], [0.0], 3, [sigma], [1.0])[0]
    central = (2 * ndtr(0.5 / sigma) - 1) ** 2
    assert frac[1, 1] == pytest.approx(central)
    np.testing.assert_allclose(frac, frac.T)  # symmetric for a central impact
    np.testing.assert_allclose(frac, frac[::-1, ::-1])
    assert frac.sum() == pytest.approx((2 * ndtr(1.5 / sigma) - 1) ** 2)


def test_profile_fractions_two_components_contain_everything_in_a_wide_window():
    frac = profile_fractions([0.3, -0.45], [-0.2, 0.1], 15, [0.3, 1.0], [0.85, 0.15])
    np.testing.assert_allclose(frac.sum(axis=(1, 2)), 1.0, atol=1e-9)
    # the impact moves towards +u: more energy in the crystal above than below
    assert frac[0, 8, 7] > frac[0, 6, 7]
    with pytest.raises(ValueError, match="odd"):
        profile_fractions([0.0], [0.0], 4, [0.3], [1.0])


def test_window_sums_r9_and_2x2():
    image = _image(
        {(0, 0): 10.0, (1, 0): 2.0, (0, 1): 1.0, (1, 1): 0.5, (2, 2): 4.0, (-1, -1): 0.5}
    )
    assert window_sum(image, 1) == pytest.approx(10.0)
    assert window_sum(image, 3) == pytest.approx(14.0)
    assert window_sum(image, 5) == pytest.approx(18.0)
    assert r9(image) == pytest.approx(14.0 / 18.0)
    assert r9(image, denominator=3) == pytest.approx(1.0)
    assert max_2x2(image) == pytest.approx(13.5)
    assert r9(np.zeros((5, 5))) == 0.0
    batch = np.stack([image, 2 * image])
    np.testing.assert_allclose(window_sum(batch, 3), [14.0, 28.0])


def test_sigma_ietaieta_of_a_symmetric_three_crystal_pattern():
    side, centre = 2.0, 10.0
    image = _image({(-1, 0): side, (0, 0): centre, (1, 0): side})
    total = 2 * side + centre
    w_side, w_centre = 4.7 + np.log(side / total), 4.7 + np.log(centre / total)
    expected = np.sqrt(2 * w_side / (2 * w_side + w_centre))
    assert log_weighted_width(image, axis=-2) == pytest.approx(expected)
    assert log_weighted_width(image, axis=-1) == pytest.approx(0.0)  # all in one iphi column
    # the same pattern along iphi gives the same width in the other direction
    assert log_weighted_width(image.T, axis=-1) == pytest.approx(expected)


def test_sigma_ietaieta_drops_crystals_below_the_log_weight_cutoff():
    tiny = 1e-4  # ln(1e-4 / ~10) < -4.7: weight 0
    image = _image({(0, 0): 10.0, (2, 0): tiny, (-2, 0): tiny})
    assert log_weighted_width(image) == pytest.approx(0.0)
    assert log_weighted_width(np.zeros((5, 5))) == 0.0
    with pytest.raises(ValueError, match="axis"):
        log_weighted_width(image, axis=0)


def test_energy_width_and_crystal_count():
    image = _image({(0, -1): 3.0, (0, 1): 3.0, (0, 0): 0.05}, size=7)
    assert energy_width(image, axis=-1, threshold=0.1) == pytest.approx(1.0)
    assert energy_width(image, axis=-2, threshold=0.1) == pytest.approx(0.0)
    assert n_above(image, 0.1) == 2
    assert n_above(image, 0.0) == 3
    asymmetric = _image({(0, 0): 1.0, (0, 2): 1.0}, size=7)
    assert energy_width(asymmetric, axis=-1) == pytest.approx(1.0)  # about the centroid


def test_local_maxima_finds_separate_peaks_and_breaks_ties_once():
    grid = np.zeros((1, 6, 8))
    grid[0, 1, 1] = 5.0
    grid[0, 1, 2] = 3.0  # neighbour of the first peak, not a maximum
    grid[0, 4, 5] = 2.0
    grid[0, 4, 6] = 2.0  # equal neighbours: one seed only
    grid[0, 3, 3] = 0.5  # below threshold
    seeds = local_maxima(grid, threshold=1.0)
    assert sorted(zip(*np.nonzero(seeds[0]), strict=True)) == [(1, 1), (4, 5)]


def test_local_maxima_wraps_in_phi_only():
    grid = np.zeros((4, 6))
    grid[1, 0] = 2.0
    grid[1, 5] = 3.0  # neighbour of (1, 0) across the phi boundary
    grid[0, 2] = 1.5
    grid[3, 2] = 2.5  # not a neighbour of (0, 2): eta does not wrap
    wrapped = local_maxima(grid, threshold=1.0)
    assert sorted(zip(*np.nonzero(wrapped), strict=True)) == [(0, 2), (1, 5), (3, 2)]
    flat = local_maxima(grid, threshold=1.0, wrap_last=False)
    assert sorted(zip(*np.nonzero(flat), strict=True)) == [(0, 2), (1, 0), (1, 5), (3, 2)]
