"""The hadronic-tau sample: physics invariants, file formats and reproducibility."""

import json

import awkward as ak
import h5py
import numpy as np
import pytest
import uproot

from hepml.generate.clustering import cluster_antikt
from hepml.generate.pythia import make_pythia
from hepml.generate.samples.taus import COLUMNS, chunk_seed, generate_taus
from hepml.physics.kinematics import delta_r, ptetaphim_to_pxpypze

N_TAUS = 40
TAU_MASS = 1.77686
OPTIONS = {"n_taus": N_TAUS, "seed": 11, "chunk_size": 100, "progress": False}


def _read_h5(path):
    with h5py.File(path) as handle:
        return {name: handle[name][()] for name in handle}, dict(handle.attrs)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = generate_taus(tmp_path_factory.mktemp("taus") / "taus.h5", **OPTIONS)
    return _read_h5(path)


def test_columns_and_provenance(sample):
    columns, attrs = sample
    assert set(columns) == {*COLUMNS, "label"}
    assert all(len(values) == N_TAUS for values in columns.values())
    assert np.bincount(columns["process"]).tolist() == [N_TAUS // 2, N_TAUS // 2]
    np.testing.assert_array_equal(columns["label"], columns["process"])  # z: 0, h: 1
    assert np.all(columns["weight"] == 1.0)
    assert attrs["seed"] == 11 and attrs["n_events"] == N_TAUS
    assert json.loads(attrs["processes"]) == ["z", "h"]
    assert json.loads(attrs["chunk_seeds"])["z"][0] == chunk_seed(11, "z", 0)
    assert attrs["builder"] == "hepml.generate.samples.taus.build_chunk"
    assert json.loads(attrs["n_kept"])["z"] >= N_TAUS // 2
    assert attrs["pythia8mc_version"] and attrs["fastjet_version"]


def test_momentum_conservation_and_visible_fraction(sample):
    columns, _ = sample
    tau = ptetaphim_to_pxpypze(columns["tau_pt"], columns["tau_eta"], columns["tau_phi"], TAU_MASS)
    vis = ptetaphim_to_pxpypze(
        columns["vis_pt"], columns["vis_eta"], columns["vis_phi"], columns["vis_m"]
    )
    nu = ptetaphim_to_pxpypze(columns["nu_pt"], columns["nu_eta"], columns["nu_phi"], 0.0)
    # the tau's final-state products carry all of its momentum (float32 storage)
    for t, v, n in zip(tau, vis, nu, strict=True):
        np.testing.assert_allclose(v + n, t, atol=1e-4 * np.max(tau[3]))
    assert np.all(vis[3] <= tau[3] * (1 + 1e-5))  # the visible energy cannot exceed the tau's
    assert np.all(columns["vis_m"] < TAU_MASS)
    assert np.all(columns["nu_pt"] > 0)


def test_decay_classification(sample):
    columns, _ = sample
    prongs, pi0 = columns["n_prongs"], columns["n_pi0"]
    assert np.all(prongs % 2 == 1)
    assert np.all(pi0 >= 0)
    np.testing.assert_array_equal(columns["decay_mode"], 5 * (prongs - 1) + np.minimum(pi0, 4))


def test_jet_matching_and_selection(sample):
    columns, _ = sample
    dr = delta_r(columns["jet_eta"], columns["jet_phi"], columns["vis_eta"], columns["vis_phi"])
    assert np.all(dr < 0.2)
    assert np.all(columns["jet_pt"] > 20.0)
    assert np.all(np.abs(columns["jet_eta"]) < 2.3)


def test_constituents_padded_and_sorted(sample):
    columns, _ = sample
    n = columns["n_const"]
    pt = columns["const_pt"]
    assert pt.shape == (N_TAUS, n.max())
    inside = np.arange(pt.shape[1]) < n[:, None]
    assert np.all(pt[inside] > 0) and np.all(pt[~inside] == 0)
    assert np.all(np.diff(pt, axis=1)[inside[:, 1:]] <= 0)
    assert np.all(np.isin(columns["const_charge"][inside], [-1, 0, 1]))
    # the constituents add up to the jet (E recombination scheme)
    jet_e = ptetaphim_to_pxpypze(
        columns["jet_pt"], columns["jet_eta"], columns["jet_phi"], columns["jet_m"]
    )[3]
    np.testing.assert_allclose(columns["const_e"].sum(axis=1), jet_e, rtol=1e-4)


def test_root_output_matches_hdf5(sample, tmp_path):
    columns, _ = sample
    path = generate_taus(tmp_path / "taus.root", **OPTIONS)
    with uproot.open(path) as handle:
        tree = handle["events"]
        assert tree.classname.startswith("TTree")
        arrays = tree.arrays(library="ak")
        provenance = json.loads(str(handle["provenance"]))
    assert provenance["seed"] == 11
    for name in COLUMNS:
        if name.startswith("const_"):
            assert ak.all(ak.num(arrays[name]) == columns["n_const"])
            padded = ak.fill_none(ak.pad_none(arrays[name], columns[name].shape[1]), 0)
            np.testing.assert_array_equal(ak.to_numpy(padded), columns[name])
        else:
            np.testing.assert_array_equal(ak.to_numpy(arrays[name]), columns[name])


def test_same_seed_same_sample_and_other_seed_differs(sample, tmp_path):
    columns, _ = sample
    again, _ = _read_h5(generate_taus(tmp_path / "again.h5", **OPTIONS))
    for name in COLUMNS:
        np.testing.assert_array_equal(again[name], columns[name])
    other, _ = _read_h5(generate_taus(tmp_path / "other.h5", **{**OPTIONS, "seed": 12}))
    assert not np.array_equal(other["tau_pt"], columns["tau_pt"])


def test_workers_do_not_change_the_sample(sample, tmp_path):
    columns, _ = sample
    parallel, _ = _read_h5(generate_taus(tmp_path / "parallel.h5", **OPTIONS, workers=2))
    for name in COLUMNS:
        np.testing.assert_array_equal(parallel[name], columns[name])


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="processes"):
        generate_taus(tmp_path / "x.h5", 10, processes=("w",), progress=False)
    with pytest.raises(ValueError, match=r"\.txt"):
        generate_taus(tmp_path / "x.txt", 10, progress=False)


