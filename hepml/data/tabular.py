"""Read and write numeric tables as CSV (plain or gzipped) and parquet files.

Every reader returns ``{column name: 1D numpy array}``. CSV files are parsed by ``pyarrow.csv``
(multi-threaded, only the requested columns are converted); when pyarrow rejects a file, a second,
plain Python pass finds the first offending line so the error names the line and column to fix.

CSV conventions
---------------
* Compression: gzip is recognised by its magic bytes, whatever the suffix.
* Header: the first line holds the column names, unless ``names`` is given, in which case the file
  has no header (e.g. the UCI HIGGS ``HIGGS.csv.gz``: label first, 28 features, no header).
* Delimiter: comma, tab, or ``"whitespace"`` (runs of spaces and tabs, as written by
  ``numpy.savetxt``); sniffed from the first line when not given.
* Values: a column whose every cell is an integer literal is returned as ``int64`` (e.g. a 0/1
  label); every other column is ``float64``. Empty cells and ``NA``/``N/A``/``null`` are missing
  values and read as NaN (which turns an integer column into ``float64``); a warning gives their
  number. Any other text that is not a number is an error.
"""

from __future__ import annotations

import csv
import gzip
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

__all__ = [
    "MissingColumnError",
    "csv_columns",
    "read_csv",
    "read_parquet",
    "write_csv",
    "write_parquet",
]

PathLike = str | os.PathLike[str]

WHITESPACE = "whitespace"
_DELIMITERS = {",": ",", "comma": ",", "\t": "\t", "tab": "\t", " ": WHITESPACE, WHITESPACE: WHITESPACE}
_NULL_VALUES = ["", "NA", "N/A", "null", "NULL"]
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_LEVEL = 1  # 6x faster than the default 6 on numeric text, files ~7% larger
_OTHER_MAGIC = {b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"PAR1": "parquet"}
_BLOCK_SIZE = 4 << 20


class MissingColumnError(KeyError, ValueError):
    """A requested column is not in the file; the message lists the columns that are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class _Layout:
    """Column names, whether line 1 is a header, and the delimiter of a CSV file."""

    names: list[str]
    header: bool
    delimiter: str


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

    Returns
    -------
    list of str
        The column names in file order.
    """
    return list(_layout(Path(path), names, delimiter).names)


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
        A requested column is not in the file (a ``KeyError`` and a ``ValueError``).
    ValueError
        The file is empty, ``names`` does not match the number of fields, a line has the wrong
        number of fields, or a cell is not a number (the message gives line and column).
    """
    path = Path(path)
    start = time.perf_counter()
    layout = _layout(path, names, delimiter)
    wanted = _select(path, layout.names, columns, header=layout.header)
    table = _read_table(path, layout, wanted)
    if table.num_rows == 0:
        raise ValueError(f"{path} has no data rows; give a file with at least one row of values")
    rows, out = table.num_rows, {}
    for name in wanted:
        out[name] = _to_numpy(table.column(name), name, path)
        table = table.drop_columns([name])  # frees the arrow copy column by column
    log.info(
        "Read %d rows x %d columns from %s in %.2f s",
        rows, len(wanted), path, time.perf_counter() - start,
    )
    return out


def read_parquet(path: PathLike, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Read flat numeric (or boolean) columns of a parquet file into numpy arrays.

    Parameters
    ----------
    path
        Parquet file.
    columns
        Columns to return, in this order; None returns all columns.

    Returns
    -------
    dict of str to numpy.ndarray
        One 1D array per column with the column's own dtype; nulls in numeric columns become NaN.

    Raises
    ------
    MissingColumnError
        A requested column is not in the file.
    ValueError
        The file is not parquet, has no rows, or a column is not flat numeric (e.g. a list column).
    """
    path = _existing(Path(path))
    try:
        schema = pq.read_schema(path)
    except pa.ArrowException as err:
        raise ValueError(f"{path} is not a readable parquet file ({err})") from err
    wanted = _select(path, schema.names, columns)
    table = pq.read_table(path, columns=wanted)
    if table.num_rows == 0:
        raise ValueError(f"{path} has no rows; give a file with at least one row of values")
    out = {}
    for name in wanted:
        kind = table.schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
            raise ValueError(
                f"{path}: column {name!r} has type {kind}, but read_parquet returns flat numeric "
                "columns only; drop it from `columns` or read it with awkward.from_parquet"
            )
        out[name] = _to_numpy(table.column(name), name, path)
    log.info("Read %d rows x %d columns from %s", table.num_rows, len(wanted), path)
    return out


