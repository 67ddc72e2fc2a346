"""hepml.data.io.csv: CSV (plain, gzipped, tab, whitespace) round trips and errors naming line and column."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hepml.data.io import MissingColumnError, csv
from hepml.data.io.csv import csv_columns, read_csv, write_csv

HIGGS_SAMPLE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "higgs" / "higgs_sample.csv"
)


@pytest.fixture
def columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "label": rng.integers(0, 2, 50),
        "pt": rng.exponential(30.0, 50),
        "eta": rng.normal(0.0, 1.5, 50),
    }


def assert_same(read: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert list(read) == list(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(read[name], values)


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("t.csv", ","), ("t.csv.gz", ","), ("t.tsv", "\t"), ("t.txt", "whitespace")],
)
def test_round_trip_with_header(tmp_path, columns, name, delimiter):
    path = tmp_path / name
    write_csv(path, columns, delimiter=delimiter)
    read = read_csv(path)
    assert_same(read, columns)
    assert read["label"].dtype == np.int64
    assert read["pt"].dtype == np.float64
    assert csv_columns(path) == list(columns)


def test_round_trip_headerless_gzipped_with_names(tmp_path, columns):
    path = tmp_path / "higgs_like.csv.gz"
    write_csv(path, columns, header=False)
    assert_same(read_csv(path, names=list(columns)), columns)
    assert csv_columns(path, names=["a", "b", "c"]) == ["a", "b", "c"]


def test_gzip_detected_by_content_not_suffix(tmp_path, columns):
    path = tmp_path / "compressed.csv"
    with gzip.open(path, "wt") as f:
        f.write("label,pt\n1,2.5\n0,3.5\n")
    read = read_csv(path)
    np.testing.assert_array_equal(read["pt"], [2.5, 3.5])


def test_ragged_whitespace_is_sniffed(tmp_path):
    path = tmp_path / "table.txt"
    path.write_text("  x    y\n 1   2.5\n3\t4  \n")
    read = read_csv(path)
    np.testing.assert_array_equal(read["x"], [1, 3])
    np.testing.assert_array_equal(read["y"], [2.5, 4.0])


def test_spaces_after_commas(tmp_path):
    path = tmp_path / "spaced.csv"
    path.write_text("a, b\n1, 2.5\n3, 4\n")
    np.testing.assert_array_equal(read_csv(path, columns=["b"])["b"], [2.5, 4.0])


def test_missing_cells_become_nan(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,\n2,NA\n3,0.5\n")
    read = read_csv(path)
    assert read["a"].dtype == np.int64
    np.testing.assert_array_equal(read["b"], [np.nan, np.nan, 0.5])


def test_column_selection_keeps_requested_order(tmp_path, columns):
    path = tmp_path / "t.csv"
    write_csv(path, columns)
    read = read_csv(path, columns=["eta", "label"])
    assert_same(read, {"eta": columns["eta"], "label": columns["label"]})


def test_missing_column_lists_present_columns(tmp_path, columns):
    path = tmp_path / "t.csv"
    write_csv(path, columns)
    with pytest.raises(MissingColumnError) as info:
        read_csv(path, columns=["pt", "mass"])
    message = str(info.value)
    assert "'mass'" in message and str(path) in message
    assert "['label', 'pt', 'eta']" in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("header", [True, False])
def test_non_numeric_cell_gives_line_and_column(tmp_path, header):
    lines = [f"{i},{i * 0.5}" for i in range(20)]
    lines[12] = "12,oops"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join((["n,x"] if header else []) + lines) + "\n")
    names = None if header else ["n", "x"]
    with pytest.raises(ValueError) as info:
        read_csv(path, names=names)
    line = 14 if header else 13
    assert f"{path}, line {line}, column 'x': 'oops' is not a number" in str(info.value)


def test_non_numeric_cell_deep_in_a_large_gzipped_file(tmp_path):
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n" + "0.25,1\n" * 400_000 + "0.5,x7\n")
    with pytest.raises(ValueError, match=r"line 400002, column 'b': 'x7'"):
        read_csv(path)


def test_wrong_field_count_gives_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match=r"line 3: 1 fields but the header has 2 columns"):
        read_csv(path)


def test_header_read_as_data_hints_names_none(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"line 1, column 'a'.*pass names=None"):
        read_csv(path, names=["a", "b"])


def test_names_and_field_count_mismatch(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"three.csv: line 1 has 3 fields but 2 names were given"):
        read_csv(path, names=["a", "b"])


@pytest.mark.parametrize("text", ["", "a,b,c\n"])
def test_empty_file(tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="empty.csv"):
        read_csv(path)


def test_write_rejects_unequal_lengths(tmp_path):
    with pytest.raises(ValueError, match="differ in length"):
        write_csv(tmp_path / "x.csv", {"a": np.zeros(3), "b": np.zeros(4)})


def test_higgs_sample():
    if not HIGGS_SAMPLE.is_file():
        pytest.skip(f"{HIGGS_SAMPLE} not present")
    names = csv_columns(HIGGS_SAMPLE)
    assert len(names) == 29 and names[-1] == "label"
    data = read_csv(HIGGS_SAMPLE)
    assert all(len(values) == 10_984 for values in data.values())
    assert set(np.unique(data["label"])) <= {0, 1}
    assert data["label"].mean() == pytest.approx(0.530, abs=0.005)
    assert list(read_csv(HIGGS_SAMPLE, columns=["m_bb", "label"])) == ["m_bb", "label"]


def test_delimiter_is_a_hint_worked_out_per_file(tmp_path, columns, caplog):
    path = tmp_path / "comma.csv"
    write_csv(path, columns, delimiter=",")
    with caplog.at_level("WARNING"):
        read = read_csv(path, delimiter="\t")  # a config written for a tab-separated file
    assert_same(read, columns)
    assert "does not occur in line 1" in caplog.text and "comma.csv" in caplog.text
    single = tmp_path / "single.csv"
    single.write_text("x\n1\n2\n")
    np.testing.assert_array_equal(read_csv(single, delimiter="\t")["x"], [1, 2])


@pytest.mark.parametrize("name", ["a.csv", "a.tsv.gz"])
def test_append_entries_and_column_types(tmp_path, columns, name):
    path = tmp_path / name
    csv.Writer(path).close()  # an empty file is created even without batches
    assert path.exists()
    write_csv(path, columns, delimiter="\t" if ".tsv" in name else ",")
    csv.append(path, {k: columns[k] for k in ("eta", "label", "pt")})  # any column order
    assert csv.num_entries(path) == 100
    read = read_csv(path)
    np.testing.assert_array_equal(read["pt"], np.concatenate([columns["pt"]] * 2))
    infos = {c.name: c for c in csv.list_columns(path)}
    assert infos["label"].dtype == "int64" and infos["pt"].dtype == "float64"
    assert infos["pt"].shape == () and not infos["pt"].jagged
    with pytest.raises(ValueError, match=r"cannot append columns \['pt'\]"):
        csv.append(path, {"pt": columns["pt"]})


def test_range_read_equals_slice(tmp_path, columns):
    path = tmp_path / "r.csv"
    write_csv(path, columns)
    part = csv.read(path, ["pt", "label"], start=10, stop=17)
    np.testing.assert_array_equal(part["pt"], columns["pt"][10:17])
    np.testing.assert_array_equal(part["label"], columns["label"][10:17])
