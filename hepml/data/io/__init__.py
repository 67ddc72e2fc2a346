"""File I/O for hepml: one facade over HDF5, ROOT, CSV and parquet, one module per format.

``read_columns(path, columns)`` returns ``{name: array}``: flat columns as 1D numpy arrays, jagged
columns (ROOT jagged branches, parquet lists) as awkward ``var * number``, 2D/3D HDF5 datasets as
numpy ``[n, ...]``; ``start``/``stop`` read an entry range without reading the whole file. A file's
format comes from its suffix (:data:`FORMATS`, or ``format=`` for an unusual one) and is confirmed
by its content, so a non-HDF5 file named ``.h5``, a truncated or an empty file fails with a
:class:`DataFileError` naming the file and what was expected, never a library traceback.

Writing: :func:`write_columns` (a new file), :func:`append_columns` (rows added to a file) and
:func:`open_writer` (batch after batch into one file, e.g. streamed predictions or merged shards).
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from hepml.data.io import csv, hdf5, parquet, root, root_write
from hepml.data.io.base import (
    AttrValue,
    Column,
    ColumnInfo,
    DataFileError,
    MissingColumnError,
    PathLike,
    check_read_lengths,
    row_count,
)
from hepml.data.io.magic import sniff

log = logging.getLogger(__name__)

__all__ = [
    "FORMATS", "ColumnInfo", "DataFileError", "MissingColumnError", "append_columns",
    "detect_format", "expand_files", "list_columns", "list_trees", "num_entries", "open_writer",
    "read_attrs", "read_columns", "write_columns",
]

FORMATS: dict[str, tuple[str, ...]] = {
    "hdf5": (".h5", ".hdf5", ".hdf"),
    "root": (".root",),
    "csv": (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".gz"),
    "parquet": (".parquet", ".pq"),
}
_ALIASES = {"h5": "hdf5", "hdf": "hdf5", "pq": "parquet", "tsv": "csv", "txt": "csv"}
_NAMES = {"hdf5": "HDF5", "root": "ROOT", "csv": "CSV", "parquet": "parquet"}
_CONTENT = {"hdf5": ("hdf5",), "root": ("root",), "parquet": ("parquet",), "csv": ("text", "gzip")}
_READERS = {"hdf5": hdf5, "root": root, "csv": csv, "parquet": parquet}
_WRITERS = {"hdf5": hdf5, "root": root_write, "csv": csv, "parquet": parquet}


def _article(fmt: str) -> str:
    return f"an {_NAMES[fmt]}" if fmt == "hdf5" else f"a {_NAMES[fmt]}"


def _named_format(path: PathLike, format: str | None) -> str | None:
    """The format ``format`` names (aliases allowed), else the one of the suffix, else None."""
    if format is not None:
        fmt = _ALIASES.get(format.lower(), format.lower())
        if fmt not in FORMATS:
            raise DataFileError(f"{path}: unknown format {format!r}; choose from {list(FORMATS)}")
        return fmt
    name = str(path).lower()
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    return None


def detect_format(path: PathLike, format: str | None = None) -> str:
    """The format of an existing file: from its suffix (or ``format``), confirmed by its content.

    Parameters
    ----------
    path
        The file.
    format
        ``hdf5``, ``root``, ``csv`` or ``parquet`` (``h5``, ``pq`` also), for a file whose suffix
        is not in :data:`FORMATS`; its content must agree.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    DataFileError
        The suffix is unknown, the file is empty, truncated, or its content is of another kind
        than the suffix says (the message says what it looks like).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file {path} does not exist")
    if path.is_dir():
        raise DataFileError(f"{path} is a directory, not a data file; give the files in it "
                            f"(e.g. {path}/*.h5)")
    fmt = _named_format(path, format)
    kind, description = sniff(path)
    if fmt is None:
        known = {k: f for f, kinds in _CONTENT.items() for k in kinds if f != "csv"}
        hint = (f"; its content {description}: pass format={known[kind]!r} (data.format="
                f"{known[kind]})" if kind in known else "")
        raise DataFileError(
            f"{path}: unknown file type; hepml reads "
            + ", ".join(f"{_NAMES[f]} {s}" for f, s in FORMATS.items()) + hint
        )
    if kind == "empty":
        raise DataFileError(f"{path}: empty file (0 bytes); expected {_article(fmt)} file")
    if kind == "truncated" and fmt in ("root", "parquet"):
        raise DataFileError(f"{path}: truncated: it {description}; copy or write it again")
    if kind not in _CONTENT[fmt]:
        suffix = max((s for s in FORMATS[fmt] if path.name.lower().endswith(s)), key=len,
                     default=path.suffix)
        said = f"format={format!r}" if format is not None else f"the suffix {suffix!r}"
        raise DataFileError(f"{path}: not {_article(fmt)} file ({said}; the content {description})"
                            ", or truncated")
    return fmt


