"""Unreadable files: a garbage, a truncated and an empty file in each format, corrupt gzip and
flipped bytes, all give a DataFileError naming the file and what was expected (no library
traceback)."""

from __future__ import annotations

import gzip

import awkward as ak
import numpy as np
import pytest

from hepml.data import io
from hepml.data.io import DataFileError

SUFFIXES = {"hdf5": ".h5", "root": ".root", "csv": ".csv", "parquet": ".parquet"}
NAMES = {"hdf5": "HDF5", "root": "ROOT", "csv": "CSV", "parquet": "parquet"}


def _good(tmp_path, fmt, n=5000):
    rng = np.random.default_rng(0)
    cols = {"pt": rng.exponential(30, n), "label": rng.integers(0, 2, n)}
    if fmt != "csv":
        counts = rng.integers(0, 4, n)
        cols["c"] = ak.unflatten(rng.normal(size=counts.sum()), counts)
    return io.write_columns(tmp_path / f"good{SUFFIXES[fmt]}", cols)


def _each_call(path):
    """Every facade reader on ``path``."""
    return [lambda: io.read_columns(path, ["pt"]), lambda: io.num_entries(path),
            lambda: io.list_columns(path), lambda: io.read_attrs(path)]


@pytest.mark.parametrize("fmt", list(SUFFIXES))
def test_garbage_file(tmp_path, fmt):
    path = tmp_path / f"x{SUFFIXES[fmt]}"
    path.write_bytes(b"hello \x00\x01\x02 this is not data")
    for call in _each_call(path):
        with pytest.raises(DataFileError) as info:
            call()
        assert str(info.value) == (f"{path}: not {'an' if fmt == 'hdf5' else 'a'} {NAMES[fmt]} "
                                   f"file (the suffix '{SUFFIXES[fmt]}'; the content starts with "
                                   "b'hello \\x00\\x01\\x02 this i'), or truncated")


@pytest.mark.parametrize("fmt", list(SUFFIXES))
def test_empty_file(tmp_path, fmt):
    path = tmp_path / f"x{SUFFIXES[fmt]}"
    path.write_bytes(b"")
    for call in _each_call(path):
        with pytest.raises(DataFileError, match=rf"x\{SUFFIXES[fmt]}: empty file \(0 bytes\); "
                                                rf"expected an? {NAMES[fmt]} file"):
            call()


@pytest.mark.parametrize("fmt", list(SUFFIXES))
@pytest.mark.parametrize("keep", [0.02, 0.5, 0.999])
def test_truncated_file(tmp_path, fmt, keep):
    data = _good(tmp_path, fmt).read_bytes()
    cut = max(int(len(data) * keep), 20)
    if fmt == "csv":  # plain text cut within a line's first field (a cut after the last
        cut = data.index(b"\n", cut) + 3  # comma reads an empty cell as NaN, with a warning)
    path = tmp_path / f"cut{SUFFIXES[fmt]}"
    path.write_bytes(data[:cut])
    with pytest.raises(DataFileError) as info:
        io.read_columns(path, ["pt", "label"])
    message = str(info.value)
    assert message.startswith(f"{path}")
    expected = {"hdf5": "truncated", "root": "truncated", "parquet": "truncated",
                "csv": "fields but the header has"}[fmt]
    assert expected in message


def test_csv_without_final_line_break_warns(tmp_path, caplog):
    path = tmp_path / "cut.csv"
    path.write_text("a,b\n1,2\n3,4")
    with caplog.at_level("WARNING"):
        out = io.read_columns(path, ["b"])
    np.testing.assert_array_equal(out["b"], [2, 4])
    assert f"{path} does not end with a line break" in caplog.text


@pytest.mark.parametrize("fmt", ["hdf5", "root"])
def test_flipped_bytes_in_compressed_data(tmp_path, fmt):
    data = bytearray(_good(tmp_path, fmt).read_bytes())
    for i in range(len(data) // 4, len(data) // 2, 97):
        data[i] ^= 0x5A
    path = tmp_path / f"flip{SUFFIXES[fmt]}"
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=rf"flip\{SUFFIXES[fmt]}: cannot read it as an? "
                                            rf"{NAMES[fmt]} file .* truncated or corrupt"):
        io.read_columns(path, ["pt", "label", "c"])


def _gz(tmp_path):
    raw = gzip.compress(b"a,pt\n" + b"".join(b"%d,%d.5\n" % (i % 2, i) for i in range(20000)))
    return bytearray(raw)


def test_truncated_gzip_stream(tmp_path):
    raw = _gz(tmp_path)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(DataFileError, match=r"cut\.csv\.gz: cannot read it as a CSV file "
                                            r"\(OSError: Truncated compressed stream\)"):
        io.read_columns(path, ["pt"])
    with pytest.raises(DataFileError, match=r"cut\.csv\.gz: cannot read it as a CSV file"):
        io.num_entries(path)


@pytest.mark.parametrize("where", ["data", "checksum"])
def test_bit_flip_in_gzip_stream(tmp_path, where):
    raw = _gz(tmp_path)
    raw[30 if where == "data" else len(raw) - 6] ^= 0xFF
    path = tmp_path / "flip.csv.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"flip\.csv\.gz: cannot read it as a CSV file .*"
                                            r"truncated or corrupt"):
        io.read_columns(path, ["pt"])


def test_content_of_another_format(tmp_path):
    root_file = _good(tmp_path, "root")
    path = tmp_path / "really_root.h5"
    path.write_bytes(root_file.read_bytes())
    with pytest.raises(DataFileError, match=r"really_root\.h5: not an HDF5 file \(the suffix "
                                            r"'\.h5'; the content is a ROOT file\)"):
        io.read_columns(path, ["pt"])
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(_good(tmp_path, "parquet").read_bytes())
    with pytest.raises(DataFileError, match=r"x\.csv\.gz: not a CSV file \(the suffix '\.csv\.gz'; "
                                            r"the content is a parquet file\)"):
        io.read_columns(gz, ["pt"])
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(DataFileError, match=r"bin\.csv: not a CSV file .*starts with b'\\x00"):
        io.read_columns(binary, ["pt"])
