"""hepml.data.io.hdf5: the written layout (padded jagged lists, attributes), growth on append,
variable-length datasets, 2D/3D datasets."""

from __future__ import annotations

import json

import awkward as ak
import h5py
import numpy as np
import pytest

from hepml.data import io
from hepml.data.io import DataFileError, hdf5


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
    path = io.write_columns(tmp_path / "sub" / "out.h5", columns, attrs={"seed": 3, "cfg": {"a": 1}})
    with h5py.File(path) as handle:
        np.testing.assert_array_equal(handle["x"][()], columns["x"])
        np.testing.assert_array_equal(handle["label"][()], columns["label"])
        pt = handle["const_pt"]
        assert pt.dtype == np.float32 and pt.shape == (3, 3)
        assert pt.compression == "gzip" and pt.maxshape == (None, None)
        assert pt.attrs["jagged"] and pt.attrs["pad_value"] == 0.0
        np.testing.assert_array_equal(pt[()], [[3, 2, 1], [0, 0, 0], [5.5, 0, 0]])
        np.testing.assert_array_equal(
            handle["const_charge"][()], [[1, -1, 0], [0, 0, 0], [1, 0, 0]]
        )
        assert handle.attrs["seed"] == 3
        assert json.loads(handle.attrs["cfg"]) == {"a": 1}
    assert io.read_attrs(path) == {"seed": 3, "cfg": {"a": 1}}


def test_append_grows_rows_and_the_padded_width(tmp_path, columns):
    path = io.write_columns(tmp_path / "g.h5", columns)
    longer = {**{k: v[:1] for k, v in columns.items()},
              "const_pt": ak.Array([[9.0, 8.0, 7.0, 6.0, 5.0]]),
              "const_charge": ak.Array([[1, 1, 1, 1, 1]])}
    io.append_columns(path, longer)
    out = io.read_columns(path, ["x", "const_pt"])
    assert out["const_pt"].shape == (4, 5)
    np.testing.assert_array_equal(out["const_pt"][0], [3, 2, 1, 0, 0])  # old rows padded with 0
    np.testing.assert_array_equal(out["const_pt"][3], [9, 8, 7, 6, 5])
    np.testing.assert_array_equal(out["x"], [1.5, 2.5, 3.5, 1.5])
    with pytest.raises(DataFileError, match=r"cannot append columns \['x'\]"):
        io.append_columns(path, {"x": np.zeros(2)})


def test_padded_numpy_columns_named_jagged(tmp_path):
    path = tmp_path / "p.h5"
    with io.open_writer(path, jagged=["c"]) as writer:
        writer.append({"c": np.ones((2, 2), np.float32)})
        writer.append({"c": np.full((1, 3), 2.0, np.float32)})
    info = io.list_columns(path)[0]
    assert info.jagged and info.shape == (3,)
    np.testing.assert_array_equal(io.read_columns(path, ["c"])["c"], [[1, 1, 0], [1, 1, 0], [2, 2, 2]])


def test_images_keep_their_shape_and_must_match_on_append(tmp_path):
    images = np.random.default_rng(0).random((5, 2, 8, 8)).astype(np.float32)
    path = io.write_columns(tmp_path / "img.h5", {"image": images, "y": np.arange(5)})
    info = {c.name: c for c in io.list_columns(path)}["image"]
    assert info.shape == (2, 8, 8) and not info.jagged and info.dtype == "float32"
    np.testing.assert_array_equal(io.read_columns(path, ["image"], start=1, stop=3)["image"],
                                  images[1:3])
    with pytest.raises(DataFileError, match=r"per-row shape \(2, 4, 4\).*\(2, 8, 8\)"):
        io.append_columns(path, {"image": np.zeros((1, 2, 4, 4), np.float32), "y": np.zeros(1)})


def test_files_from_elsewhere_vlen_groups_and_fixed_size(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        vlen = f.create_dataset("jets/pt", (3,), dtype=h5py.vlen_dtype(np.float32))
        vlen[0], vlen[1], vlen[2] = [1.0, 2.0], [], [3.0]
        f["jets/n"] = np.array([2, 0, 1])
        f["table"] = np.zeros(3, dtype=[("a", "f4"), ("b", "f4")])
        f["scalar"] = 1.0
    out = io.read_columns(path, ["jets/pt", "/jets/n"])
    assert out["jets/pt"].to_list() == [[1.0, 2.0], [], [3.0]]
    np.testing.assert_array_equal(out["/jets/n"], [2, 0, 1])
    infos = {c.name: c for c in hdf5.list_columns(path)}
    assert infos["jets/pt"].jagged and infos["jets/pt"].shape == (None,)
    assert hdf5.num_entries(path) == 3
    with pytest.raises(DataFileError, match="compound table"):
        io.read_columns(path, ["table"])
    with pytest.raises(DataFileError, match="single value"):
        io.read_columns(path, ["scalar"])
    with pytest.raises(DataFileError, match="fixed size"):
        io.append_columns(path, {"jets/n": np.zeros(1), "jets/pt": ak.Array([[1.0]]),
                                 "table": np.zeros(1), "scalar": np.zeros(1)})


def test_missing_dataset_names_file_and_key(tmp_path):
    path = io.write_columns(tmp_path / "f.h5", {"pt": np.ones(3)})
    with pytest.raises(DataFileError, match=r"f\.h5.*missing dataset.*'eta'.*pt"):
        io.read_columns(path, ["pt", "eta"])


def test_length_mismatch_is_reported(tmp_path):
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["a"] = np.zeros(3)
        f["b"] = np.zeros(4)
    with pytest.raises(DataFileError, match=r"bad\.h5.*different numbers of entries"):
        io.read_columns(tmp_path / "bad.h5", ["a", "b"])
