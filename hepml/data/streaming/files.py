"""The files of a stream and their chunks: entry counts, chunk boundaries, range reads.

A chunk is ``(file, start, stop)``: an HDF5 slice, a ROOT entry range (aligned to the baskets the
branches share) or a run of parquet row groups. CSV files cannot be read by range: one chunk per
file. Reads go through :func:`read_range`, the one place that knows the formats here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import h5py
import numpy as np

from hepml.data.readers import DataFileError, file_format, read_columns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamFile:
    """One file of a stream.

    ``index`` is its position in the stream's file list; ``offset`` the global index of its first
    entry (``index`` columns of batches and predictions are ``offset + entry``); ``split`` a fixed
    split for every event of the file (``data.files`` given as ``{train: [...], ...}``) or None to
    split by hash; ``source`` the data source the file belongs to (passed to the transform).
    """

    path: str
    index: int
    n_entries: int
    offset: int
    split: str | None = None
    source: Any = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """Entries ``[start, stop)`` of ``file``."""

    file: StreamFile
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def __str__(self) -> str:
        return f"{self.file.path}[{self.start}:{self.stop}]"


def _root_tree(path: str, handle, tree: str | None):
    trees = sorted({k.split(";")[0] for k, c in handle.classnames().items() if c.startswith("TTree")})
    if tree is None:
        if len(trees) != 1:
            raise DataFileError(f"{path}: holds TTrees {trees}; name one with data.tree=NAME")
        tree = trees[0]
    if tree not in trees:
        raise DataFileError(f"{path}: no TTree {tree!r}; the file holds {trees}")
    return handle[tree]


def boundaries(path: str, columns: Sequence[str], chunk_size: int, options: dict[str, Any]) -> np.ndarray:
    """Chunk edges ``[0, e1, ..., n_entries]`` of a file for chunks of about ``chunk_size`` entries.

    Raises a :class:`DataFileError` naming the file when it is not a readable file of its format,
    lacks one of ``columns`` or holds columns of different lengths.
    """
    if chunk_size < 1:
        raise ValueError(f"data.chunk_size must be a positive number of events, got {chunk_size}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    fmt = file_format(path)
    if fmt == "hdf5":
        n = _hdf5_entries(path, columns)
        return _even(n, chunk_size)
    if fmt == "root":
        import uproot

        with uproot.open(path) as f:
            t = _root_tree(path, f, options.get("tree"))
            missing = [c for c in columns if c not in t.keys()]
            if missing:
                raise DataFileError(f"{path}: TTree {t.name!r} has no branch(es) {missing}")
            offsets = np.asarray(t.common_entry_offsets(filter_name=list(columns)), dtype=np.int64)
        return _group(offsets, chunk_size)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        return _group(np.concatenate([[0], np.cumsum(rows)]).astype(np.int64), chunk_size)
    n = len(next(iter(read_columns(path, list(columns)[:1], **_reader_options(options)).values())))
    return np.array([0, n], dtype=np.int64)


def _hdf5_entries(path: str, columns: Sequence[str]) -> int:
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise DataFileError(f"{path} is not a readable HDF5 file ({err})") from err
    with f:
        missing = [c for c in columns if not isinstance(f.get(c), h5py.Dataset)]
        if missing:
            raise DataFileError(f"{path}: missing dataset(s) {missing}")
        lengths = {c: f[c].shape[0] if f[c].shape else 0 for c in columns}
    if len(set(lengths.values())) > 1:
        raise DataFileError(f"{path}: datasets have different numbers of entries: {lengths}")
    return next(iter(lengths.values()), 0)


def _even(n: int, chunk_size: int) -> np.ndarray:
    return np.unique(np.append(np.arange(0, n, chunk_size, dtype=np.int64), n))


def _group(offsets: np.ndarray, chunk_size: int) -> np.ndarray:
    """Merge consecutive natural boundaries (baskets, row groups) into chunks of >= chunk_size,
    splitting evenly where one natural block is much larger than ``chunk_size``."""
    edges = [0]
    for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
        if hi - lo > 2 * chunk_size:
            edges += [int(e) for e in _even(int(hi - lo), chunk_size)[1:] + lo]
        elif hi - edges[-1] >= chunk_size:
            edges.append(int(hi))
    if edges[-1] != offsets[-1]:
        edges.append(int(offsets[-1]))
    return np.asarray(edges, dtype=np.int64)


def _reader_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options.get(k) for k in ("tree", "csv_names", "csv_delimiter")}


def read_range(chunk: Chunk, columns: Sequence[str]) -> dict[str, np.ndarray | ak.Array]:
    """The raw ``columns`` of a chunk: flat numpy arrays, 2D padded arrays, awkward jagged lists."""
    path, start, stop = chunk.file.path, chunk.start, chunk.stop
    fmt = file_format(path)
    columns = list(dict.fromkeys(columns))
    if fmt == "hdf5":
        with h5py.File(path, "r") as f:
            return {c: f[c][start:stop] for c in columns}
    if fmt == "root":
        import uproot

        with uproot.open(path) as f:
            t = _root_tree(path, f, chunk.file.options.get("tree"))
            arrays = t.arrays(columns, entry_start=start, entry_stop=stop, library="ak")
        return {c: ak.to_numpy(arrays[c]) if arrays[c].ndim == 1 else arrays[c] for c in columns}
    if fmt == "parquet":
        return _parquet_range(path, columns, start, stop)
    cols = read_columns(path, columns, **_reader_options(chunk.file.options))
    return {k: v[start:stop] for k, v in cols.items()}


def _parquet_range(path: str, columns: list[str], start: int, stop: int) -> dict:
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    meta = f.metadata
    edges = np.concatenate([[0], np.cumsum([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])])
    first = int(np.searchsorted(edges, start, side="right") - 1)
    last = int(np.searchsorted(edges, stop, side="left"))
    table = f.read_row_groups(list(range(first, last)), columns=columns)
    table = table.slice(start - int(edges[first]), stop - start)
    out: dict[str, np.ndarray | ak.Array] = {}
    for c in columns:
        arr = ak.from_arrow(table.column(c))
        out[c] = ak.to_numpy(arr) if arr.ndim == 1 else arr
    return out