def test_pythia_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="WeakZ0:gmZmod = 2"):
        make_pythia(["WeakZ0:gmZmod = 2"], seed=1)
    with pytest.raises(RuntimeError, match="init"):
        make_pythia(["Beams:eCM = 13000"], seed=1)  # no process switched on
    with pytest.raises(ValueError, match="seed"):
        make_pythia([], seed=0)


def test_cluster_antikt_batch():
    px = ak.Array([[30.0, 29.0, -40.0, 0.5], [], [10.0]])
    py = ak.Array([[0.0, 1.0, 0.0, 0.5], [], [0.0]])
    pz = ak.Array([[0.0, 0.0, 0.0, 0.0], [], [0.0]])
    e = np.sqrt(px**2 + py**2 + pz**2)
    jets, constituents = cluster_antikt(px, py, pz, e, radius=0.4, min_pt=15.0)
    assert ak.num(jets).tolist() == [2, 0, 0]
    assert sorted(map(sorted, constituents[0].to_list())) == [[0, 1], [2]]
    assert sorted(ak.to_numpy(jets[0].px).tolist()) == [-40.0, 59.0]


def test_validation_plots(tmp_path):
    from hepml.pipelines.plot import sample_plots

    path = generate_taus(tmp_path / "taus.h5", **OPTIONS)
    files = sample_plots(path, tmp_path / "plots")  # the kind from the file's provenance
    assert sorted(p.name for p in files if p.suffix == ".png") == ["decay_modes.png", "response.png", "tau_pt.png"]


def test_pileup_overlay_in_tau_jets():
    from hepml.generate.pileup import cached_pool
    from hepml.generate.samples.taus import build_chunk

    mu = 20.0
    plain = build_chunk(31, 150, "z")
    piled = build_chunk(31, 150, "z", mu=mu, pool_size=30)
    assert list(plain) == list(COLUMNS)
    assert list(piled) == [*COLUMNS, "n_pileup", "const_pileup"]
    flag = piled["const_pileup"]
    assert str(ak.type(flag).content) == "var * int32" and ak.sum(flag) > 0
    assert ak.to_list(ak.num(flag)) == piled["n_const"].tolist()
    assert piled["jet_pt"].mean() > plain["jet_pt"].mean()
    assert piled["jet_m"].mean() > plain["jet_m"].mean()
    n = piled["n_pileup"].size  # two taus of one event share it: twice the Poisson variance
    assert abs(piled["n_pileup"].mean() - mu) < 4 * np.sqrt(2 * mu / n)
    # the truth does not see the pile-up: kept taus' truth pT come from the same events
    assert np.all(piled["vis_pt"] <= piled["tau_pt"] + 1e-3)
    cached_pool.cache_clear()
    again = build_chunk(31, 150, "z", mu=mu, pool_size=30)
    for name, values in piled.items():
        assert ak.to_list(values) == ak.to_list(again[name]), name
