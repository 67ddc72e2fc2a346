"""hepml.data.io ROOT: TTree layout, NanoAOD-style counters, several trees, RNTuple, ranges."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import uproot

from hepml.data import io
from hepml.data.io import DataFileError, root


@pytest.fixture
def columns():
    const_pt = ak.Array([[3.0, 2.0, 1.0], [], [5.5]])
    return {
        "x": np.array([1.5, 2.5, 3.5], dtype=np.float32),
        "label": np.array([0, 1, 1], dtype=np.int32),
        "n_const": np.array([3, 0, 1], dtype=np.int32),
        "const_pt": ak.values_astype(const_pt, np.float32),
        "const_charge": ak.values_astype(ak.Array([[1, -1, 0], [], [1]]), np.int32),
    }


def _nano(path, n=40, seed=0):
    """A NanoAOD-like file: Events with nJet + Jet_* (one counter) and a flat branch, Runs."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, n)
    jets = ak.zip({"pt": ak.unflatten(rng.exponential(30, counts.sum()).astype(np.float32), counts),
                   "eta": ak.unflatten(rng.normal(0, 2, counts.sum()).astype(np.float32), counts)})
    with uproot.recreate(path) as f:
        events = f.mktree("Events", {"run": "uint32", "MET_pt": "float32", "Jet": jets.type.content})
        events.extend({"run": np.ones(n, np.uint32), "MET_pt": rng.exponential(40, n).astype(np.float32),
                       "Jet": jets})
        runs = f.mktree("Runs", {"run": "uint32"})
        runs.extend({"run": np.ones(1, np.uint32)})
    return path, counts, jets


def test_root_round_trip_as_ttree(tmp_path, columns):
    path = io.write_columns(tmp_path / "out.root", columns, attrs={"seed": 3, "cfg": {"a": 1}})
    with uproot.open(path) as handle:
        tree = handle["events"]
        assert tree.classname.startswith("TTree")
        arrays = tree.arrays(library="ak")
        np.testing.assert_array_equal(arrays["x"], columns["x"])
        np.testing.assert_array_equal(arrays["n_const"], columns["n_const"])
        assert arrays["const_pt"].to_list() == columns["const_pt"].to_list()
        assert arrays["const_charge"].to_list() == columns["const_charge"].to_list()
        assert "nconst" in tree.keys()  # one counter for the const_ group
        provenance = json.loads(str(handle["provenance"]))
        assert provenance["seed"] == 3 and json.loads(provenance["cfg"]) == {"a": 1}
    assert io.read_attrs(path) == {"seed": 3, "cfg": {"a": 1}}


def test_root_tree_name_and_unshared_counts(tmp_path):
    columns = {"a_x": ak.Array([[1.0], [2.0, 3.0]]), "a_y": ak.Array([[1.0, 2.0], [3.0]])}
    path = io.write_columns(tmp_path / "out.root", columns, tree="jets")
    with uproot.open(path) as handle:
        arrays = handle["jets"].arrays(["a_x", "a_y"], library="ak")
        assert arrays["a_x"].to_list() == [[1.0], [2.0, 3.0]]
        assert arrays["a_y"].to_list() == [[1.0, 2.0], [3.0]]
    assert {c.name: c.counter for c in io.list_columns(path)} == {
        "na_x": None, "a_x": "na_x", "na_y": None, "a_y": "na_y"}


