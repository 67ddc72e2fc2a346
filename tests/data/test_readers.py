"""Reader interface: round trips through files hepml writes, and errors that name file and key."""

from __future__ import annotations

import awkward as ak
import h5py
import numpy as np
import pytest

from hepml.data.readers import DataFileError, file_format, read_columns, to_padded
from hepml.data.tabular import write_csv
from hepml.data.writers import write_columns


def _columns(n=50, seed=1):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, n)
    return {
        "pt": rng.exponential(30, n),
        "label": rng.integers(0, 2, n),
        "n_c": counts,
        "c_pt": ak.unflatten(rng.exponential(5, counts.sum()), counts),
    }


@pytest.mark.parametrize("suffix", [".h5", ".root"])
def test_round_trip(tmp_path, suffix):
    cols = _columns()
    path = write_columns(tmp_path / f"f{suffix}", cols)
    out = read_columns(path, ["pt", "label", "n_c", "c_pt"])
    np.testing.assert_allclose(out["pt"], cols["pt"])
    np.testing.assert_array_equal(out["label"], cols["label"])
    padded, mask = to_padded(out["c_pt"], 4, out["n_c"] if suffix == ".h5" else None)
    ref, ref_mask = to_padded(cols["c_pt"], 4)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(padded, ref, rtol=1e-6)


def test_jagged_padding_truncates_and_masks():
    x = ak.Array([[3.0, 2.0, 1.0], [], [5.0]])
    arr, mask = to_padded(x, 2)
    np.testing.assert_array_equal(arr, [[3, 2], [0, 0], [5, 0]])
    np.testing.assert_array_equal(mask, [[True, True], [False, False], [True, False]])


def test_missing_dataset_names_file_and_key(tmp_path):
    path = write_columns(tmp_path / "f.h5", {"pt": np.ones(3)})
    with pytest.raises(DataFileError, match=r"f\.h5.*missing dataset.*'eta'.*pt"):
        read_columns(path, ["pt", "eta"])


def test_missing_branch_names_file_tree_and_branch(tmp_path):
    path = write_columns(tmp_path / "f.root", {"pt": np.ones(3)}, tree="events")
    with pytest.raises(DataFileError, match=r"f\.root.*'events'.*'eta'"):
        read_columns(path, ["eta"])
    with pytest.raises(DataFileError, match="no TTree 'other'"):
        read_columns(path, ["pt"], tree="other")


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(DataFileError, match="empty"):
        read_columns(tmp_path / "empty.h5", ["x"])
    with pytest.raises(FileNotFoundError, match="nothere.h5"):
        read_columns(tmp_path / "nothere.h5", ["x"])
    with h5py.File(tmp_path / "zero.h5", "w") as f:
        f["x"] = np.zeros(0)
    with pytest.raises(DataFileError, match="no entries"):
        read_columns(tmp_path / "zero.h5", ["x"])


def test_length_mismatch_is_reported(tmp_path):
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["a"] = np.zeros(3)
        f["b"] = np.zeros(4)
    with pytest.raises(DataFileError, match=r"bad\.h5.*different numbers of entries"):
        read_columns(tmp_path / "bad.h5", ["a", "b"])


def test_unknown_suffix():
    with pytest.raises(DataFileError, match="unknown file type"):
        file_format("x.npy")


def test_csv_names_ignored_when_file_has_header(tmp_path):
    cols = {"a": np.arange(4.0), "label": np.array([0, 1, 0, 1])}
    write_csv(tmp_path / "h.csv", cols, header=True)
    out = read_columns(tmp_path / "h.csv", ["label", "a"], csv_names=["label", "a"])
    np.testing.assert_array_equal(out["a"], cols["a"])
    write_csv(tmp_path / "n.csv.gz", cols, header=False)
    out = read_columns(tmp_path / "n.csv.gz", ["label"], csv_names=["a", "label"])
    np.testing.assert_array_equal(out["label"], cols["label"])
