"""Parquet files: flat numeric columns and lists of numbers, read with pyarrow.

Reading: numeric and boolean columns come back as 1D numpy arrays (nulls as NaN), list columns as
awkward ``var * number`` (like ROOT's jagged branches), fixed-size lists as numpy ``[n, k]``. An
entry range reads only the row groups it overlaps, then slices them. Writing: every batch becomes
row groups; ``attrs`` are JSON in the schema metadata key ``hepml``. Appending to an existing file
copies its row groups once into a new file (parquet files cannot grow in place).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hepml.data.io.arrow import is_list, is_number, to_column, to_table
from hepml.data.io.base import (
    AttrValue,
    Column,
    ColumnInfo,
    DataFileError,
    PathLike,
    decode_attrs,
    encode_attr,
    entry_range,
    missing_error,
    reading,
    replace_atomically,
    temporary,
)

log = logging.getLogger(__name__)

__all__ = ["read_parquet", "write_parquet"]

_WHAT = "a parquet file"
_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError)
_META_KEY = b"hepml"


def _open(path: Path) -> pq.ParquetFile:
    with reading(path, _WHAT, _ERRORS):
        return pq.ParquetFile(path)


def _select(path: Path, present: Sequence[str], columns: Sequence[str] | None) -> list[str]:
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of column names; pass [{columns!r}]")
    wanted = list(present) if columns is None else list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in present]
    if missing:
        raise missing_error(path, missing, list(present))
    return wanted


def _table(path: Path, pf: pq.ParquetFile, wanted: list[str], start: int | None,
           stop: int | None) -> pa.Table:
    if start is None and stop is None:
        return pf.read(columns=wanted)
    begin, end = entry_range(start, stop, pf.metadata.num_rows)
    groups, first, offset = [], 0, 0
    for i in range(pf.num_row_groups):
        rows = pf.metadata.row_group(i).num_rows
        if offset + rows > begin and offset < end:
            if not groups:
                first = offset
            groups.append(i)
        offset += rows
    if not groups:
        return pf.schema_arrow.empty_table().select(wanted)
    return pf.read_row_groups(groups, columns=wanted).slice(begin - first, end - begin)


def read(path: Path, columns: Sequence[str] | None, start: int | None = None,
         stop: int | None = None) -> dict[str, Column]:
    """Read ``columns`` (all when None), whole or rows ``[start, stop)``."""
    pf = _open(path)
    with pf, reading(path, _WHAT, _ERRORS):
        wanted = _select(path, pf.schema_arrow.names, columns)
        table = _table(path, pf, wanted, start, stop)
    return {name: to_column(table.column(name), name, path) for name in wanted}


def read_parquet(path: PathLike, columns: Sequence[str] | None = None) -> dict[str, Column]:
    """Read numeric, boolean and list-of-number columns of a parquet file.

    Parameters
    ----------
    path
        Parquet file.
    columns
        Columns to return, in this order; None returns all columns.

    Returns
    -------
    dict of str to numpy.ndarray or awkward.Array
        1D arrays with the column's own dtype (nulls in numeric columns become NaN); list columns
        as awkward ``var * number``.

    Raises
    ------
    MissingColumnError
        A requested column is not in the file.
    DataFileError
        The file is not parquet, has no rows, or a column is neither numeric nor a list of numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file; check the path")
    out = read(path, columns)
    if not out or len(next(iter(out.values()))) == 0:
        raise DataFileError(f"{path} has no rows; give a file with at least one row of values")
    log.info("Read %d rows x %d columns from %s", len(next(iter(out.values()))), len(out), path)
    return out


def write_parquet(path: PathLike, columns: Mapping[str, Column]) -> None:
    """Write 1D numeric or boolean arrays (and jagged awkward lists) as a parquet file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Writer(path) as writer:
        writer.append(columns)
    log.info("Wrote %d rows x %d columns to %s", writer.rows, len(columns), path)


def num_entries(path: Path) -> int:
    """Rows, from the file's footer."""
    pf = _open(path)
    with pf:
        return int(pf.metadata.num_rows)


