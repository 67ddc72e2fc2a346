"""write_columns: HDF5 and ROOT round trips, jagged layouts, errors."""

import json

import awkward as ak
import h5py
import numpy as np
import pytest
import uproot

from hepml.data.writers import write_columns


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


def test_hdf5_round_trip_with_padding(tmp_path, columns):
    path = write_columns(tmp_path / "sub" / "out.h5", columns, attrs={"seed": 3, "cfg": {"a": 1}})
    with h5py.File(path) as handle:
        np.testing.assert_array_equal(handle["x"][()], columns["x"])
        np.testing.assert_array_equal(handle["label"][()], columns["label"])
        pt = handle["const_pt"]
        assert pt.dtype == np.float32 and pt.shape == (3, 3)
        assert pt.compression == "gzip"
        np.testing.assert_array_equal(pt[()], [[3, 2, 1], [0, 0, 0], [5.5, 0, 0]])
        np.testing.assert_array_equal(
            handle["const_charge"][()], [[1, -1, 0], [0, 0, 0], [1, 0, 0]]
        )
        assert handle.attrs["seed"] == 3
        assert json.loads(handle.attrs["cfg"]) == {"a": 1}


def test_root_round_trip_as_ttree(tmp_path, columns):
    path = write_columns(tmp_path / "out.root", columns, attrs={"seed": 3, "cfg": {"a": 1}})
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


def test_root_tree_name_and_unshared_counts(tmp_path):
    columns = {"a_x": ak.Array([[1.0], [2.0, 3.0]]), "a_y": ak.Array([[1.0, 2.0], [3.0]])}
    path = write_columns(tmp_path / "out.root", columns, tree="jets")
    with uproot.open(path) as handle:
        arrays = handle["jets"].arrays(["a_x", "a_y"], library="ak")
        assert arrays["a_x"].to_list() == [[1.0], [2.0, 3.0]]
        assert arrays["a_y"].to_list() == [[1.0, 2.0], [3.0]]


def test_length_mismatch_names_the_column(tmp_path, columns):
    columns["short"] = np.zeros(2)
    for suffix in (".h5", ".root"):
        with pytest.raises(ValueError, match="'short'"):
            write_columns(tmp_path / f"out{suffix}", columns)


def test_unknown_suffix_is_named(tmp_path, columns):
    with pytest.raises(ValueError, match=r"\.csv"):
        write_columns(tmp_path / "out.csv", columns)
