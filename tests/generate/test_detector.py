"""The parametric detector response: resolutions, acceptance, invisibles, determinism."""

import numpy as np
import pytest

from hepml.generate.detector import DetectorResponse

N = 100_000


def _particles(pt, charge, is_photon, m=0.0, eta=0.5):
    ones = np.ones(N)
    return pt * ones, eta * ones, 0.3 * ones, m * ones, charge * ones, is_photon & (ones > 0)


def test_track_resolution_matches_configuration():
    detector = DetectorResponse()
    pt, eta, phi, m, q, photon = _particles(200.0, 1, False, m=0.13957)
    rpt, reta, rphi, rm, keep = detector.apply(pt, eta, phi, m, q, photon, np.random.default_rng(1))
    width = np.std(rpt[keep] / pt[keep] - 1)
    assert width == pytest.approx(detector.track_resolution(200.0), rel=0.03)
    assert keep.mean() == pytest.approx(detector.track_efficiency, abs=0.005)
    np.testing.assert_array_equal(reta, eta)
    np.testing.assert_array_equal(rm, m)


@pytest.mark.parametrize("is_photon", [True, False])
def test_calorimeter_resolution_matches_configuration(is_photon):
    detector = DetectorResponse()
    pt, eta, phi, m, q, photon = _particles(30.0, 0, is_photon, eta=0.0)
    rpt, _, _, rm, keep = detector.apply(pt, eta, phi, m, q, photon, np.random.default_rng(2))
    expected = detector.ecal_resolution(30.0) if is_photon else detector.hcal_resolution(30.0)
    assert np.std(rpt[keep] / 30.0 - 1) == pytest.approx(expected, rel=0.03)
    assert np.all(rm == 0.0)


def test_acceptance_thresholds_and_invisibles():
    detector = DetectorResponse()
    rng = np.random.default_rng(3)
    pt = rng.uniform(0.0, 50.0, N)
    eta = rng.uniform(-4.0, 4.0, N)
    charge = rng.integers(-1, 2, N)
    photon = (charge == 0) & (rng.random(N) < 0.5)
    invisible = (charge == 0) & ~photon
    rpt, reta, _, _, keep = detector.apply(
        pt,
        eta,
        rng.uniform(-np.pi, np.pi, N),
        np.zeros(N),
        charge,
        photon,
        rng,
        invisible=invisible,
    )
    assert not keep[invisible].any()
    assert np.all(np.abs(reta[keep]) < detector.eta_max)
    assert np.all(rpt[keep & (charge != 0)] > detector.track_pt_min)
    assert np.all(rpt[keep & (charge == 0)] > detector.calo_pt_min)
    assert keep[photon & (np.abs(eta) < 2.4) & (pt > 5)].all()


def test_same_seed_same_response():
    detector = DetectorResponse(track_efficiency=0.9)
    args = _particles(20.0, 1, False)
    first = detector.apply(*args, np.random.default_rng(7))
    second = detector.apply(*args, np.random.default_rng(7))
    other = detector.apply(*args, np.random.default_rng(8))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
