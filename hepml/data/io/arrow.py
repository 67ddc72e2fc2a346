"""Arrow columns <-> numpy/awkward columns, shared by the CSV and parquet modules."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hepml.data.io.base import Column, DataFileError, is_jagged

log = logging.getLogger(__name__)


def is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)


def to_numpy(column: pa.ChunkedArray | pa.Array, name: str, path: Path) -> np.ndarray:
    """A flat numeric arrow column as numpy; missing cells become NaN (with a warning)."""
    if pa.types.is_null(column.type):
        log.warning("%s: column %r is empty on every row; read as NaN", path, name)
        return np.full(len(column), np.nan)
    if column.null_count:
        log.warning("%s: column %r has %d missing cells; read as NaN", path, name,
                    column.null_count)
        column = column.cast(pa.float64()).fill_null(np.nan)
    array = column.to_numpy()
    return array if array.flags.writeable else array.copy()


def to_column(column: pa.ChunkedArray, name: str, path: Path) -> Column:
    """An arrow column as numpy (flat numbers, fixed-size lists) or awkward (lists of numbers)."""
    kind = column.type
    if is_number(kind) or pa.types.is_null(kind):
        return to_numpy(column, name, path)
    if pa.types.is_fixed_size_list(kind) and is_number(kind.value_type):
        flat = to_numpy(pc.list_flatten(column), name, path)
        return flat.reshape(len(column), kind.list_size)
    if is_list(kind) and is_number(kind.value_type):
        if column.null_count:
            log.warning("%s: list column %r has %d missing rows; read as empty lists", path, name,
                        column.null_count)
        counts = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
        values = to_numpy(pc.list_flatten(column), name, path)
        return ak.unflatten(values, counts.astype(np.int64))
    raise DataFileError(
        f"{path}: column {name!r} has type {kind}; hepml reads numeric columns and lists of "
        "numbers (drop it from the columns you read)"
    )


def to_table(path: Path, columns: Mapping[str, Column], *, bool_as_int: bool,
             lists: bool = False) -> pa.Table:
    """Columns as an arrow table: 1D numeric (booleans as int8 when ``bool_as_int``), and with
    ``lists`` jagged awkward columns as arrow lists."""
    if not columns:
        raise DataFileError(f"No columns to write to {path}; pass a dict of name -> 1D array")
    arrays = {}
    for name, values in columns.items():
        if lists and is_jagged(str(name), values, path):
            counts = ak.to_numpy(ak.num(values)).astype(np.int32)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
            flat = ak.to_numpy(ak.flatten(values))
            arrays[str(name)] = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
            continue
        array = ak.to_numpy(values) if isinstance(values, ak.Array) else np.asarray(values)
        if array.ndim != 1 or array.dtype.kind not in "biuf":
            what = "1D numeric or boolean arrays, or jagged lists" if lists else (
                "1D numeric or boolean arrays (flatten or split wider arrays)")
            raise DataFileError(
                f"Column {name!r} for {path} has shape {array.shape} and dtype {array.dtype}; "
                f"pass {what}"
            )
        arrays[str(name)] = array.astype(np.int8) if bool_as_int and array.dtype == bool else array
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise DataFileError(f"Columns for {path} differ in length {lengths}; pass equal lengths")
    return pa.table(arrays)
