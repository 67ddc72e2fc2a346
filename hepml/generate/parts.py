"""One finished chunk of a sample on disk: the runner's unit of resumption.

A part is an HDF5 file written with :func:`hepml.data.io.write_columns` (to a temporary name,
then renamed, so a killed process never leaves a half-written part). Jagged columns are stored
padded as ``float32`` by the writer; to read them back exactly as jagged arrays every jagged
column ``X`` gets a hidden count column ``__count__X`` and its dtype is recorded in the ``jagged``
attribute (so integer lists come back as integers; float64 lists come back rounded to float32).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import h5py
import numpy as np

from hepml.data.io import write_columns

__all__ = ["Column", "concatenate", "is_jagged", "n_rows", "read_part", "read_part_attrs",
           "write_part"]

Column = np.ndarray | ak.Array
_COUNT = "__count__"
_EMPTY = "__empty__"


def is_jagged(values: Column) -> bool:
    """True for an awkward array with a variable-length inner dimension."""
    return isinstance(values, ak.Array) and values.ndim > 1


def n_rows(columns: Mapping[str, Column]) -> int:
    """Rows of a column dictionary (0 when it has no columns)."""
    return len(next(iter(columns.values()))) if columns else 0


def write_part(path: Path, columns: Mapping[str, Column], attrs: Mapping[str, Any]) -> Path:
    """Write one chunk's columns and attributes atomically to ``path`` (an ``.h5`` file)."""
    stored: dict[str, Column] = {}
    jagged: dict[str, str] = {}
    for name, values in columns.items():
        stored[name] = values
        if is_jagged(values):
            jagged[name] = ak.type(values).content.content.primitive
            stored[_COUNT + name] = ak.to_numpy(ak.num(values)).astype(np.int64)
            if len(values) == 0:  # the writer cannot pad a jagged column without rows
                stored[name] = np.zeros(0, dtype=jagged[name])
    if not stored:
        stored[_EMPTY] = np.zeros(0)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    writer_log = logging.getLogger(write_columns.__module__)
    level = writer_log.level
    writer_log.setLevel(max(level, logging.WARNING))  # one "wrote N rows" line per chunk is noise
    try:
        write_columns(tmp, stored, {**attrs, "jagged": jagged, "n_rows": n_rows(columns)})
    finally:
        writer_log.setLevel(level)
    os.replace(tmp, path)
    return path


def read_part_attrs(path: Path) -> dict[str, Any]:
    """The attributes of a part, JSON strings decoded."""
    with h5py.File(path, "r") as handle:
        attrs = dict(handle.attrs)
    for key, value in attrs.items():
        if isinstance(value, str) and value[:1] in "[{":
            attrs[key] = json.loads(value)
        elif isinstance(value, np.generic):
            attrs[key] = value.item()
    return attrs


def read_part(path: Path) -> dict[str, Column]:
    """The columns of a part, jagged ones as awkward arrays with their original dtype."""
    jagged = read_part_attrs(path)["jagged"]
    columns: dict[str, Column] = {}
    with h5py.File(path, "r") as handle:
        names = [n for n in handle if not n.startswith(_COUNT) and n != _EMPTY]
        for name in names:
            data = handle[name][()]
            if name in jagged:
                counts = handle[_COUNT + name][()]
                width = data.shape[1] if data.ndim == 2 else 0
                values = data[np.arange(width)[None, :] < counts[:, None]] if width else data[:0]
                columns[name] = ak.unflatten(values.astype(jagged[name]), counts)
            else:
                columns[name] = data
    return columns


def concatenate(parts: Sequence[Mapping[str, Column]]) -> dict[str, Column]:
    """Concatenate column dictionaries with the same columns, row-wise, in order.

    Parts without rows are skipped (their dtypes may be the builder's placeholders), unless all
    parts are empty.
    """
    filled = [p for p in parts if n_rows(p)] or list(parts[:1])
    if not filled:
        return {}
    names = set(filled[0])
    for part in filled[1:]:
        if set(part) != names:
            raise ValueError(
                f"parts have different columns (only in some: {sorted(names ^ set(part))}): a "
                "builder must return the same columns for every chunk, even empty ones"
            )
    out: dict[str, Column] = {}
    for name in filled[0]:
        values = [p[name] for p in filled]
        if any(is_jagged(v) for v in values):
            out[name] = ak.concatenate(values)
        else:
            out[name] = np.concatenate([ak.to_numpy(v) if isinstance(v, ak.Array) else v
                                        for v in values])
    return out
