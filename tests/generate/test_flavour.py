"""The flavour-tagging jet sample: columns, sorting, labelling, displacement, reproducibility."""

import awkward as ak
import numpy as np
import pytest

from hepml.data.io import write_columns
from hepml.generate.samples.flavour import SV, TRK, build_chunk
from hepml.pipelines.plot import sample_plots

OPTIONS = {"seed": 9, "n_events": 60, "process": "ttbar", "mpi": False}


@pytest.fixture(scope="module")
def jets():
    return build_chunk(**OPTIONS)


def test_columns_and_lengths(jets):
    n = len(jets["jet_pt"])
    assert n > 100
    expected = {
        "jet_pt",
        "jet_eta",
        "jet_phi",
        "jet_m",
        "n_const",
        "n_trk",
        "n_sv",
        "flavour",
        "hadron_flavour",
        "hadron_pt",
    }
    expected |= {f"trk_{k}" for k in TRK} | {f"sv_{k}" for k in SV}
    assert set(jets) == expected
    assert all(len(v) == n for v in jets.values())
    for prefix, names in (("trk", TRK), ("sv", SV)):
        for name in names:
            np.testing.assert_array_equal(
                ak.to_numpy(ak.num(jets[f"{prefix}_{name}"])), jets[f"n_{prefix}"]
            )
    assert np.all(jets["n_trk"] <= jets["n_const"])
    assert np.all(jets["jet_pt"] > 25.0) and np.all(np.abs(jets["jet_eta"]) < 2.5)
    assert "label" not in jets and "weight" not in jets


def test_tracks_and_vertices_sorted(jets):
    pt = jets["trk_pt"]
    assert ak.all(pt[:, 1:] <= pt[:, :-1])
    sig = jets["sv_lxy_sig"]
    assert ak.all(sig[:, 1:] <= sig[:, :-1])
    assert ak.all(jets["sv_ntrk"] >= 2)
    assert ak.all(np.abs(jets["trk_charge"]) >= 1)
    # inside the R = 0.4 jet (anti-kT measures distances in rapidity, these are in pseudorapidity)
    dr = ak.to_numpy(ak.flatten(np.hypot(jets["trk_deta"], jets["trk_dphi"])))
    assert np.mean(dr < 0.45) > 0.97 and np.all(dr < 1.0)


def test_flavour_labels(jets):
    flavour, ghost = jets["flavour"], jets["hadron_flavour"]
    assert set(np.unique(flavour)) == {0, 4, 5} and set(np.unique(ghost)) <= {0, 4, 5}
    assert np.mean(flavour == ghost) > 0.9  # cone and ghost labelling mostly agree
    assert (flavour == 5).sum() > 30  # ttbar: two b quarks per event
    assert (flavour == 0).sum() > 30
    assert np.all(jets["hadron_pt"][flavour > 0] > 5.0)
    assert np.all(jets["hadron_pt"][flavour == 0] == 0.0)


def test_b_jets_have_displaced_tracks(jets):
    d0sig = jets["trk_d0sig"]
    b = np.abs(ak.to_numpy(ak.flatten(d0sig[jets["flavour"] == 5])))
    light = np.abs(ak.to_numpy(ak.flatten(d0sig[jets["flavour"] == 0])))
    assert np.median(b) > 1.5 * np.median(light)
    lead = ak.to_numpy(ak.fill_none(ak.firsts(d0sig[jets["n_trk"] > 0]), 0.0))
    flavour = jets["flavour"][jets["n_trk"] > 0]
    assert np.median(lead[flavour == 5]) > np.median(lead[flavour == 0]) + 1.0
    # secondary vertices are far more frequent in b jets
    assert np.mean(jets["n_sv"][jets["flavour"] == 5] > 0) > 3 * np.mean(
        jets["n_sv"][jets["flavour"] == 0] > 0
    )


def test_same_seed_same_jets(jets):
    again = build_chunk(**OPTIONS)
    for name, values in jets.items():
        if isinstance(values, ak.Array):
            assert ak.array_equal(values, again[name]), name
        else:
            np.testing.assert_array_equal(values, again[name], err_msg=name)


def test_qcd_and_plots(jets, tmp_path):
    qcd = build_chunk(seed=4, n_events=40, process="qcd", mpi=False, pt_hat_min=40.0)
    assert len(qcd["jet_pt"]) > 20
    assert np.mean(qcd["flavour"] == 0) > 0.7
    columns = {
        k: ak.concatenate([jets[k], qcd[k]])
        if isinstance(v, ak.Array)
        else np.concatenate([jets[k], qcd[k]])
        for k, v in jets.items()
    }
    columns["label"] = np.r_[np.ones(len(jets["jet_pt"])), np.zeros(len(qcd["jet_pt"]))].astype(
        np.int32
    )
    written = sample_plots(write_columns(tmp_path / "flavour.h5", columns), tmp_path / "plots", "flavour")
    assert len(written) == 10 and all(p.exists() for p in written)
    with pytest.raises(ValueError, match="unknown flavour process"):
        build_chunk(seed=1, n_events=1, process="wjets")
