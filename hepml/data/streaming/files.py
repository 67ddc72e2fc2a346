"""The files of a stream and their chunks: entry counts, chunk boundaries, range reads.

A chunk is ``(file, start, stop)``: an HDF5 slice, a ROOT entry range (aligned to the baskets the
branches share) or a run of parquet row groups; a CSV file is one chunk. Reads go through
:func:`hepml.data.io.read_columns` with ``start``/``stop``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from hepml.data import io

log = logging.getLogger(__name__)

READER_OPTIONS = ("format", "tree", "csv_names", "csv_delimiter")


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


def _reader_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options.get(k) for k in READER_OPTIONS}


def boundaries(path: str, columns: Sequence[str], chunk_size: int, options: dict[str, Any]) -> np.ndarray:
    """Chunk edges ``[0, e1, ..., n_entries]`` of a file for chunks of about ``chunk_size`` entries.

    The columns are checked here (a zero-length read), so a missing column fails before any
    worker starts, with the error of :mod:`hepml.data.io` naming the file and the nearest names.
    """
    if chunk_size < 1:
        raise ValueError(f"data.chunk_size must be a positive number of events, got {chunk_size}")
    opts = _reader_options(options)
    fmt = io.detect_format(path, opts["format"])
    io.read_columns(path, columns, start=0, stop=0, **opts)
    n = io.num_entries(path, **opts)
    if fmt == "root":
        import uproot

        with uproot.open(path) as f:
            tree = f[opts["tree"]] if opts["tree"] else f[next(iter(io.list_trees(path)))]
            if hasattr(tree, "common_entry_offsets"):
                return _group(np.asarray(tree.common_entry_offsets(filter_name=list(columns)),
                                         dtype=np.int64), chunk_size)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        return _group(np.concatenate([[0], np.cumsum(rows)]).astype(np.int64), chunk_size)
    if fmt == "csv":
        return np.array([0, n], dtype=np.int64)
    return _even(n, chunk_size)


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


def read_range(chunk: Chunk, columns: Sequence[str]) -> dict[str, np.ndarray | ak.Array]:
    """The raw ``columns`` of a chunk: flat numpy arrays, 2D padded arrays, awkward jagged lists."""
    return io.read_columns(chunk.file.path, list(columns), start=chunk.start, stop=chunk.stop,
                           **_reader_options(chunk.file.options))
