"""N-subjettiness and subjets against known answers and a numpy implementation."""

import numpy as np
import pytest

from hepml.physics.kinematics import ptetaphim_to_pxpypze
from hepml.physics.substructure import (
    AXES,
    leading_subjets,
    nsubjettiness,
    nsubjettiness_from_axes,
    tau_ratio,
)


def _four(pt, eta, phi):
    return ptetaphim_to_pxpypze(pt, eta, phi, np.zeros_like(np.asarray(pt, dtype=float)))


def _prongs(positions, pts, per_prong=3):
    """One jet of pencil-like prongs: ``per_prong`` collinear massless particles per prong."""
    eta = np.repeat([p[0] for p in positions], per_prong)
    phi = np.repeat([p[1] for p in positions], per_prong)
    pt = np.repeat(np.asarray(pts, dtype=float) / per_prong, per_prong)
    return pt, eta, phi


def _random_jets(rng, n_jets=6):
    counts = rng.integers(5, 40, n_jets)
    owner = np.repeat(np.arange(n_jets), counts)
    axis_eta, axis_phi = rng.uniform(-2, 2, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    eta = axis_eta[owner] + rng.normal(0, 0.25, owner.size)
    phi = axis_phi[owner] + rng.normal(0, 0.25, owner.size)
    pt = rng.exponential(10.0, owner.size) + 0.5
    return pt, eta, phi, counts


def test_two_pencil_prongs_have_vanishing_tau2():
    pt, eta, phi = _prongs([(0.0, -0.15), (0.0, 0.15)], [100.0, 100.0])
    taus = nsubjettiness(*_four(pt, eta, phi), [pt.size], n_max=3, radius=0.8)
    # one axis along the sum, halfway between: tau1 = 2 * 100 * 0.15 / (200 * 0.8)
    assert taus[0, 0] == pytest.approx(0.1875, rel=1e-6)
    assert taus[0, 1] == pytest.approx(0.0, abs=1e-9)
    assert tau_ratio(taus, 2, 1)[0] == pytest.approx(0.0, abs=1e-8)


def test_single_prong_has_vanishing_tau1():
    pt, eta, phi = _prongs([(0.3, 1.0)], [250.0], per_prong=5)
    for axes in AXES:
        taus = nsubjettiness(*_four(pt, eta, phi), [pt.size], radius=0.8, axes=axes)
        assert np.allclose(taus, 0.0, atol=1e-9)


def test_invariant_under_a_global_phi_rotation():
    rng = np.random.default_rng(3)
    pt, eta, phi, counts = _random_jets(rng)
    taus = nsubjettiness(*_four(pt, eta, phi), counts)
    rotated = nsubjettiness(*_four(pt, eta, np.mod(phi + 2.5 + np.pi, 2 * np.pi) - np.pi), counts)
    assert np.all(taus[:, 0] > 0)
    assert np.allclose(taus, rotated, rtol=1e-9, atol=1e-12)


def test_contrib_matches_numpy_with_exclusive_kt_axes():
    rng = np.random.default_rng(5)
    pt, eta, phi, counts = _random_jets(rng)
    four = _four(pt, eta, phi)
    taus = nsubjettiness(*four, counts, n_max=3, axes="KT_Axes")
    for n in (1, 2, 3):
        sub = leading_subjets(*four, counts, n=n, radius=None)
        mt = np.hypot(sub.pt, sub.m)
        rapidity = np.arcsinh(sub.pt * np.sinh(sub.eta) / mt)
        expected = nsubjettiness_from_axes(pt, eta, phi, counts, rapidity, sub.phi)
        assert np.allclose(taus[:, n - 1], expected, rtol=1e-6, atol=1e-12)


def test_edge_cases_and_errors():
    assert nsubjettiness([], [], [], [], []).shape == (0, 3)
    pt, eta, phi = _prongs([(0.0, 0.0)], [50.0], per_prong=1)
    assert np.allclose(nsubjettiness(*_four(pt, eta, phi), [1, 0]), 0.0)
    with pytest.raises(ValueError, match="axes"):
        nsubjettiness(*_four(pt, eta, phi), [1], axes="Bogus_Axes")
    assert tau_ratio(np.array([[0.0, 0.1]]), 2, 1).tolist() == [0.0]


def test_leading_subjets_find_the_prongs_in_pt_order():
    pt, eta, phi = _prongs([(0.5, 1.0), (0.1, 1.4)], [60.0, 140.0])
    sub = leading_subjets(*_four(pt, eta, phi), [pt.size], n=3, radius=0.3)
    assert sub.pt[0, :2] == pytest.approx([140.0, 60.0])
    assert sub.eta[0, :2] == pytest.approx([0.1, 0.5])
    assert sub.phi[0, :2] == pytest.approx([1.4, 1.0])
    assert sub.pt[0, 2] == 0.0 and np.isnan(sub.eta[0, 2]) and np.isnan(sub.phi[0, 2])
    exclusive = leading_subjets(*_four(pt, eta, phi), [pt.size], n=2, radius=None)
    assert exclusive.pt[0] == pytest.approx([140.0, 60.0])
