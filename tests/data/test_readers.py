"""hepml.data.readers (kept for the modules being rewritten): to_padded and the re-exports."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hepml.data import io
from hepml.data.readers import DataFileError, file_format, read_columns, to_padded


def test_reexports_are_the_io_facade():
    assert read_columns is io.read_columns and DataFileError is io.DataFileError
    assert file_format("a/b.ROOT") == "root" and file_format("x.csv.gz") == "csv"
    with pytest.raises(DataFileError, match="unknown file type"):
        file_format("x.npy")


@pytest.mark.parametrize("suffix", [".h5", ".root"])
def test_padded_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 6, 50)
    cols = {"n_c": counts, "c_pt": ak.unflatten(rng.exponential(5, counts.sum()), counts)}
    path = io.write_columns(tmp_path / f"f{suffix}", cols)
    out = read_columns(path, ["n_c", "c_pt"])
    padded, mask = to_padded(out["c_pt"], 4, out["n_c"] if suffix == ".h5" else None)
    ref, ref_mask = to_padded(cols["c_pt"], 4)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(padded, ref, rtol=1e-6)


def test_jagged_padding_truncates_and_masks():
    x = ak.Array([[3.0, 2.0, 1.0], [], [5.0]])
    arr, mask = to_padded(x, 2)
    np.testing.assert_array_equal(arr, [[3, 2], [0, 0], [5, 0]])
    np.testing.assert_array_equal(mask, [[True, True], [False, False], [True, False]])
    with pytest.raises(DataFileError, match=r"2D \(events x particles\)"):
        to_padded(np.zeros(3), 2)
