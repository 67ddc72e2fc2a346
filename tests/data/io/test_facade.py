"""hepml.data.io facade: round trips in each format, range reads, globs, format detection."""

from __future__ import annotations

import os

import awkward as ak
import numpy as np
import pytest

from hepml.data import io
from hepml.data.io import DataFileError, MissingColumnError

JAGGED_FORMATS = [".h5", ".root", ".parquet"]


def _columns(n=60, seed=1):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, n)
    return {
        "pt": rng.exponential(30, n),
        "label": rng.integers(0, 2, n),
        "n_c": counts,
        "c_pt": ak.unflatten(rng.exponential(5, counts.sum()).astype(np.float32), counts),
        "c_eta": ak.unflatten(rng.normal(0, 1, counts.sum()).astype(np.float32), counts),
    }


def _as_lists(values, counts):
    """Padded 2D rows cut to their counts, or awkward lists, as Python lists."""
    if isinstance(values, ak.Array):
        return values.to_list()
    return [row[:k].tolist() for row, k in zip(values, counts, strict=True)]


@pytest.mark.parametrize("suffix", [*JAGGED_FORMATS, ".csv", ".tsv.gz"])
def test_round_trip_in_each_format(tmp_path, suffix):
    cols = _columns()
    if suffix in (".csv", ".tsv.gz"):
        cols = {k: v for k, v in cols.items() if not isinstance(v, ak.Array)}
    path = io.write_columns(tmp_path / f"f{suffix}", cols)
    assert io.num_entries(path) == 60
    out = io.read_columns(path, list(cols))
    np.testing.assert_allclose(out["pt"], cols["pt"])
    np.testing.assert_array_equal(out["label"], cols["label"])
    if "c_pt" in cols:
        assert _as_lists(out["c_pt"], cols["n_c"]) == cols["c_pt"].to_list()
    infos = {c.name: c for c in io.list_columns(path)}
    assert infos["pt"].dtype == "float64" and infos["pt"].shape == ()
    if "c_pt" in cols:
        assert infos["c_pt"].jagged and infos["c_pt"].dtype == "float32"


@pytest.mark.parametrize("suffix", [*JAGGED_FORMATS, ".csv"])
def test_range_reads_equal_slices_of_whole_reads(tmp_path, suffix):
    cols = _columns(n=250)
    if suffix == ".csv":
        cols = {k: v for k, v in cols.items() if not isinstance(v, ak.Array)}
    path = tmp_path / f"r{suffix}"
    with io.open_writer(path) as writer:  # several batches: HDF5 chunks, baskets, row groups
        for lo in range(0, 250, 100):
            writer.append({k: v[lo:lo + 100] for k, v in cols.items()})
    whole = io.read_columns(path, list(cols))
    for start, stop in [(0, 1), (37, 163), (199, 250), (240, None), (None, 3), (-5, None), (300, 400)]:
        part = io.read_columns(path, list(cols), start=start, stop=stop)
        for name, values in whole.items():
            if isinstance(values, ak.Array):
                assert part[name].to_list() == values[start:stop].to_list()
            else:
                np.testing.assert_array_equal(part[name], values[start:stop])


@pytest.mark.parametrize("suffix", [*JAGGED_FORMATS, ".csv.gz"])
def test_append_columns(tmp_path, suffix):
    cols = _columns(n=30)
    if suffix == ".csv.gz":
        cols = {k: v for k, v in cols.items() if not isinstance(v, ak.Array)}
    path = tmp_path / f"a{suffix}"
    io.append_columns(path, cols)  # creates the file
    io.append_columns(path, _columns(n=20, seed=2) if suffix != ".csv.gz" else
                      {k: v[:20] for k, v in cols.items()})
    assert io.num_entries(path) == 50
    out = io.read_columns(path, ["pt"])
    np.testing.assert_allclose(out["pt"][:30], cols["pt"])


def test_missing_column_names_nearest_first_and_caps_the_listing(tmp_path):
    cols = {f"HLT_path{i}": np.zeros(3, bool) for i in range(2600)}
    cols["Jet_pt"] = np.ones(3)
    path = io.write_columns(tmp_path / "wide.parquet", cols)
    with pytest.raises(MissingColumnError) as info:
        io.read_columns(path, ["Jet_ptt", "jet_PT"])
    message = str(info.value)
    assert message.startswith(f"{path}: missing column(s) ['Jet_ptt', 'jet_PT']; nearest: "
                              "'Jet_ptt' -> 'Jet_pt'; 'jet_PT' -> 'Jet_pt'")
    assert "... and 2,561 more (2,601 columns)" in message and len(message) < 1500


