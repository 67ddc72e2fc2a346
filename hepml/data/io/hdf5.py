"""HDF5 files: one dataset per column, ``group/name`` paths allowed.

Reading: flat datasets come back as 1D numpy arrays, 2D/3D datasets (padded particle lists,
images) as numpy ``[n, ...]``, variable-length datasets as awkward ``var * number``. An entry
range is an HDF5 slice of each dataset, so only the chunks it touches are read.

Writing: gzip-compressed, chunked datasets that can grow (``maxshape`` ``None`` along the rows),
so a file written here can be appended to. A jagged awkward column is stored as a 2D ``float32``
array padded with ``0.0`` up to the longest row, with the attributes ``jagged = True`` and
``pad_value = 0.0``; its width grows when a later batch holds a longer row. The per-row count is
not written automatically: write it as an ordinary column (e.g. ``n_const``). ``attrs`` become the
file's root attributes (dicts and lists JSON-encoded).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import awkward as ak
import h5py
import numpy as np

from hepml.data.io.base import (
    AttrValue,
    Column,
    ColumnInfo,
    DataFileError,
    as_numpy,
    decode_attrs,
    encode_attr,
    entry_range,
    is_jagged,
    missing_error,
    reading,
    row_count,
)

log = logging.getLogger(__name__)

_WHAT = "an HDF5 file"
_CHUNK_BYTES = 1 << 18  # 256 KiB per chunk: well inside h5py's 1 MiB chunk cache
_JAGGED_CHUNK_WIDTH = 32


def _datasets(f: h5py.File) -> dict[str, h5py.Dataset]:
    found: dict[str, h5py.Dataset] = {}

    def visit(name: str, obj: object) -> None:  # a value other than None would stop the visit
        if isinstance(obj, h5py.Dataset):
            found[name] = obj

    f.visititems(visit)
    return found


def _open(path: Path, mode: str = "r") -> h5py.File:
    with reading(path, _WHAT):
        return h5py.File(path, mode)


def _vlen_to_awkward(data: np.ndarray, base: np.dtype) -> ak.Array:
    counts = np.fromiter((len(row) for row in data), dtype=np.int64, count=len(data))
    flat = np.concatenate(list(data)).astype(base) if len(data) else np.zeros(0, base)
    return ak.unflatten(flat, counts)


def read(path: Path, columns: Sequence[str], start: int | None = None,
         stop: int | None = None) -> dict[str, Column]:
    """Read datasets ``columns`` (whole, or entries ``[start, stop)``) from an HDF5 file."""
    out: dict[str, Column] = {}
    with _open(path) as f, reading(path, _WHAT):
        names = {c: c.lstrip("/") for c in columns}
        found = {c: f.get(key) for c, key in names.items()}
        missing = [c for c, obj in found.items() if not isinstance(obj, h5py.Dataset)]
        if missing:  # only then list the file's datasets (a visit of the whole file)
            raise missing_error(path, missing, list(_datasets(f)), kind="dataset")
        for c, ds in found.items():
            if ds.dtype.names is not None:
                raise DataFileError(f"{path}: dataset {c!r} is a compound table; store one "
                                    "dataset per variable")
            if ds.ndim == 0:
                raise DataFileError(f"{path}: dataset {c!r} is a single value (shape ()), "
                                    "not a column with one entry per event")
            if start is None and stop is None:
                data = ds[()]
            else:
                begin, end = entry_range(start, stop, ds.shape[0])
                data = ds[begin:end]
            base = h5py.check_vlen_dtype(ds.dtype)
            out[c] = _vlen_to_awkward(data, base) if isinstance(base, np.dtype) else data
    return out


def num_entries(path: Path) -> int:
    """Entries of the file: the most common first-axis length of its datasets (ties: longest)."""
    with _open(path) as f, reading(path, _WHAT):
        lengths = Counter(ds.shape[0] for ds in _datasets(f).values() if ds.ndim > 0)
    if not lengths:
        return 0
    return max(lengths, key=lambda n: (lengths[n], n))


def list_columns(path: Path) -> list[ColumnInfo]:
    """Every dataset with its element type, per-entry shape and whether it is a list."""
    infos = []
    with _open(path) as f, reading(path, _WHAT):
        for name, ds in _datasets(f).items():
            base = h5py.check_vlen_dtype(ds.dtype)
            if base is not None:
                numeric = isinstance(base, np.dtype)
                dtype = base.name if numeric else "string"
                infos.append(ColumnInfo(name, dtype, (None,) if numeric else (), numeric))
                continue
            dtype = ds.dtype.name if ds.dtype.names is None else f"compound{ds.dtype.names}"
            if ds.dtype.kind in "SUO":
                dtype = "string"
            counter = ds.attrs.get("counter")
            infos.append(ColumnInfo(name, dtype, tuple(ds.shape[1:]),
                                    bool(ds.attrs.get("jagged", False)),
                                    None if counter is None else str(counter)))
    return infos


def read_attrs(path: Path) -> dict:
    """The file's root attributes, JSON strings decoded."""
    with _open(path) as f, reading(path, _WHAT):
        return decode_attrs(dict(f.attrs))


def _pad(values: ak.Array) -> np.ndarray:
    width = int(ak.max(ak.num(values), initial=0, mask_identity=False))
    if len(values) == 0 or width == 0:
        return np.zeros((len(values), width), dtype=np.float32)
    padded = ak.fill_none(ak.pad_none(values, width, clip=True), 0.0)
    return ak.to_numpy(ak.values_astype(padded, np.float32))


