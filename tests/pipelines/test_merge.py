"""``hepml merge`` through hepml.data.io: short columns refused, HDF5/ROOT shards to every output."""

from __future__ import annotations

import awkward as ak
import h5py
import numpy as np
import pytest

from hepml.data import io
from hepml.pipelines.merge import merge


def _shard(path, seed, n=30):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, n)
    columns = {"x": rng.normal(size=n), "n_hits": counts.astype(np.int32),
               "hits_e": ak.unflatten(rng.random(counts.sum()).astype(np.float32), counts)}
    return io.write_columns(path, columns, {"seed": seed, "sample": "fake"}), columns


def test_short_column_is_a_named_error_never_zero_filled(tmp_path):
    good, _ = _shard(tmp_path / "a.h5", 1)
    short = tmp_path / "short.h5"
    with h5py.File(good) as src, h5py.File(short, "w") as dst:
        for name in src:
            data = src[name][()]
            dst[name] = data[:-3] if name == "x" else data
        dst.attrs["seed"] = 2
    with pytest.raises(io.DataFileError, match=r"short\.h5: columns have different numbers of "
                                               r"entries: \{.*'x': 27"):
        merge(tmp_path / "m.h5", [good, short])
    assert not (tmp_path / "m.h5").exists()


@pytest.mark.parametrize("output", ["m.h5", "m.root", "m.parquet"])
def test_mixed_shards_into_each_output(tmp_path, output):
    (a, ca), (b, cb) = _shard(tmp_path / "a.h5", 1), _shard(tmp_path / "b.root", 2, n=20)
    out = merge(tmp_path / output, [a, b])
    merged = io.read_columns(out, ["x", "n_hits", "hits_e"])
    np.testing.assert_array_equal(merged["x"], np.concatenate([ca["x"], cb["x"]]))
    expected = ca["hits_e"].to_list() + cb["hits_e"].to_list()
    hits = merged["hits_e"]
    if isinstance(hits, np.ndarray):  # HDF5 keeps padded lists
        hits = [row[:k].tolist() for row, k in zip(hits, merged["n_hits"], strict=True)]
        assert {c.name: c.jagged for c in io.list_columns(out)}["hits_e"]
    else:
        hits = hits.to_list()
    assert hits == expected
    attrs = io.read_attrs(out)
    assert attrs["seed"] == [1, 2] and attrs["sample"] == "fake"
    assert [m["rows"] for m in attrs["merged_from"]] == [30, 20]


def test_refuses_other_formats(tmp_path):
    a, _ = _shard(tmp_path / "a.h5", 1)
    with pytest.raises(ValueError, match=r"m\.npy: use a suffix among"):
        merge(tmp_path / "m.npy", [a])
    csv = io.write_columns(tmp_path / "c.csv", {"x": np.zeros(2)})
    with pytest.raises(io.DataFileError, match=r"c\.csv: a csv file; shards are HDF5 or ROOT"):
        merge(tmp_path / "m.h5", [a, csv])
