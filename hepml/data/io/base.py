"""Types, errors and helpers shared by the format modules of :mod:`hepml.data.io`.

Every format module (``hdf5``, ``root``, ``csv``, ``parquet``) offers the same functions, which the
facade :mod:`hepml.data.io` dispatches to: ``read(path, columns, start, stop, **options)``,
``num_entries``, ``list_columns``, ``read_attrs``, ``append(path, columns, tree)`` and a ``Writer``
class (``append(columns)`` batch by batch, then ``close()``).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from hepml.errors import HepmlError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
Column = np.ndarray | ak.Array
AttrValue = str | int | float | bool | dict | list

_LISTED = 40  # names listed in a missing-column error before "... and N more"


class DataFileError(HepmlError, ValueError):
    """A data file is unreadable, empty, of another format than its name says, or lacks what is
    asked of it. The message names the file and what was expected."""


class MissingColumnError(DataFileError, KeyError):
    """A requested column (dataset, branch) is not in the file; the message gives the nearest
    names and lists the ones that are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class ColumnInfo:
    """What one column of a file holds.

    Attributes
    ----------
    name
        Column (HDF5 dataset path, ROOT branch, CSV/parquet column) name.
    dtype
        Numpy name of the element type (``float32``, ``int64``, ``bool``), or the file's own type
        name when it is not numeric (e.g. ``string``).
    shape
        Per-entry shape: ``()`` for a scalar, ``(3,)`` for a fixed array, ``(None,)`` for a
        variable-length list, ``(C, H, W)`` for an image dataset.
    jagged
        A list per entry of varying length (ROOT jagged branch, parquet list, HDF5 variable-length
        or padded list written with ``jagged = True``).
    counter
        The column holding each entry's list length, where the file records one (ROOT count
        branches such as NanoAOD's ``nJet`` for ``Jet_pt``).
    """

    name: str
    dtype: str
    shape: tuple = ()
    jagged: bool = False
    counter: str | None = None

    @property
    def numeric(self) -> bool:
        """Whether the elements are numbers or booleans."""
        try:
            return np.dtype(self.dtype).kind in "biuf"
        except TypeError:
            return False


def missing_error(
    path: PathLike, missing: Sequence[str], available: Sequence[str], kind: str = "column",
    where: str = "", hint: str = "",
) -> MissingColumnError:
    """The error for columns not in a file: nearest names first, then a capped listing.

    Parameters
    ----------
    path
        The file.
    missing
        Requested names that are absent.
    available
        The names the file holds, in file order.
    kind
        ``column``, ``dataset`` or ``branch``.
    where
        Where in the file, e.g. ``" in TTree 'Events'"``.
    hint
        Appended to the message.
    """
    lowered: dict[str, str] = {}
    for name in available:
        lowered.setdefault(name.lower(), name)
    nearest = []
    for name in missing:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        if close:
            nearest.append(f"{name!r} -> {', '.join(repr(lowered[c]) for c in close)}")
    listing = list(available[:_LISTED])
    more = f" ... and {len(available) - _LISTED:,} more" if len(available) > _LISTED else ""
    message = f"{path}: missing {kind}(s) {list(missing)}{where}"
    if nearest:
        message += f"; nearest: {'; '.join(nearest)}"
    plural = kind + ("es" if kind.endswith(("s", "ch")) else "s")
    message += f"; choose from {listing}{more} ({len(available):,} {plural}){hint}"
    return MissingColumnError(message)


def entry_range(start: int | None, stop: int | None, n: int) -> tuple[int, int]:
    """``[start, stop)`` clipped to ``n`` entries with Python slice semantics (negative counts
    from the end); ``stop`` is never below ``start``."""
    for name, value in (("start", start), ("stop", stop)):
        if value is not None and not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer entry number or None, got {value!r}")
    begin, end, _ = slice(start, stop).indices(n)
    return begin, max(begin, end)


