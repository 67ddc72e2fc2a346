"""Known answers for hepml.physics.kinematics."""

import numpy as np
import pytest

from hepml.physics.kinematics import (
    delta_phi,
    delta_r,
    invariant_mass,
    ptetaphim_to_pxpypze,
    pxpypze_to_ptetaphim,
)


def test_delta_phi_wraps_into_half_open_interval():
    assert delta_phi(0.1, -0.1) == pytest.approx(0.2)
    assert delta_phi(3.0, -3.0) == pytest.approx(6.0 - 2 * np.pi)
    assert delta_phi(-3.0, 3.0) == pytest.approx(2 * np.pi - 6.0)
    assert delta_phi(np.pi, 0.0) == pytest.approx(-np.pi)
    assert delta_phi(7 * np.pi + 0.5, 0.0) == pytest.approx(-np.pi + 0.5)
    values = delta_phi(np.linspace(-20, 20, 10001), 0.3)
    assert np.all(values >= -np.pi) and np.all(values < np.pi)


def test_delta_r_pythagoras_across_the_phi_boundary():
    assert delta_r(0.0, 3.1, 0.3, -3.1) == pytest.approx(np.hypot(0.3, 2 * np.pi - 6.2))
    np.testing.assert_allclose(delta_r([0.0, 1.0], [0.0, 0.0], [0.3, 1.0], [0.4, 0.0]), [0.5, 0.0])


def test_round_trip_ptetaphim():
    rng = np.random.default_rng(0)
    pt = rng.uniform(1, 500, 1000)
    eta = rng.uniform(-4, 4, 1000)
    phi = rng.uniform(-np.pi, np.pi, 1000)
    m = rng.uniform(0, 50, 1000)
    back = pxpypze_to_ptetaphim(*ptetaphim_to_pxpypze(pt, eta, phi, m))
    for got, want in zip(back, (pt, eta, phi, m), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_round_trip_pxpypze_and_known_values():
    px, py, pz, e = ptetaphim_to_pxpypze(10.0, 0.0, np.pi / 2, 0.0)
    np.testing.assert_allclose([px, py, pz, e], [0.0, 10.0, 0.0, 10.0], atol=1e-12)
    pt, eta, phi, m = pxpypze_to_ptetaphim(3.0, 4.0, 0.0, 13.0)
    np.testing.assert_allclose([pt, eta, phi, m], [5.0, 0.0, np.arctan2(4, 3), 12.0])
    # slightly space-like from rounding gives zero mass, not NaN
    assert pxpypze_to_ptetaphim(1.0, 0.0, 0.0, 1.0 - 1e-12)[3] == 0.0


def test_mass_of_back_to_back_massless_pair():
    a = ptetaphim_to_pxpypze(50.0, 0.0, 0.0, 0.0)
    b = ptetaphim_to_pxpypze(50.0, 0.0, np.pi, 0.0)
    px, py, pz, e = (u + v for u, v in zip(a, b, strict=True))
    assert invariant_mass(e, px, py, pz) == pytest.approx(100.0)
    assert invariant_mass(1.0, 2.0, 0.0, 0.0) == 0.0
