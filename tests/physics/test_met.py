"""Missing transverse momentum and the collinear di-tau mass against hand-made events."""

import numpy as np
import pytest

from hepml.physics.met import collinear_mass, missing_pt, visible_mass


def _massless(px, py, pz):
    return (px, py, pz, float(np.sqrt(px**2 + py**2 + pz**2)))


def test_missing_pt_per_event():
    px = np.array([10.0, -4.0, 3.0, 1.0])
    py = np.array([0.0, 2.0, -1.0, 5.0])
    met_x, met_y = missing_pt(px, py, event=[0, 0, 2, 2], n_events=4)
    np.testing.assert_allclose(met_x, [-6.0, 0.0, -4.0, 0.0])
    np.testing.assert_allclose(met_y, [-2.0, 0.0, -4.0, 0.0])


def test_collinear_mass_recovers_the_tau_pair():
    # visible taus along x (40 GeV) and y (30 GeV); neutrinos carry 20 GeV along x, 30 along y
    vis1, vis2 = _massless(40.0, 0.0, 10.0), _massless(0.0, 30.0, -5.0)
    tau1 = 1.5 * np.array(vis1)  # x1 = 2/3
    tau2 = 2.0 * np.array(vis2)  # x2 = 1/2
    m_col, x1, x2 = collinear_mass(vis1, vis2, met_x=20.0, met_y=30.0)
    assert x1 == pytest.approx(2 / 3) and x2 == pytest.approx(0.5)
    assert m_col == pytest.approx(float(visible_mass(tuple(tau1), tuple(tau2))))
    assert m_col == pytest.approx(visible_mass(vis1, vis2) / np.sqrt(x1 * x2))
    # massless pair at 90 degrees: m^2 = 2 * 40 * 30
    assert visible_mass(_massless(40.0, 0, 0), _massless(0, 30.0, 0)) == pytest.approx(np.sqrt(2400))


def test_collinear_mass_unphysical_and_degenerate_are_minus_one():
    vis1, vis2 = _massless(40.0, 0.0, 0.0), _massless(0.0, 30.0, 0.0)
    # MET pointing against tau 1: x1 > 1
    m_col, x1, x2 = collinear_mass(vis1, vis2, met_x=-10.0, met_y=5.0)
    assert m_col == -1 and x1 == -1 and x2 == -1
    # back-to-back visible taus: no unique solution
    back = _massless(-30.0, 0.0, 0.0)
    assert collinear_mass(vis1, back, met_x=5.0, met_y=0.0)[0] == -1
    # vectorised, finite everywhere
    m_col, _, _ = collinear_mass(
        tuple(np.array([v, v]) for v in vis1), tuple(np.array([w, b]) for w, b in zip(vis2, back, strict=True)),
        met_x=np.array([20.0, 5.0]), met_y=np.array([30.0, 0.0]),
    )
    assert np.all(np.isfinite(m_col)) and m_col[1] == -1 and m_col[0] > 0
