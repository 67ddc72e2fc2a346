"""What a CSV file looks like: compression, delimiter, header and column names, worked out from
its first line; and, when a read fails, the first offending line and cell.

Conventions
-----------
* Compression: gzip is recognised by its magic bytes, whatever the suffix.
* Header: line 1 holds the column names, unless ``names`` is given, in which case the file has no
  header (e.g. the UCI HIGGS ``HIGGS.csv.gz``: label first, 28 features, no header).
* Delimiter: comma, tab, or ``"whitespace"`` (runs of spaces and tabs, as written by
  ``numpy.savetxt``); sniffed from line 1 when not given. A given delimiter is a hint: when it does
  not occur in line 1 but a tab or a comma does, that one is used (with a warning), so a config
  written for a tab-separated file reads a comma-separated one.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hepml.data.io.base import DataFileError, PathLike, missing_error

log = logging.getLogger(__name__)

WHITESPACE = "whitespace"
NULL_VALUES = ["", "NA", "N/A", "null", "NULL"]
NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)
_DELIMITERS = {",": ",", "comma": ",", "\t": "\t", "tab": "\t", " ": WHITESPACE, WHITESPACE: WHITESPACE}
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_MAGIC = {b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"PAR1": "parquet"}


@dataclass(frozen=True)
class Layout:
    """Column names, whether line 1 is a header, and the delimiter of a CSV file."""

    names: list[str]
    header: bool
    delimiter: str


def existing(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file; check the path")
    return path


def is_gzip(path: Path) -> bool:
    """Whether the file is gzipped (by its magic bytes); an error for other compressions."""
    with open(path, "rb") as f:
        magic = f.read(8)
    for prefix, kind in _OTHER_MAGIC.items():
        if magic.startswith(prefix):
            raise DataFileError(
                f"{path} is a {kind} file, not CSV text; decompress it or recompress it with gzip"
                if kind != "parquet"
                else f"{path} is a parquet file; read it with read_parquet"
            )
    return magic.startswith(_GZIP_MAGIC)


def open_text(path: Path) -> IO[str]:
    """Open a plain or gzipped file as UTF-8 text with newlines left as they are (for csv)."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def delimiter_char(delimiter: str) -> str:
    if delimiter in _DELIMITERS:
        return _DELIMITERS[delimiter]
    if len(delimiter) == 1 and delimiter not in "\"\r\n":
        return delimiter
    raise ValueError(
        f"Unknown delimiter {delimiter!r}; use ',', '\\t', 'whitespace' or one other character"
    )


def split(line: str, delimiter: str) -> list[str]:
    line = line.rstrip("\r\n")
    if delimiter == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def sniff(first: str, delimiter: str | None, path: PathLike | None = None,
          quiet: bool = False) -> str:
    """The delimiter of a file whose line 1 is ``first``.

    Tab, comma or whitespace guessed from ``first`` when ``delimiter`` is None; otherwise the given
    one, unless it does not occur in ``first`` while a tab or comma does (logged as a warning).
    """
    guess = "\t" if "\t" in first else "," if "," in first else WHITESPACE
    if delimiter is None:
        return guess
    given = delimiter_char(delimiter)
    present = len(first.split()) > 1 if given == WHITESPACE else given in first
    if not present and guess not in (given, WHITESPACE):
        if not quiet:
            log.warning("%s: the delimiter %r does not occur in line 1; reading with %r, "
                        "found there", path or "CSV file", given, guess)
        return guess
    return given


def has_header(path: PathLike, delimiter: str | None = None) -> bool:
    """Whether line 1 of a CSV file (plain or gzipped) holds a field that is not a number.

    Lets a caller with column names for a headerless file (``names=``) read a file that has
    its own header instead.
    """
    path = existing(Path(path))
    with open_text(path) as f:
        first = f.readline()
    for field in split(first, sniff(first, delimiter, path, quiet=True)):
        try:
            float(field)
        except ValueError:
            return True
    return False


def layout(path: Path, names: Sequence[str] | None, delimiter: str | None) -> Layout:
    """Names, header and delimiter of ``path`` from its first line."""
    existing(path)
    try:
        with open_text(path) as f:
            first = f.readline()
    except UnicodeDecodeError as err:
        raise DataFileError(f"{path} is not a UTF-8 text file, so not CSV ({err})") from err
    if not first:
        raise DataFileError(f"{path} is empty: it has neither a header nor data rows")
    if not first.strip():
        raise DataFileError(f"{path}: line 1 is blank; remove the blank lines at the top of the file")
    sep = sniff(first, delimiter, path)
    fields = split(first, sep)
    if names is None:
        found = [field.strip() for field in fields]
        blank = [i + 1 for i, name in enumerate(found) if not name]
        if blank:
            raise DataFileError(
                f"{path}: the header (line 1) has no name for column(s) {blank}; name every "
                "column, or pass names=... if the file has no header"
            )
        if all(NUMBER.fullmatch(name) for name in found):
            log.warning("%s: the header (line 1) is all numbers; if the file has no header, "
                        "pass names=...", path)
        return Layout(found, True, sep)
    if isinstance(names, str):
        raise TypeError(f"names must be a list of column names, not the string {names!r}")
    if len(fields) != len(names):
        raise DataFileError(
            f"{path}: line 1 has {len(fields)} fields but {len(names)} names were given; "
            "pass one name per column (or check the delimiter)"
        )
    return Layout(list(names), False, sep)


def select(
    path: Path, present: Sequence[str], columns: Sequence[str] | None, header: bool = True
) -> list[str]:
    """The requested columns in order (all when None), checked against those present."""
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of column names; pass [{columns!r}]")
    wanted = list(present) if columns is None else list(dict.fromkeys(columns))
    if not wanted:
        raise ValueError(f"No columns asked for from {path}; pass columns=None to read them all")
    missing = [name for name in wanted if name not in present]
    if missing:
        origin = "" if header else " (names given by names=...)"
        raise missing_error(path, missing, list(present), hint=origin)
    repeated = sorted(name for name, n in Counter(present).items() if n > 1 and name in wanted)
    if repeated:
        raise DataFileError(f"{path}: column name(s) {repeated} appear more than once; rename them")
    return wanted


def _rows(f: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    if delimiter == WHITESPACE:
        for lineno, line in enumerate(f, start=1):
            yield lineno, line.split()
    else:
        reader = csv.reader(f, delimiter=delimiter)
        for fields in reader:
            yield reader.line_num, fields


def locate(path: Path, layout: Layout, wanted: list[str]) -> str | None:
    """Find the first bad line with a plain Python pass; return the error message, or None."""
    positions = [(layout.names.index(name), name) for name in wanted]
    expected = (
        f"the header has {len(layout.names)} columns" if layout.header
        else f"{len(layout.names)} names were given"
    )
    with open_text(path) as f:
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
                if cell not in NULL_VALUES and not NUMBER.fullmatch(cell):
                    hint = "; line 1 looks like a header: pass names=None" if lineno == 1 else ""
                    return (
                        f"{path}, line {lineno}, column {name!r}: {fields[i]!r} is not a number; "
                        f"fix that cell (empty cells and NA are read as NaN){hint}"
                    )
    return None
