"""CSV files (plain or gzipped): read and write numeric tables.

Readers return ``{column name: 1D numpy array}``. Files are parsed by ``pyarrow.csv``
(multi-threaded, only the requested columns are converted); when pyarrow rejects a file, a second,
plain Python pass finds the first offending line so the error names the line and column to fix.
Compression, delimiter and header are worked out per file (:mod:`hepml.data.io.csv_layout`);
writing is in :mod:`hepml.data.io.csv_write`.

Values: a column whose every cell is an integer literal is returned as ``int64`` (e.g. a 0/1
label); every other column is ``float64``. Empty cells and ``NA``/``N/A``/``null`` are missing
values and read as NaN (which turns an integer column into ``float64``); a warning gives their
number. Any other text that is not a number is an error. An entry range reads the whole file and
slices it (CSV has no index to seek to).
"""

from __future__ import annotations

import gzip
import logging
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from hepml.data.io import csv_layout as lay
from hepml.data.io.arrow import to_numpy
from hepml.data.io.base import (
    Column,
    ColumnInfo,
    DataFileError,
    PathLike,
    entry_range,
    reading,
)
from hepml.data.io.csv_layout import WHITESPACE, Layout, has_header
from hepml.data.io.csv_write import Writer, append, write_csv

log = logging.getLogger(__name__)

__all__ = ["Writer", "append", "csv_columns", "has_header", "read_csv", "write_csv"]

_WHAT = "a CSV file"
_STREAM_ERRORS = (OSError, EOFError, zlib.error)  # truncated or corrupt gzip streams
_BLOCK_SIZE = 4 << 20
_SAMPLE_LINES = 1000


def csv_columns(
    path: PathLike, names: Sequence[str] | None = None, delimiter: str | None = None
) -> list[str]:
    """Return the column names of a CSV file, reading only its first line.

    Parameters
    ----------
    path
        CSV file, plain or gzipped.
    names
        Column names of a headerless file; checked against the number of fields of line 1.
    delimiter
        ``","``, ``"\\t"``, ``"whitespace"`` (or ``" "``), another single character, or None to
        sniff it from the first line.
    """
    return list(lay.layout(Path(path), names, delimiter).names)


def read_csv(
    path: PathLike,
    columns: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> dict[str, np.ndarray]:
    """Read numeric columns of a CSV file (plain or gzipped) into numpy arrays.

    Parameters
    ----------
    path
        CSV file; gzip compression is detected from the file's first bytes.
    columns
        Columns to return, in this order; None returns all columns in file order.
    names
        Column names of a headerless file (its line 1 is data). None: line 1 is the header.
    delimiter
        ``","``, ``"\\t"``, ``"whitespace"`` (or ``" "``), another single character, or None to
        sniff comma, tab or whitespace from the first line.

    Returns
    -------
    dict of str to numpy.ndarray
        One 1D array per column: ``int64`` where every cell is an integer, else ``float64``;
        missing cells (empty, ``NA``) become NaN.

    Raises
    ------
    MissingColumnError
        A requested column is not in the file (a ``KeyError`` and a ``DataFileError``).
    DataFileError
        The file is empty or corrupt, ``names`` does not match the number of fields, a line has
        the wrong number of fields, or a cell is not a number (the message gives line and column).
    """
    path = Path(path)
    start = time.perf_counter()
    with reading(path, _WHAT, _STREAM_ERRORS):
        layout = lay.layout(path, names, delimiter)
        wanted = lay.select(path, layout.names, columns, header=layout.header)
        table = _read_table(path, layout, wanted)
    if table.num_rows == 0:
        raise DataFileError(f"{path} has no data rows; give a file with at least one row of values")
    rows, out = table.num_rows, {}
    for name in wanted:
        out[name] = to_numpy(table.column(name), name, path)
        table = table.drop_columns([name])  # frees the arrow copy column by column
    log.info(
        "Read %d rows x %d columns from %s in %.2f s",
        rows, len(wanted), path, time.perf_counter() - start,
    )
    return out


def _whitespace_buffer(path: Path) -> pa.Buffer:
    """The file with blanks stripped at line ends and runs of blanks made one space."""
    parts = []
    with gzip.open(path) if lay.is_gzip(path) else open(path, "rb") as f:
        while lines := f.readlines(_BLOCK_SIZE):
            parts.append(b"\n".join([b" ".join(line.split()) for line in lines]) + b"\n")
    return pa.py_buffer(b"".join(parts))


def _arrow_read(
    path: Path | pa.Buffer, layout: Layout, wanted: list[str], *, normalise: bool, as_float: bool
) -> pa.Table:
    whitespace = layout.delimiter == WHITESPACE
    if isinstance(path, pa.Buffer):
        source = pa.BufferReader(path)
    elif normalise:
        source = pa.BufferReader(_whitespace_buffer(path))
    else:
        source = pa.input_stream(str(path), compression="gzip" if lay.is_gzip(path) else None)
    read = pacsv.ReadOptions(
        column_names=layout.names, skip_rows=int(layout.header), block_size=_BLOCK_SIZE
    )
    parse = pacsv.ParseOptions(delimiter=" " if whitespace else layout.delimiter)
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        null_values=lay.NULL_VALUES,
        column_types={name: pa.float64() for name in wanted} if as_float else None,
    )
    with source:
        return pacsv.read_csv(source, read_options=read, parse_options=parse,
                              convert_options=convert)