def expand_files(patterns: Sequence[str]) -> list[str]:
    """Paths from file names and glob patterns (``*``, ``?``, ``[..]``, ``**``, ``~``).

    Each pattern's matches are sorted; the result keeps the patterns' order with every file once.

    Raises
    ------
    FileNotFoundError
        A pattern matches no file, or a plain path does not exist.
    """
    if isinstance(patterns, str | os.PathLike):
        patterns = [patterns]
    out: dict[str, None] = {}
    for pattern in patterns:
        text = os.path.expanduser(str(pattern))
        if glob.has_magic(text):
            matches = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not matches:
                raise FileNotFoundError(f"no file matches {pattern!r}; check the pattern (data.files)")
        elif os.path.isfile(text):
            matches = [text]
        elif os.path.isdir(text):
            raise FileNotFoundError(f"{pattern} is a directory; give its files, e.g. {pattern}/*.h5")
        else:
            raise FileNotFoundError(f"data file {pattern} does not exist")
        out.update(dict.fromkeys(os.path.normpath(m) for m in matches))
    return list(out)


def _options(fmt: str, tree: str | None, csv_names: Sequence[str] | None,
             csv_delimiter: str | None) -> dict:
    if fmt == "root":
        return {"tree": tree}
    if fmt == "csv":
        return {"names": None if csv_names is None else list(csv_names), "delimiter": csv_delimiter}
    return {}


def read_columns(
    path: PathLike, columns: Sequence[str], *, start: int | None = None, stop: int | None = None,
    format: str | None = None, tree: str | None = None, csv_names: Sequence[str] | None = None,
    csv_delimiter: str | None = None,
) -> dict[str, Column]:
    """Read ``columns`` of one file, whole or the entries ``[start, stop)``.

    Parameters
    ----------
    path
        HDF5, ROOT, CSV (plain or gzipped) or parquet file.
    columns
        Dataset paths (HDF5, ``group/name`` allowed), branches or RNTuple fields (ROOT), columns.
    start, stop
        Entry range, Python slice semantics; None reads the whole file (which must not be empty).
    format
        Overrides the suffix (see :func:`detect_format`).
    tree
        ROOT: the TTree or RNTuple; None picks the file's only one.
    csv_names, csv_delimiter
        CSV: the column names of a headerless file (ignored when line 1 is a header), and the
        delimiter (a hint: a file whose line 1 holds another one is read with that, with a warning).

    Returns
    -------
    dict
        Column name to numpy array (flat ``[n]``, or ``[n, ...]``) or awkward ``var * number``.
    """
    if isinstance(columns, str):
        raise TypeError(f"columns must be a list of names; pass [{columns!r}]")
    path = Path(path)
    fmt = detect_format(path, format)
    names = list(dict.fromkeys(columns))
    out = _READERS[fmt].read(path, names, start, stop, **_options(fmt, tree, csv_names, csv_delimiter))
    check_read_lengths(path, out, whole=start is None and stop is None)
    return out


def num_entries(path: PathLike, *, format: str | None = None, tree: str | None = None,
                csv_names: Sequence[str] | None = None, csv_delimiter: str | None = None) -> int:
    """Entries (events, rows) of a file, from its metadata where the format has it (HDF5 dataset
    shapes, ROOT tree headers, parquet footers; CSV lines are counted)."""
    path = Path(path)
    fmt = detect_format(path, format)
    return _READERS[fmt].num_entries(path, **_options(fmt, tree, csv_names, csv_delimiter))