def check_read_lengths(path: PathLike, out: Mapping[str, Column], whole: bool) -> None:
    """Columns read from one file must have one entry each per event; a whole read none empty."""
    lengths = {name: len(arr) for name, arr in out.items()}
    if len(set(lengths.values())) > 1:
        raise DataFileError(f"{path}: columns have different numbers of entries: {lengths}")
    if whole and lengths and next(iter(lengths.values())) == 0:
        raise DataFileError(f"{path}: no entries (columns {sorted(lengths)} are empty)")


def row_count(path: PathLike, columns: Mapping[str, Column]) -> int:
    """Rows of columns about to be written; all must be equally long."""
    if not columns:
        raise DataFileError(f"{path}: no columns to write; pass a dict of name -> array")
    lengths = {name: len(values) for name, values in columns.items()}
    first, n_rows = next(iter(lengths.items()))
    for name, length in lengths.items():
        if length != n_rows:
            raise DataFileError(
                f"{path}: column {name!r} has {length} rows but column {first!r} has {n_rows}; "
                "all columns must have one entry per row"
            )
    return n_rows


def is_jagged(name: str, values: Column, path: PathLike | None = None) -> bool:
    """True for an awkward ``var * number`` column; an error (naming ``path``) for deeper
    nesting or records."""
    if not isinstance(values, ak.Array) or values.ndim == 1:
        return False
    inner = values.type.content
    if isinstance(inner, ak.types.ListType) and isinstance(inner.content, ak.types.NumpyType):
        return True
    if isinstance(inner, ak.types.RegularType) and isinstance(inner.content, ak.types.NumpyType):
        return False
    where = f"{path}: " if path is not None else ""
    raise DataFileError(
        f"{where}column {name!r} has type {values.type}: only flat, fixed-size or singly-jagged "
        "(var * number) columns can be written"
    )


def as_numpy(name: str, values: Column, ndim: int | None = 1,
             path: PathLike | None = None) -> np.ndarray:
    """A column as a numpy array, checking its number of dimensions when ``ndim`` is given."""
    array = ak.to_numpy(values) if isinstance(values, ak.Array) else np.asarray(values)
    if ndim is not None and array.ndim != ndim:
        where = f"{path}: " if path is not None else ""
        raise DataFileError(f"{where}column {name!r} must be one-dimensional, got shape "
                            f"{array.shape}")
    return array


def to_output(values: ak.Array) -> Column:
    """A column read with awkward as numpy when it is regular (flat or fixed-size), else awkward."""
    if values.ndim == 1 or "var" not in str(values.type.content):
        try:
            return ak.to_numpy(values, allow_missing=False)
        except (ValueError, TypeError):
            return values
    return values


def encode_attr(value: Any) -> str | int | float | bool:
    """An attribute value as stored: dicts, lists and None JSON-encoded, numpy scalars as Python."""
    if value is None or isinstance(value, dict | list | tuple):
        return json.dumps(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes as written by :func:`encode_attr`, JSON strings and numpy scalars decoded."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        out[key] = value
    return out


# what libraries raise on unreadable bytes; DataFileError (a ValueError) passes through unchanged
_LIBRARY_ERRORS = (OSError, ValueError, KeyError, IndexError, EOFError, TypeError, RuntimeError,
                   struct.error, zlib.error, UnicodeDecodeError, NotImplementedError)


@contextmanager
def reading(path: PathLike, what: str, errors: tuple[type[BaseException], ...] = _LIBRARY_ERRORS
            ) -> Iterator[None]:
    """Turn a library's exception (one of ``errors``) while reading ``path`` into a
    :class:`DataFileError` naming the file and what it was read as."""
    try:
        yield
    except (DataFileError, FileNotFoundError):
        raise
    except errors as err:
        text = " ".join(str(err).split())[:300]
        raise DataFileError(
            f"{path}: cannot read it as {what} ({type(err).__name__}: {text}); the file may be "
            "truncated or corrupt"
        ) from err


def replace_atomically(tmp: Path, path: Path) -> Path:
    """Move a finished temporary file over ``path``."""
    os.replace(tmp, path)
    return path


def temporary(path: Path) -> Path:
    """A hidden sibling of ``path`` to write before :func:`replace_atomically`."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")