def _info(field: pa.Field) -> ColumnInfo:
    kind = field.type
    if is_number(kind):
        return ColumnInfo(field.name, np.dtype(kind.to_pandas_dtype()).name)
    if is_list(kind) and is_number(kind.value_type):
        return ColumnInfo(field.name, np.dtype(kind.value_type.to_pandas_dtype()).name, (None,), True)
    if pa.types.is_fixed_size_list(kind) and is_number(kind.value_type):
        dtype = np.dtype(kind.value_type.to_pandas_dtype()).name
        return ColumnInfo(field.name, dtype, (kind.list_size,))
    return ColumnInfo(field.name, str(kind))


def list_columns(path: Path) -> list[ColumnInfo]:
    """Every column with its type; list columns are jagged."""
    pf = _open(path)
    with pf:
        return [_info(field) for field in pf.schema_arrow]


def read_attrs(path: Path) -> dict:
    """Attributes written by :class:`Writer` (``{}`` for other files)."""
    pf = _open(path)
    with pf:
        meta = pf.schema_arrow.metadata or {}
    if _META_KEY not in meta:
        return {}
    return decode_attrs(json.loads(meta[_META_KEY]))


class Writer:
    """Write a parquet file batch by batch, each batch as row groups.

    ``mode="a"`` on an existing file copies its row groups (and attributes) into a new file first,
    which replaces the old one on :meth:`close`.
    """

    def __init__(self, path: Path, attrs: Mapping[str, AttrValue] | None = None, mode: str = "w",
                 tree: str | None = None, jagged: object = ()) -> None:
        self.path, self.rows = Path(path), 0
        self._attrs = {k: encode_attr(v) for k, v in (attrs or {}).items()}
        self._old = _open(self.path) if mode == "a" and self.path.exists() else None
        self._target = temporary(self.path) if self._old is not None else self.path
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        if self._old is not None:
            self._attrs = {**read_attrs(self.path), **self._attrs}
            self._start(self._old.schema_arrow)
            with reading(self.path, _WHAT, _ERRORS):
                for i in range(self._old.num_row_groups):
                    group = self._old.read_row_group(i)
                    self._writer.write_table(group)
                    self.rows += group.num_rows

    def _start(self, schema: pa.Schema) -> None:
        meta = {_META_KEY: json.dumps(self._attrs).encode()} if self._attrs else None
        self._schema = schema.remove_metadata().with_metadata(meta) if meta else schema.remove_metadata()
        self._writer = pq.ParquetWriter(self._target, self._schema)

    def append(self, columns: Mapping[str, Column]) -> None:
        """Write the rows of ``columns`` as new row groups."""
        table = to_table(self.path, columns, bool_as_int=False, lists=True)
        if self._writer is None:
            self._start(table.schema)
        if set(table.column_names) != set(self._schema.names):
            raise DataFileError(f"{self.path}: cannot append columns {sorted(columns)} to a file "
                                f"holding {self._schema.names}")
        try:
            table = table.select(self._schema.names).cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise DataFileError(f"{self.path}: the appended columns do not match the file's types "
                                f"{self._schema} ({err})") from err
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self, failed: bool = False) -> None:
        """Finish the file; ``failed`` drops a copy being appended to, keeping the old file."""
        if self._writer is not None:
            self._writer.close()
        if self._old is not None:
            self._old.close()
            if failed:
                self._target.unlink(missing_ok=True)
            else:
                replace_atomically(self._target, self.path)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self.close(failed=exc_type is not None)


def append(path: Path, columns: Mapping[str, Column], tree: str | None = None) -> None:
    """Append rows to ``path`` (created when missing)."""
    with Writer(path, mode="a") as writer:
        writer.append(columns)