def write_csv(
    path: PathLike,
    columns: Mapping[str, np.ndarray],
    header: bool = True,
    delimiter: str = ",",
) -> None:
    """Write 1D numeric arrays as a CSV file, gzipped when ``path`` ends with ``.gz``.

    Floats are written with the shortest text that reads back to the same value (so a float
    column holding only whole numbers reads back as ``int64``); booleans are written as 0/1.

    Parameters
    ----------
    path
        Output file; parent folders are created.
    columns
        Column name to 1D array, all of one length.
    header
        Write the column names as line 1.
    delimiter
        ``","``, ``"\\t"``, ``"whitespace"`` (written as one space) or another single character.
    """
    path = Path(path)
    sep = _delimiter(delimiter)
    sep = " " if sep == WHITESPACE else sep
    table = _to_table(path, columns, bool_as_int=True)
    for name in table.column_names:
        if sep in name or any(ch in name for ch in '"\r\n') or (sep == " " and name != name.strip()):
            raise ValueError(
                f"Column name {name!r} for {path} contains the delimiter {sep!r}, a quote or a "
                "line break; rename the column"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    gzipped = path.suffix == ".gz"
    with gzip.open(path, "wb", compresslevel=_GZIP_LEVEL) if gzipped else open(path, "wb") as out:
        if header:
            out.write((sep.join(table.column_names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, delimiter=sep, quoting_style="none")
        pacsv.write_csv(table, out, options)
    log.info("Wrote %d rows x %d columns to %s", table.num_rows, table.num_columns, path)


def write_parquet(path: PathLike, columns: Mapping[str, np.ndarray]) -> None:
    """Write 1D numeric or boolean arrays as a parquet file.

    Parameters
    ----------
    path
        Output file; parent folders are created.
    columns
        Column name to 1D array, all of one length.
    """
    path = Path(path)
    table = _to_table(path, columns, bool_as_int=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    log.info("Wrote %d rows x %d columns to %s", table.num_rows, table.num_columns, path)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file; check the path")
    return path


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        magic = f.read(8)
    for prefix, kind in _OTHER_MAGIC.items():
        if magic.startswith(prefix):
            raise ValueError(
                f"{path} is a {kind} file, not CSV text; decompress it or recompress it with gzip"
                if kind != "parquet"
                else f"{path} is a parquet file; read it with read_parquet"
            )
    return magic.startswith(_GZIP_MAGIC)


def _open_text(path: Path) -> IO[str]:
    """Open a plain or gzipped file as UTF-8 text with newlines left as they are (for csv)."""
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _delimiter(delimiter: str) -> str:
    if delimiter in _DELIMITERS:
        return _DELIMITERS[delimiter]
    if len(delimiter) == 1 and delimiter not in "\"\r\n":
        return delimiter
    raise ValueError(
        f"Unknown delimiter {delimiter!r}; use ',', '\\t', 'whitespace' or one other character"
    )


def _split(line: str, delimiter: str) -> list[str]:
    line = line.rstrip("\r\n")
    if delimiter == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def _sniff(first: str, delimiter: str | None) -> str:
    """The given delimiter, or tab, comma or whitespace guessed from the first line."""
    if delimiter is None:
        return "\t" if "\t" in first else "," if "," in first else WHITESPACE
    return _delimiter(delimiter)


def has_header(path: PathLike, delimiter: str | None = None) -> bool:
    """Whether line 1 of a CSV file (plain or gzipped) holds a field that is not a number.

    Lets a caller with column names for a headerless file (``names=``) read a file that has
    its own header instead.
    """
    path = _existing(Path(path))
    with _open_text(path) as f:
        first = f.readline()
    for field in _split(first, _sniff(first, delimiter)):
        try:
            float(field)
        except ValueError:
            return True
    return False


def _layout(path: Path, names: Sequence[str] | None, delimiter: str | None) -> _Layout:
    _existing(path)
    try:
        with _open_text(path) as f:
            first = f.readline()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not a UTF-8 text file, so not CSV ({err})") from err
    if not first:
        raise ValueError(f"{path} is empty: it has neither a header nor data rows")
    if not first.strip():
        raise ValueError(f"{path}: line 1 is blank; remove the blank lines at the top of the file")
    sep = _sniff(first, delimiter)
    fields = _split(first, sep)
    if names is None:
        found = [field.strip() for field in fields]
        blank = [i + 1 for i, name in enumerate(found) if not name]
        if blank:
            raise ValueError(
                f"{path}: the header (line 1) has no name for column(s) {blank}; name every "
                "column, or pass names=... if the file has no header"
            )
        if all(_NUMBER.fullmatch(name) for name in found):
            log.warning("%s: the header (line 1) is all numbers; if the file has no header, "
                        "pass names=...", path)
        return _Layout(found, True, sep)
    if isinstance(names, str):
        raise TypeError(f"names must be a list of column names, not the string {names!r}")
    if len(fields) != len(names):
        raise ValueError(
            f"{path}: line 1 has {len(fields)} fields but {len(names)} names were given; "
            "pass one name per column (or check the delimiter)"
        )
    return _Layout(list(names), False, sep)


def _select(
    path: Path, present: Sequence[str], columns: Sequence[str] | None, header: bool = True
) -> list[str]:
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of column names; pass [{columns!r}]")
    wanted = list(present) if columns is None else list(dict.fromkeys(columns))
    if not wanted:
        raise ValueError(f"No columns asked for from {path}; pass columns=None to read them all")
    missing = [name for name in wanted if name not in present]
    if missing:
        origin = "" if header else " (names given by names=...)"
        raise MissingColumnError(
            f"Missing column(s) {missing} in {path}; choose from {list(present)}{origin}"
        )
    repeated = sorted(name for name, n in Counter(present).items() if n > 1 and name in wanted)
    if repeated:
        raise ValueError(f"{path}: column name(s) {repeated} appear more than once; rename them")
    return wanted


def _whitespace_buffer(path: Path) -> pa.Buffer:
    """The file with blanks stripped at line ends and runs of blanks made one space."""
    parts = []
    with gzip.open(path) if _is_gzip(path) else open(path, "rb") as f:
        while lines := f.readlines(_BLOCK_SIZE):
            parts.append(b"\n".join([b" ".join(line.split()) for line in lines]) + b"\n")
    return pa.py_buffer(b"".join(parts))


def _arrow_read(
    path: Path, layout: _Layout, wanted: list[str], *, normalise: bool, as_float: bool
) -> pa.Table:
    whitespace = layout.delimiter == WHITESPACE
    if normalise:
        source = pa.BufferReader(_whitespace_buffer(path))
    else:
        source = pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None)
    read = pacsv.ReadOptions(
        column_names=layout.names, skip_rows=int(layout.header), block_size=_BLOCK_SIZE
    )
    parse = pacsv.ParseOptions(delimiter=" " if whitespace else layout.delimiter)
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        null_values=_NULL_VALUES,
        column_types={name: pa.float64() for name in wanted} if as_float else None,
    )
    with source:
        return pacsv.read_csv(source, read_options=read, parse_options=parse,
                              convert_options=convert)


def _read_table(path: Path, layout: _Layout, wanted: list[str]) -> pa.Table:
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
                raise ValueError(_locate(path, layout, wanted) or f"{path}: {err}") from err
            continue
        bad = [name for name in wanted if not _numeric(table.schema.field(name).type)]
        if bad:
            raise ValueError(_locate(path, layout, bad) or f"{path}: column(s) {bad} not numeric")
        return table


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)


def _rows(f: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    if delimiter == WHITESPACE:
        for lineno, line in enumerate(f, start=1):
            yield lineno, line.split()
    else:
        reader = csv.reader(f, delimiter=delimiter)
        for fields in reader:
            yield reader.line_num, fields


def _locate(path: Path, layout: _Layout, wanted: list[str]) -> str | None:
    """Find the first bad line with a plain Python pass; return the error message, or None."""
    positions = [(layout.names.index(name), name) for name in wanted]
    expected = (
        f"the header has {len(layout.names)} columns" if layout.header
        else f"{len(layout.names)} names were given"
    )
    with _open_text(path) as f:
        for lineno, fields in _rows(f, layout.delimiter):
            if not fields or (lineno == 1 and layout.header):
                continue
            if len(fields) != len(layout.names):
                return (
                    f"{path}, line {lineno}: {len(fields)} fields but {expected}; fix that line "
                    "(or check the delimiter)"
                )
            for i, name in positions:
                cell = fields[i].strip()
                if cell not in _NULL_VALUES and not _NUMBER.fullmatch(cell):
                    hint = "; line 1 looks like a header: pass names=None" if lineno == 1 else ""
                    return (
                        f"{path}, line {lineno}, column {name!r}: {fields[i]!r} is not a number; "
                        f"fix that cell (empty cells and NA are read as NaN){hint}"
                    )
    return None


def _to_numpy(column: pa.ChunkedArray, name: str, path: Path) -> np.ndarray:
    if pa.types.is_null(column.type):
        log.warning("%s: column %r is empty on every row; read as NaN", path, name)
        return np.full(len(column), np.nan)
    if column.null_count:
        log.warning("%s: column %r has %d missing cells; read as NaN", path, name,
                    column.null_count)
        column = column.cast(pa.float64()).fill_null(np.nan)
    array = column.to_numpy()
    return array if array.flags.writeable else array.copy()


def _to_table(path: Path, columns: Mapping[str, np.ndarray], *, bool_as_int: bool) -> pa.Table:
    if not columns:
        raise ValueError(f"No columns to write to {path}; pass a dict of name -> 1D array")
    arrays = {}
    for name, values in columns.items():
        array = np.asarray(values)
        if array.ndim != 1 or array.dtype.kind not in "biuf":
            raise ValueError(
                f"Column {name!r} for {path} has shape {array.shape} and dtype {array.dtype}; "
                "pass 1D numeric or boolean arrays (flatten or split wider arrays)"
            )
        arrays[str(name)] = array.astype(np.int8) if bool_as_int and array.dtype == bool else array
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Columns for {path} differ in length {lengths}; pass equal lengths")
    return pa.table(arrays)