def list_columns(path: PathLike, *, format: str | None = None, tree: str | None = None,
                 csv_names: Sequence[str] | None = None,
                 csv_delimiter: str | None = None) -> list[ColumnInfo]:
    """What each column holds: :class:`ColumnInfo` (name, dtype, per-entry shape, jagged,
    counter), in file order."""
    path = Path(path)
    fmt = detect_format(path, format)
    return _READERS[fmt].list_columns(path, **_options(fmt, tree, csv_names, csv_delimiter))


def list_trees(path: PathLike, *, format: str | None = None) -> dict[str, str]:
    """ROOT: TTree and RNTuple names -> ``"TTree"``/``"RNTuple"``; ``{}`` for other formats."""
    path = Path(path)
    return root.list_trees(path) if detect_format(path, format) == "root" else {}


def read_attrs(path: PathLike, *, format: str | None = None, tree: str | None = None) -> dict:
    """The file's attributes (provenance) as written by :func:`write_columns`, JSON decoded."""
    path = Path(path)
    fmt = detect_format(path, format)
    return _READERS[fmt].read_attrs(path, **({"tree": tree} if fmt == "root" else {}))


def _output_format(path: Path, format: str | None) -> str:
    fmt = _named_format(path, format)
    if fmt is None:
        raise DataFileError(f"unknown output format {path.suffix!r} for {path}: use one of "
                            + ", ".join(s for suffixes in FORMATS.values() for s in suffixes)
                            + " (or format=...)")
    return fmt


def open_writer(path: PathLike, *, format: str | None = None, tree: str = "events",
                attrs: Mapping[str, AttrValue] | None = None, jagged: Collection[str] = (),
                append: bool = False, compression: str | None = "gzip"):
    """A writer for batch after batch of columns: ``with open_writer(p) as w: w.append(cols)``.

    Parameters
    ----------
    path
        Output file; parent folders are created.
    format
        Overrides the suffix.
    tree
        ROOT: the TTree name.
    attrs
        Provenance written with the file (HDF5 root attributes, ROOT ``provenance`` string,
        parquet schema metadata; CSV has no place for them).
    jagged
        HDF5: names of 2D numpy columns that are padded lists (marked ``jagged``, width may grow).
    append
        Add to an existing file instead of replacing it.
    compression
        HDF5: ``gzip``, ``lzf`` or None for the datasets it creates (other formats ignore it).
    """
    path = Path(path)
    fmt = _output_format(path, format)
    if append and path.exists():
        detect_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"compression": compression} if fmt == "hdf5" else {}
    return _WRITERS[fmt].Writer(path, attrs=attrs, tree=tree, jagged=jagged,
                                mode="a" if append else "w", **extra)


def write_columns(path: PathLike, columns: Mapping[str, Column],
                  attrs: Mapping[str, AttrValue] | None = None, tree: str = "events",
                  format: str | None = None, compression: str | None = "gzip") -> Path:
    """Write equally long columns to a new file (format from the suffix, or ``format``).

    HDF5 and ROOT take flat, fixed-size and jagged (awkward ``var * number``) columns, parquet flat
    and jagged ones, CSV flat ones. See :mod:`hepml.data.io.hdf5` and
    :mod:`hepml.data.io.root_write` for the layouts.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    n_rows = row_count(path, columns)
    with open_writer(path, format=format, tree=tree, attrs=attrs, compression=compression) as writer:
        writer.append(columns)
    log.info("wrote %d rows x %d columns to %s", n_rows, len(columns), path)
    return path


def append_columns(path: PathLike, columns: Mapping[str, Column], tree: str = "events", *,
                   format: str | None = None) -> Path:
    """Append rows to a file (created when missing): HDF5 datasets grow in place, CSV gets more
    lines, ROOT and parquet files are rewritten with the new rows after the old ones."""
    path = Path(path)
    fmt = _output_format(path, format)
    if path.exists():
        detect_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    _WRITERS[fmt].append(path, columns, tree=tree)
    log.debug("appended %d rows to %s", row_count(path, columns), path)
    return path
