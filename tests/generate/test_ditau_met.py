"""The di-tau MET sample: invariants of the MET definitions, the masses and the selection."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from hepml.config import config_dir
from hepml.data.io import read_columns
from hepml.generate.samples.ditau_met import build_chunk
from hepml.physics.kinematics import ptetaphim_to_pxpypze
from hepml.physics.met import collinear_mass, visible_mass


@pytest.fixture(scope="module")
def events():
    """H -> tau tau without pile-up and with an unbounded acceptance for met_all."""
    return build_chunk(5, 120, "h", mu=0.0, met_eta_max=np.inf)


def _vis(c, n):
    return ptetaphim_to_pxpypze(*(c[f"tau{n}_vis_{k}"].astype(float) for k in ("pt", "eta", "phi", "m")))


def test_met_of_all_visible_particles_balances_the_neutrinos(events):
    c = events
    assert len(c["true_met"]) >= 10
    # momentum conservation: minus the visible sum over all particles is the neutrino sum
    np.testing.assert_allclose(c["met_all_px"], c["true_met_px"], atol=2e-3)
    np.testing.assert_allclose(c["met_all_py"], c["true_met_py"], atol=2e-3)
    np.testing.assert_allclose(c["true_met"], np.hypot(c["true_met_px"], c["true_met_py"]), rtol=1e-5)
    # the taus' neutrinos are all the neutrinos except in rare heavy-flavour decays
    tau_nu = c["nu1_px"] + c["nu2_px"]
    assert np.mean(np.isclose(tau_nu, c["true_met_px"], atol=1e-2)) > 0.8
    # without pile-up the pile-up MET is the calorimeter MET
    np.testing.assert_array_equal(c["met_pu_px"], c["met_calo_px"])
    assert np.all(c["n_pu"] == 0)
    # resolutions order as expected: charged-only is the worst
    err = {d: np.std(c[f"met_{d}_px"] - c["true_met_px"]) for d in ("calo", "charged")}
    assert err["calo"] < err["charged"]


def test_selection_and_visible_taus(events):
    c = events
    for n in (1, 2):
        assert np.all(c[f"tau{n}_vis_pt"] > 20.0) and np.all(np.abs(c[f"tau{n}_vis_eta"]) < 2.3)
        assert np.all(c[f"tau{n}_vis_pt"] < c[f"tau{n}_pt"] * 1.2)
    assert np.all(c["tau1_vis_pt"] >= c["tau2_vis_pt"])
    assert np.all(c["tau1_hadronic"] + c["tau2_hadronic"] >= 1)
    assert np.median(c["m_tautau"]) == pytest.approx(125.0, abs=1.0)


def test_masses_match_the_pure_functions(events):
    c = events
    v1, v2 = _vis(c, 1), _vis(c, 2)
    np.testing.assert_allclose(c["m_vis"], visible_mass(v1, v2), rtol=1e-3, atol=1e-2)
    assert np.all(c["m_vis"] < c["m_tautau"] + 1.0)
    m_col, x1, _ = collinear_mass(v1, v2, c["met_calo_px"], c["met_calo_py"])
    np.testing.assert_array_equal(c["m_col"] == -1, m_col == -1)
    ok = c["m_col"] > 0
    np.testing.assert_allclose(c["m_col"][ok], m_col[ok], rtol=1e-3)
    assert np.all((c["x1_col"][ok] > 0) & (c["x1_col"][ok] <= 1))
    assert np.all(c["m_col"][ok] >= c["m_vis"][ok] * (1 - 1e-4))
    # with the true MET the collinear mass is close to the Higgs mass
    good = c["m_col_true"] > 0
    assert good.mean() > 0.5 and np.median(c["m_col_true"][good]) == pytest.approx(125, rel=0.1)


def test_pileup_is_overlaid():
    c = build_chunk(6, 60, "z", mu=5.0, pool_size=20, min_hadronic=0)
    assert len(c["n_pu"]) > 0 and c["n_pu"].mean() > 2
    moved = c["met_pu_px"] != c["met_calo_px"]
    np.testing.assert_array_equal(moved, c["n_pu"] > 0)


def test_config_generates_a_file_with_plots(tmp_path):
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("generate", overrides=[
            "sample=ditau_met", "sample.n_events=6", "sample.workers=1", "sample.chunk_size=100",
            "sample.params.mu=2", "sample.params.pool_size=10", "sample.plots=true",
            f"sample.output={tmp_path}/met.h5", "+sample.progress=false"])
    path = instantiate(cfg.sample)
    columns = read_columns(path, ["label", "process", "true_met", "m_col"])
    assert len(columns["label"]) == 6 and set(columns["label"]) == {0, 1}
    assert sorted(p.name for p in (tmp_path / "met_plots").iterdir()) == [
        "ditau_masses.pdf", "ditau_masses.png", "met_resolution.pdf", "met_resolution.png"]