def _read_table(path: Path, layout: Layout, wanted: list[str]) -> pa.Table:
    """Read with pyarrow; on failure retry the cheap fixes, then locate the offending cell."""
    normalise = as_float = False
    while True:
        try:
            table = _arrow_read(path, layout, wanted, normalise=normalise, as_float=as_float)
        except pa.ArrowInvalid as err:
            conversion = "conversion error" in str(err)
            if layout.delimiter == WHITESPACE and not normalise and not conversion:
                log.debug("%s: uneven blanks between fields, normalising them first", path)
                normalise = True
            elif conversion and not as_float:
                log.debug("%s: a column changes from integers to floats, reading floats", path)
                as_float = True
            else:
                raise DataFileError(lay.locate(path, layout, wanted) or f"{path}: {err}") from err
            continue
        bad = [name for name in wanted if not _numeric(table.schema.field(name).type)]
        if bad:
            raise DataFileError(lay.locate(path, layout, bad)
                                or f"{path}: column(s) {bad} not numeric")
        return table


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)


def _reader_names(path: Path, names: Sequence[str] | None, delimiter: str | None):
    """``names`` for a headerless file, or None when the file turns out to have a header."""
    if names is not None and has_header(path, delimiter):
        log.info("%s starts with a header line: reading columns by their header names", path)
        return None
    return names


def read(path: Path, columns: Sequence[str], start: int | None = None, stop: int | None = None,
         names: Sequence[str] | None = None, delimiter: str | None = None) -> dict[str, Column]:
    """Read ``columns``; ``names`` apply only when line 1 is not a header."""
    with reading(path, _WHAT, _STREAM_ERRORS):
        names = _reader_names(path, names, delimiter)
        if not lay.is_gzip(path):
            with open(path, "rb") as f:
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    log.warning("%s does not end with a line break; if the file was cut short, "
                                "its last row is incomplete", path)
    out = read_csv(path, columns=columns, names=names, delimiter=delimiter)
    if start is None and stop is None:
        return out
    begin, end = entry_range(start, stop, len(next(iter(out.values()))) if out else 0)
    return {name: values[begin:end] for name, values in out.items()}


def num_entries(path: Path, names: Sequence[str] | None = None,
                delimiter: str | None = None) -> int:
    """Data lines of the file (non-blank lines, less the header), counted without parsing."""
    with reading(path, _WHAT, _STREAM_ERRORS):
        names = _reader_names(path, names, delimiter)
        header = lay.layout(path, names, delimiter).header
        with gzip.open(path) if lay.is_gzip(path) else open(path, "rb") as f:
            lines = sum(1 for line in f if line.strip())
    return lines - int(header)


def list_columns(path: Path, names: Sequence[str] | None = None,
                 delimiter: str | None = None) -> list[ColumnInfo]:
    """Columns with the type of their first rows (``int64`` or ``float64``)."""
    with reading(path, _WHAT, _STREAM_ERRORS):
        names = _reader_names(path, names, delimiter)
        layout = lay.layout(path, names, delimiter)
        with lay.open_text(path) as f:
            lines = [line for _, line in zip(range(_SAMPLE_LINES + 1), f, strict=False)]
    sample = pa.py_buffer("".join(lines[: len(lines) - (len(lines) > _SAMPLE_LINES)]).encode())
    try:
        table = _arrow_read(sample, layout, layout.names, normalise=False, as_float=False)
        types = {n: table.schema.field(n).type for n in layout.names}
    except pa.ArrowInvalid:
        types = {}
    out = []
    for name in layout.names:
        kind = types.get(name)
        dtype = "int64" if kind is not None and pa.types.is_integer(kind) else (
            "float64" if kind is None or _numeric(kind) else "string")
        out.append(ColumnInfo(name, dtype))
    return out


def read_attrs(path: Path) -> dict:
    """CSV files carry no attributes."""
    return {}
