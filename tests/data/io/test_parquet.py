"""hepml.data.io.parquet: flat and list columns, row-group range reads, append, attributes."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hepml.data.io import MissingColumnError, parquet
from hepml.data.io.parquet import read_parquet, write_parquet


@pytest.fixture
def columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "label": rng.integers(0, 2, 50),
        "pt": rng.exponential(30.0, 50),
        "eta": rng.normal(0.0, 1.5, 50),
    }


def assert_same(read, expected) -> None:
    assert list(read) == list(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(read[name], values)


def test_parquet_round_trip_and_missing_column(tmp_path, columns):
    path = tmp_path / "t.parquet"
    write_parquet(path, columns)
    assert_same(read_parquet(path), columns)
    assert_same(read_parquet(path, columns=["pt"]), {"pt": columns["pt"]})
    with pytest.raises(MissingColumnError, match=r"\['mass'\].*choose from \['label', 'pt', 'eta'\]"):
        read_parquet(path, columns=["mass"])


def test_list_columns_read_as_jagged_awkward(tmp_path):
    table = pa.table({
        "n": pa.array([2, 0, 1], pa.int32()),
        "c_pt": pa.array([[3.0, 2.0], [], [5.0]], pa.list_(pa.float32())),
        "c_q": pa.array([[1, -1], None, [0]], pa.large_list(pa.int64())),
        "xyz": pa.array([[1.0, 2.0, 3.0]] * 3, pa.list_(pa.float64(), 3)),
    })
    path = tmp_path / "lists.parquet"
    pq.write_table(table, path)
    out = parquet.read(path, ["c_pt", "c_q", "xyz"])
    assert str(out["c_pt"].type) == "3 * var * float32"
    assert out["c_pt"].to_list() == [[3.0, 2.0], [], [5.0]]
    assert out["c_q"].to_list() == [[1, -1], [], [0]]  # a null list reads as an empty one
    assert isinstance(out["xyz"], np.ndarray) and out["xyz"].shape == (3, 3)
    infos = {c.name: c for c in parquet.list_columns(path)}
    assert infos["c_pt"].jagged and infos["c_pt"].shape == (None,) and infos["c_pt"].dtype == "float32"
    assert infos["xyz"].shape == (3,) and not infos["xyz"].jagged
    assert infos["n"].dtype == "int32" and infos["n"].shape == ()


def test_range_reads_touch_row_groups_and_equal_slices(tmp_path):
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, 1000)
    cols = {"x": rng.normal(size=1000),
            "c": ak.unflatten(rng.normal(size=counts.sum()), counts)}
    path = tmp_path / "groups.parquet"
    with parquet.Writer(path) as writer:
        for lo in range(0, 1000, 300):  # row groups of 300, 300, 300, 100
            writer.append({k: v[lo:lo + 300] for k, v in cols.items()})
    assert pq.ParquetFile(path).num_row_groups == 4
    assert parquet.num_entries(path) == 1000
    whole = parquet.read(path, ["x", "c"])
    for start, stop in [(0, 10), (250, 650), (899, 1000), (990, None), (None, 5), (-7, None)]:
        part = parquet.read(path, ["x", "c"], start=start, stop=stop)
        np.testing.assert_array_equal(part["x"], whole["x"][start:stop])
        assert part["c"].to_list() == whole["c"][start:stop].to_list()


def test_append_adds_row_groups_and_keeps_attributes(tmp_path, columns):
    path = tmp_path / "a.parquet"
    with parquet.Writer(path, attrs={"seed": 4, "cfg": {"a": 1}}) as writer:
        writer.append(columns)
    parquet.append(path, columns)
    assert parquet.num_entries(path) == 100
    assert parquet.read_attrs(path) == {"seed": 4, "cfg": {"a": 1}}
    np.testing.assert_array_equal(parquet.read(path, ["pt"])["pt"],
                                  np.concatenate([columns["pt"]] * 2))
    with pytest.raises(ValueError, match="cannot append columns"):
        parquet.append(path, {"pt": columns["pt"]})
    assert parquet.num_entries(path) == 100  # a failed append leaves the file as it was