def _chunks(data: np.ndarray, jagged: bool) -> tuple[int, ...]:
    trailing = [max(1, s) for s in data.shape[1:]]
    if jagged:
        trailing = [_JAGGED_CHUNK_WIDTH]
    row_bytes = data.dtype.itemsize * math.prod(trailing)
    rows = int(min(65536, max(1, _CHUNK_BYTES // max(row_bytes, 1))))
    return (rows, *trailing)


class Writer:
    """Write or append batches of columns to an HDF5 file.

    Parameters
    ----------
    path
        Output file.
    attrs
        Root attributes to set (dicts and lists JSON-encoded).
    jagged
        Names of 2D numpy columns that are padded lists (their width may grow between batches
        and they get ``jagged = True``); awkward jagged columns are recognised by themselves.
    mode
        ``"w"`` to create (replacing any file), ``"a"`` to append to a file written here.
    compression
        Filter of new datasets: ``gzip`` (smallest), ``lzf`` (several times faster to read) or
        None (uncompressed, fastest to read).
    """

    def __init__(self, path: Path, attrs: Mapping[str, AttrValue] | None = None,
                 jagged: Collection[str] = (), mode: str = "w", tree: str | None = None,
                 compression: str | None = "gzip") -> None:
        if compression not in ("gzip", "lzf", None):
            raise ValueError(f"HDF5 compression must be gzip, lzf or None, got {compression!r}")
        self.path, self._jagged, self.compression = Path(path), set(jagged), compression
        self._file = _open(self.path, mode)
        existing = _datasets(self._file)
        lengths = {name: ds.shape[0] for name, ds in existing.items() if ds.ndim > 0}
        if len(set(lengths.values())) > 1:
            self._file.close()
            raise DataFileError(f"{path}: cannot append, its datasets differ in length {lengths}")
        self.rows = next(iter(lengths.values()), 0)
        self._jagged |= {n for n, ds in existing.items() if ds.attrs.get("jagged", False)}
        for key, value in (attrs or {}).items():
            self._file.attrs[key] = encode_attr(value)

    def _prepare(self, name: str, values: Column) -> tuple[np.ndarray, bool]:
        if is_jagged(name, values, self.path):
            return _pad(values), True
        data = as_numpy(name, values, ndim=None, path=self.path)
        if data.ndim == 0 or data.dtype.kind not in "biufSU":
            raise DataFileError(f"{self.path}: column {name!r} has shape {data.shape} and dtype "
                                f"{data.dtype}; pass numeric arrays with one entry per row")
        return data, name in self._jagged and data.ndim == 2

    def _create(self, name: str, data: np.ndarray, jagged: bool) -> h5py.Dataset:
        maxshape = (None, None) if jagged else (None, *data.shape[1:])
        ds = self._file.create_dataset(name, (0, *data.shape[1:]), data.dtype, maxshape=maxshape,
                                       chunks=_chunks(data, jagged), compression=self.compression)
        if jagged:
            ds.attrs["jagged"], ds.attrs["pad_value"] = True, 0.0
            self._jagged.add(name)
        return ds

    def _check(self, ds: h5py.Dataset, name: str, data: np.ndarray, jagged: bool) -> None:
        if ds.maxshape[0] is not None:
            raise DataFileError(f"{self.path}: dataset {name!r} has a fixed size, so rows "
                                "cannot be appended; write a new file with hepml's writer")
        if not np.can_cast(data.dtype, ds.dtype, "same_kind"):
            raise DataFileError(f"{self.path}: column {name!r} is {data.dtype} but the file "
                                f"stores {ds.dtype}; convert it before appending")
        if jagged or ds.attrs.get("jagged", False):
            if data.ndim != 2 or ds.ndim != 2:
                raise DataFileError(f"{self.path}: column {name!r} is a padded list; append "
                                    f"[rows, length] arrays or awkward lists, not {data.shape}")
        elif ds.shape[1:] != data.shape[1:]:
            raise DataFileError(f"{self.path}: column {name!r} has per-row shape "
                                f"{data.shape[1:]} but the file stores {ds.shape[1:]}")

    def append(self, columns: Mapping[str, Column]) -> None:
        """Add the rows of ``columns`` (the same names as the datasets already written)."""
        n = row_count(self.path, columns)
        existing = _datasets(self._file)
        if existing and set(existing) != set(columns):
            raise DataFileError(
                f"{self.path}: cannot append columns {sorted(columns)} to a file holding "
                f"{sorted(existing)} (only in one of them: {sorted(set(existing) ^ set(columns))})"
            )
        prepared = {name: self._prepare(name, values) for name, values in columns.items()}
        for name, (data, jagged) in prepared.items():  # every check before any dataset grows
            if name in existing:
                self._check(existing[name], name, data, jagged)
        start = self.rows
        for name, (data, jagged) in prepared.items():
            ds = existing.get(name) or self._create(name, data, jagged)
            if jagged or ds.attrs.get("jagged", False):
                ds.resize((start + n, max(ds.shape[1], data.shape[1])))
                if data.size:
                    ds[start:, : data.shape[1]] = data
            else:
                ds.resize((start + n, *ds.shape[1:]))
                if data.size:
                    ds[start:] = data
        self.rows += n

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append(path: Path, columns: Mapping[str, Column], tree: str | None = None) -> None:
    """Append rows to ``path`` (created when missing) in place: its datasets grow."""
    with Writer(path, mode="a" if path.exists() else "w") as writer:
        writer.append(columns)