def test_nanoaod_counters_are_jagged_branches(tmp_path):
    path, counts, jets = _nano(tmp_path / "nano.root")
    with pytest.raises(DataFileError, match=r"holds 2 trees \('Events' \(TTree\), 'Runs'"):
        io.read_columns(path, ["Jet_pt"])
    out = io.read_columns(path, ["Jet_pt", "nJet", "MET_pt"], tree="Events")
    assert str(out["Jet_pt"].type) == "40 * var * float32"
    assert out["Jet_pt"].to_list() == jets.pt.to_list()
    np.testing.assert_array_equal(out["nJet"], counts)
    assert isinstance(out["MET_pt"], np.ndarray)
    infos = {c.name: c for c in io.list_columns(path, tree="Events")}
    assert infos["Jet_pt"].counter == "nJet" and infos["Jet_pt"].jagged
    assert infos["Jet_pt"].shape == (None,) and infos["Jet_pt"].dtype == "float32"
    assert infos["nJet"].counter is None and infos["run"].dtype == "uint32"
    assert io.num_entries(path, tree="Events") == 40 and io.num_entries(path, tree="Runs") == 1
    assert io.list_trees(path) == {"Events": "TTree", "Runs": "TTree"}
    part = io.read_columns(path, ["Jet_pt"], tree="Events", start=7, stop=19)
    assert part["Jet_pt"].to_list() == jets.pt[7:19].to_list()
    # a NanoAOD read written back: the flat nJet is the counter uproot writes itself
    copy = io.write_columns(tmp_path / "copy.root", {"nJet": out["nJet"], "Jet_pt": out["Jet_pt"],
                                                     "Jet_eta": jets.eta})
    assert io.read_columns(copy, ["Jet_eta"])["Jet_eta"].to_list() == jets.eta.to_list()
    with pytest.raises(DataFileError, match="counter branch 'nJet'"):
        io.write_columns(tmp_path / "clash.root", {"nJet": out["nJet"] + 1,
                                                   "Jet_pt": out["Jet_pt"], "Jet_eta": jets.eta})


def test_missing_branch_and_tree_name_file_tree_and_nearest(tmp_path):
    path, _, _ = _nano(tmp_path / "nano.root")
    with pytest.raises(DataFileError, match=r"nano\.root: missing branch\(s\) \['jet_pt'\] in TTree "
                                            r"'Events'; nearest: 'jet_pt' -> 'Jet_pt'"):
        io.read_columns(path, ["jet_pt"], tree="Events")
    with pytest.raises(DataFileError, match=r"no TTree or RNTuple 'Event'; the file holds 'Events'"):
        io.read_columns(path, ["run"], tree="Event")


def test_rntuple_is_read_and_named(tmp_path):
    path = tmp_path / "rn.root"
    with uproot.recreate(path) as f:  # uproot 5.7 writes an RNTuple for file[name] = {...}
        f["ntuple"] = {"x": np.arange(5.0), "j": ak.Array([[1.0, 2.0], [], [3.0], [4.0, 5.0, 6.0], []]),
                       "img": np.ones((5, 2, 3), np.float32)}
    assert io.list_trees(path) == {"ntuple": "RNTuple"}
    out = io.read_columns(path, ["x", "j", "img"], start=1, stop=4)
    np.testing.assert_array_equal(out["x"], [1.0, 2.0, 3.0])
    assert out["j"].to_list() == [[], [3.0], [4.0, 5.0, 6.0]]
    assert out["img"].shape == (3, 2, 3)
    infos = {c.name: c for c in io.list_columns(path)}
    assert infos["j"].jagged and infos["img"].shape == (2, 3) and infos["x"].shape == ()
    assert io.num_entries(path) == 5
    with pytest.raises(DataFileError, match=r"missing field\(s\) \['y'\] in RNTuple 'ntuple'"):
        io.read_columns(path, ["y"])


def test_fixed_size_arrays_and_append_rewrites(tmp_path, columns):
    images = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    path = io.write_columns(tmp_path / "img.root", {**columns, "img": images}, attrs={"seed": 1})
    assert {c.name: c.shape for c in io.list_columns(path)}["img"] == (2, 2)
    io.append_columns(path, {**columns, "img": images})
    assert root.num_entries(path) == 6
    out = io.read_columns(path, ["img", "const_pt"], start=2, stop=5)
    np.testing.assert_array_equal(out["img"], np.concatenate([images, images])[2:5])
    assert out["const_pt"].to_list() == [[5.5], [3.0, 2.0, 1.0], []]
    assert io.read_attrs(path) == {"seed": 1}
    with pytest.raises(DataFileError, match="cannot append columns"):
        io.append_columns(path, {"x": np.zeros(1)})
    assert root.num_entries(path) == 6  # a failed append keeps the old file


def test_file_without_trees_names_what_it_holds(tmp_path):
    path = tmp_path / "hists.root"
    with uproot.recreate(path) as f:
        f["h"] = np.histogram(np.arange(10.0), bins=5)
    with pytest.raises(DataFileError, match=r"hists\.root: holds no TTree or RNTuple \(objects: "
                                            r"'h' \(TH1D\)\)"):
        io.read_columns(path, ["x"])
