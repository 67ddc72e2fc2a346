"""The ECAL photon/pile-up sample: energy bookkeeping in the crystal grid, shower shapes, builder."""

import awkward as ak
import numpy as np
import pytest

from hepml.data.io import write_columns
from hepml.generate.samples.photons import Ecal, build_chunk, find_candidates
from hepml.physics.showers import log_weighted_width, profile_fractions, r9
from hepml.pipelines.plot import sample_plots

QUIET = Ecal(noise=0.0, stochastic=0.0, constant=0.0)


def _deposit(ecal, eta, phi, energy, pid=22, charge=0, event=None, n_events=1, seed=1):
    eta, phi, energy = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (eta, phi, energy))
    n = eta.size
    return ecal.deposit(
        np.zeros(n, np.int64) if event is None else np.asarray(event),
        eta,
        phi,
        energy,
        np.full(n, pid),
        np.full(n, charge),
        n_events,
        np.random.default_rng(seed),
    )


def test_deposits_add_up_to_the_energy_within_the_window_containment():
    eta, phi, energy = 0.3137, 1.0021, 50.0
    grid = _deposit(QUIET, eta, phi, energy)
    u = (eta + QUIET.eta_max) / QUIET.crystal_eta
    v = np.mod(phi, 2 * np.pi) / QUIET.crystal_phi
    widths, weights = QUIET.profile()
    containment = profile_fractions(
        [u % 1 - 0.5], [v % 1 - 0.5], QUIET.window, widths, weights
    ).sum()
    assert grid.sum() == pytest.approx(energy * containment, rel=1e-5)
    assert containment > 0.999
    # below soft_energy the shower is spread over 5x5 crystals only
    soft = _deposit(QUIET, eta, phi, 2.0)
    soft_containment = profile_fractions([u % 1 - 0.5], [v % 1 - 0.5], 5, widths, weights).sum()
    assert soft.sum() == pytest.approx(2.0 * soft_containment, rel=1e-5)
    assert np.count_nonzero(soft) == 25 and soft_containment > 0.99
    # several particles in several events: each event keeps its own energy
    grid = _deposit(
        QUIET, [0.1, -0.8, 1.0], [0.0, 3.1, -2.0], [10.0, 20.0, 30.0], event=[0, 1, 1], n_events=2
    )
    np.testing.assert_allclose(grid.sum(axis=(1, 2)), [10.0, 50.0], rtol=1e-3)


def test_energy_beyond_the_barrel_end_is_lost_and_hadrons_leave_a_mip():
    edge = _deposit(QUIET, QUIET.eta_max - 0.5 * QUIET.crystal_eta, 0.5, 40.0)
    assert 0.5 * 40.0 < edge.sum() < 0.99 * 40.0
    assert _deposit(QUIET, 2.0, 0.5, 40.0).sum() == 0.0
    mip = _deposit(QUIET, 0.2, 0.5, 40.0, pid=211, charge=1)
    assert mip.sum() == pytest.approx(QUIET.mip)
    assert np.count_nonzero(mip) == 1
    assert _deposit(QUIET, 0.2, 0.5, 40.0, pid=2112).sum() == 0.0


def test_single_photon_has_high_r9_and_a_wide_pi0_lower():
    ecal = Ecal()  # with noise and resolution
    single = _deposit(ecal, 0.40, 0.70, 30.0)
    *_, images = find_candidates(single, ecal, seed_threshold=1.0)
    assert images.shape == (1, 11, 11)
    assert r9(images)[0] > 0.85
    # two photons two crystals apart in eta: the second is inside the 5x5 but outside the 3x3
    gap = 2.0 * ecal.crystal_eta
    pair = _deposit(ecal, [0.40, 0.40 + gap], [0.70, 0.70], [18.0, 12.0])
    event, ieta, _, images = find_candidates(pair, ecal, seed_threshold=1.0)
    assert len(event) == 1  # one seed: the second photon's crystal is not a local maximum
    assert r9(images)[0] < 0.8
    assert r9(images)[0] < r9(find_candidates(single, ecal)[3])[0] - 0.1
    single_images = find_candidates(single, ecal)[3]
    assert log_weighted_width(images)[0] > log_weighted_width(single_images)[0] + 0.2


@pytest.fixture(scope="module")
def photons():
    return build_chunk(seed=21, n_events=120, process="photon", mu=3.0, mpi=False, pool_size=30)


def test_photon_candidates_and_columns(photons):
    n = len(photons["cand_e"])
    assert n > 10
    assert all(len(v) == n for v in photons.values())
    assert np.all(photons["truth_pid"] == 22) and np.all(photons["truth_prompt"] == 1)
    assert np.all(photons["cand_et"] > 10.0)
    assert np.all(photons["image_npix"] == 121)
    image = ak.to_numpy(photons["image"]).reshape(n, 11, 11)
    np.testing.assert_allclose(image[:, 3:8, 3:8].sum(axis=(1, 2)), photons["e5x5"], rtol=1e-4)
    assert np.median(photons["cand_e"] / photons["truth_e"]) == pytest.approx(1.0, abs=0.03)
    assert np.median(photons["r9"]) > 0.9
    assert 0.005 < np.median(photons["sigma_ietaieta"]) < 0.013
    assert "label" not in photons and "weight" not in photons


def test_same_seed_same_candidates(photons):
    again = build_chunk(seed=21, n_events=120, process="photon", mu=3.0, mpi=False, pool_size=30)
    assert again.keys() == photons.keys()
    for name, values in photons.items():
        if isinstance(values, ak.Array):
            assert ak.array_equal(values, again[name]), name
        else:
            np.testing.assert_array_equal(values, again[name], err_msg=name)


def test_fakes_and_plots(photons, tmp_path):
    fakes = build_chunk(seed=5, n_events=150, process="qcd", pt_hat_min=50.0, mpi=False)
    assert len(fakes["cand_e"]) > 5
    assert np.all(fakes["truth_prompt"] == 0)
    assert np.median(fakes["r9"]) < np.median(photons["r9"])
    columns = {
        k: ak.concatenate([photons[k], fakes[k]])
        if isinstance(v, ak.Array)
        else np.concatenate([photons[k], fakes[k]])
        for k, v in photons.items()
    }
    columns["label"] = np.r_[
        np.ones(len(photons["cand_e"])), np.zeros(len(fakes["cand_e"]))
    ].astype(np.int32)
    path = write_columns(tmp_path / "photons.h5", columns)
    written = sample_plots(path, tmp_path / "plots", "photons")
    assert len(written) == 10 and all(p.exists() for p in written)
    with pytest.raises(ValueError, match="unknown photons process"):
        build_chunk(seed=1, n_events=1, process="gluon")


def test_pileup_seeded_candidates_are_not_copies():
    options = {"seed": 3, "n_events": 40, "process": "minbias", "mu": 10.0, "min_et": 1.5}
    options |= {"mpi": False, "pool_size": 5}  # each pool event overlaid ~80 times
    copies = build_chunk(**options, unique_pileup_seeds=False)
    unique = build_chunk(**options)
    for columns, expect_copies in ((copies, True), (unique, False)):
        pileup = columns["truth_pileup"] == 1
        keys = list(zip(columns["truth_pid"][pileup], columns["truth_e"][pileup], strict=True))
        assert (len(set(keys)) < len(keys)) == expect_copies
    assert (unique["truth_pileup"] == 0).sum() == (copies["truth_pileup"] == 0).sum()
