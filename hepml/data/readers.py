"""One reader interface over HDF5, ROOT TTrees, CSV and parquet.

``read_columns(path, columns)`` returns ``{name: array}``: flat columns as numpy arrays, variable
length (jagged) ROOT branches as awkward arrays, padded HDF5 particle lists as 2D numpy arrays.
The file type is chosen from the suffix; every failure names the file and the missing key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import uproot

from hepml.data import tabular

log = logging.getLogger(__name__)

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
ROOT_SUFFIXES = (".root",)
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


class DataFileError(ValueError):
    """A data file is missing, empty or lacks what the data config asks for."""


def file_format(path: str | Path) -> str:
    """``hdf5``, ``root``, ``csv`` or ``parquet`` from the file name."""
    name = str(path).lower()
    for fmt, suffixes in (
        ("hdf5", HDF5_SUFFIXES),
        ("root", ROOT_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
        ("csv", CSV_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return fmt
    raise DataFileError(
        f"{path}: unknown file type; hepml reads HDF5 {HDF5_SUFFIXES}, ROOT {ROOT_SUFFIXES}, "
        f"CSV {CSV_SUFFIXES} and parquet {PARQUET_SUFFIXES}"
    )


def read_columns(
    path: str | Path,
    columns: Sequence[str],
    tree: str | None = None,
    csv_names: Sequence[str] | None = None,
    csv_delimiter: str | None = None,
) -> dict[str, np.ndarray | ak.Array]:
    """Read ``columns`` from one file.

    Parameters
    ----------
    path : file to read (HDF5, ROOT, CSV plain or gzipped, parquet).
    columns : names of datasets (HDF5, ``group/name`` allowed), branches (ROOT) or columns.
    tree : ROOT only: the TTree name; ``None`` picks the file's only TTree.
    csv_names, csv_delimiter : CSV only: column names of a headerless file, and the separator.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    if path.stat().st_size == 0:
        raise DataFileError(f"data file {path} is empty (0 bytes)")
    columns = list(dict.fromkeys(columns))
    fmt = file_format(path)
    if fmt == "hdf5":
        out = _read_hdf5(path, columns)
    elif fmt == "root":
        out = _read_root(path, columns, tree)
    elif fmt == "csv":
        if csv_names is not None and tabular.has_header(path, csv_delimiter):
            log.info("%s starts with a header line: reading columns by their header names", path)
            csv_names = None
        out = tabular.read_csv(path, columns=columns, names=csv_names, delimiter=csv_delimiter)
    else:
        out = tabular.read_parquet(path, columns=columns)
    _check_lengths(path, out)
    return out


def _check_lengths(path: Path, out: dict[str, np.ndarray | ak.Array]) -> None:
    lengths = {name: len(arr) for name, arr in out.items()}
    if len(set(lengths.values())) > 1:
        raise DataFileError(f"{path}: columns have different numbers of entries: {lengths}")
    if lengths and next(iter(lengths.values())) == 0:
        raise DataFileError(f"{path}: no entries (columns {sorted(lengths)} are empty)")


def _read_hdf5(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        available: list[str] = []
        f.visititems(lambda name, obj: available.append(name) if isinstance(obj, h5py.Dataset) else None)
        missing = [c for c in columns if c not in f or not isinstance(f[c], h5py.Dataset)]
        if missing:
            raise DataFileError(
                f"{path}: missing dataset(s) {missing}; the file holds {sorted(available)}"
            )
        for c in columns:
            ds = f[c]
            if ds.dtype.names is not None:
                raise DataFileError(
                    f"{path}: dataset {c!r} is a compound table; store one dataset per variable"
                )
            out[c] = ds[()]
    return out


def _pick_tree(path: Path, f: uproot.ReadOnlyDirectory, tree: str | None) -> uproot.TTree:
    trees = [k.split(";")[0] for k, cls in f.classnames().items() if cls.startswith("TTree")]
    if tree is None:
        if len(set(trees)) != 1:
            raise DataFileError(
                f"{path}: holds TTrees {sorted(set(trees))}; name one with data.tree=NAME"
            )
        tree = trees[0]
    if tree not in trees:
        raise DataFileError(f"{path}: no TTree {tree!r}; the file holds {sorted(set(trees))}")
    return f[tree]


def _read_root(path: Path, columns: list[str], tree: str | None) -> dict[str, np.ndarray | ak.Array]:
    with uproot.open(path) as f:
        t = _pick_tree(path, f, tree)
        missing = [c for c in columns if c not in t.keys()]
        if missing:
            raise DataFileError(
                f"{path}: TTree {t.name!r} has no branch(es) {missing}; branches: {sorted(t.keys())}"
            )
        arrays = t.arrays(columns, library="ak")
    out: dict[str, np.ndarray | ak.Array] = {}
    for c in columns:
        arr = arrays[c]
        out[c] = ak.to_numpy(arr) if arr.ndim == 1 else arr
    return out


def to_padded(
    values: np.ndarray | ak.Array, max_length: int, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A particle-list variable as ``[n, max_length]`` float32 array plus its boolean mask.

    Jagged awkward arrays are padded with 0; padded 2D arrays use ``counts`` (number of valid
    entries per row) when given, otherwise every entry is valid.
    """
    if isinstance(values, ak.Array):
        n = ak.to_numpy(ak.num(values, axis=1))
        padded = ak.fill_none(ak.pad_none(values, max_length, axis=1, clip=True), 0.0)
        arr = ak.to_numpy(padded).astype(np.float32)
    else:
        values = np.asarray(values)
        if values.ndim != 2:
            raise DataFileError(f"expected a 2D (events x particles) array, got shape {values.shape}")
        arr = np.zeros((len(values), max_length), dtype=np.float32)
        k = min(max_length, values.shape[1])
        arr[:, :k] = values[:, :k]
        n = np.full(len(values), values.shape[1]) if counts is None else np.asarray(counts)
    mask = np.arange(max_length)[None, :] < np.minimum(n, max_length)[:, None]
    arr[~mask] = 0.0
    return arr, mask