def test_csv_names_ignored_when_file_has_header(tmp_path):
    cols = {"a": np.arange(4.0), "label": np.array([0, 1, 0, 1])}
    io.write_columns(tmp_path / "h.csv", cols)
    out = io.read_columns(tmp_path / "h.csv", ["label", "a"], csv_names=["label", "a"])
    np.testing.assert_array_equal(out["a"], cols["a"])
    io.csv.write_csv(tmp_path / "n.csv.gz", cols, header=False)
    out = io.read_columns(tmp_path / "n.csv.gz", ["label"], csv_names=["a", "label"],
                          csv_delimiter="\t")  # a tab hint on a comma file
    np.testing.assert_array_equal(out["label"], cols["label"])
    assert io.num_entries(tmp_path / "n.csv.gz", csv_names=["a", "label"]) == 4


def test_empty_columns_and_length_mismatch(tmp_path):
    path = io.write_columns(tmp_path / "zero.h5", {"x": np.zeros(0)})
    with pytest.raises(DataFileError, match="no entries"):
        io.read_columns(path, ["x"])
    assert io.read_columns(path, ["x"], start=0, stop=10)["x"].shape == (0,)
    with pytest.raises(DataFileError, match=r"out\.h5: column 'b' has 4 rows but column 'a' has 3"):
        io.write_columns(tmp_path / "out.h5", {"a": np.zeros(3), "b": np.zeros(4)})


def test_detect_format_by_suffix_override_and_content(tmp_path):
    path = io.write_columns(tmp_path / "x.h5", {"a": np.arange(3.0)})
    assert io.detect_format(path) == "hdf5"
    odd = tmp_path / "x.dat"
    os.rename(path, odd)
    with pytest.raises(DataFileError, match=r"x\.dat: unknown file type.*format='hdf5'"):
        io.detect_format(odd)
    assert io.detect_format(odd, format="h5") == "hdf5"
    np.testing.assert_array_equal(io.read_columns(odd, ["a"], format="hdf5")["a"], [0, 1, 2])
    with pytest.raises(DataFileError, match=r"x\.dat: not a ROOT file \(format='root'; the "
                                            r"content is an HDF5 file\)"):
        io.read_columns(odd, ["a"], format="root")
    with pytest.raises(DataFileError, match="unknown format 'npy'"):
        io.detect_format(odd, format="npy")
    with pytest.raises(FileNotFoundError, match="nothere.h5"):
        io.read_columns(tmp_path / "nothere.h5", ["a"])
    with pytest.raises(DataFileError, match=r"unknown output format '\.npy'"):
        io.write_columns(tmp_path / "out.npy", {"a": np.zeros(2)})


def test_expand_files_globs_sorted_deduplicated(tmp_path, monkeypatch):
    for name in ("b_2.h5", "b_1.h5", "a.h5", "c.root"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.h5").write_bytes(b"x")
    files = io.expand_files([str(tmp_path / "b_*.h5"), str(tmp_path / "a.h5"),
                             str(tmp_path / "[ab]*.h5"), str(tmp_path / "**" / "d.h5")])
    names = [os.path.relpath(f, tmp_path) for f in files]
    assert names == ["b_1.h5", "b_2.h5", "a.h5", os.path.join("sub", "d.h5")]
    assert io.expand_files(str(tmp_path / "c.ro?t")) == [str(tmp_path / "c.root")]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert io.expand_files(["~/a.h5"]) == [str(tmp_path / "a.h5")]
    with pytest.raises(FileNotFoundError, match=r"no file matches '.*nothing_\*\.h5'"):
        io.expand_files([str(tmp_path / "a.h5"), str(tmp_path / "nothing_*.h5")])
    with pytest.raises(FileNotFoundError, match="missing.h5 does not exist"):
        io.expand_files([str(tmp_path / "missing.h5")])
    with pytest.raises(FileNotFoundError, match="is a directory"):
        io.expand_files([str(tmp_path / "sub")])
