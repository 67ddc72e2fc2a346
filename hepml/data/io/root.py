"""ROOT files: TTrees (flat, fixed-size and jagged branches) and RNTuples, read with uproot.

Reading: flat branches come back as 1D numpy arrays, fixed-size array branches as numpy
``[n, ...]``, jagged branches as awkward ``var * number``. NanoAOD-style branches (``Jet_pt`` with
the count branch ``nJet``) are jagged branches; :func:`list_columns` reports their counter. An
entry range is passed to uproot as ``entry_start``/``entry_stop``, so only the baskets it touches
are read. ``tree=None`` picks the file's only TTree (or RNTuple); a file holding several names
them. Writing lives in :mod:`hepml.data.io.root_write`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from hepml.data.io.base import (
    Column,
    ColumnInfo,
    DataFileError,
    decode_attrs,
    entry_range,
    missing_error,
    reading,
    to_output,
)

log = logging.getLogger(__name__)

_WHAT = "a ROOT file"
RNTUPLE = "ROOT::RNTuple"


def _open(path: Path) -> uproot.ReadOnlyDirectory:
    with reading(path, _WHAT):
        return uproot.open(path)


def list_trees(path: Path) -> dict[str, str]:
    """Names of the TTrees and RNTuples in a ROOT file (subdirectories included) -> class name."""
    with _open(path) as f, reading(path, _WHAT):
        return _trees(f)


def _trees(f: uproot.ReadOnlyDirectory) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, cls in f.classnames().items():
        if cls.startswith("TTree") or cls.startswith("TNtuple") or cls == RNTUPLE:
            found.setdefault(key.rsplit(";", 1)[0], "RNTuple" if cls == RNTUPLE else "TTree")
    return found


def _pick(path: Path, f: uproot.ReadOnlyDirectory, tree: str | None):
    trees = _trees(f)
    if not trees:
        held = sorted({f"{k.rsplit(';', 1)[0]!r} ({c})" for k, c in f.classnames().items()})
        raise DataFileError(f"{path}: holds no TTree or RNTuple (objects: "
                            f"{', '.join(held[:20]) or 'none'}); hepml reads trees of events")
    listing = ", ".join(f"{name!r} ({cls})" for name, cls in trees.items())
    if tree is None:
        if len(trees) != 1:
            raise DataFileError(f"{path}: holds {len(trees)} trees ({listing}); name one with "
                                "data.tree=NAME (hepml inspect --tree NAME)")
        tree = next(iter(trees))
    if tree not in trees:
        raise DataFileError(f"{path}: no TTree or RNTuple {tree!r}; the file holds {listing}")
    return f[tree], trees[tree]


def _counters(obj, kind: str) -> set[str]:
    if kind != "TTree":
        return set()
    return {b.count_branch.name for b in obj.branches if b.count_branch is not None}


def read(path: Path, columns: Sequence[str], start: int | None = None, stop: int | None = None,
         tree: str | None = None) -> dict[str, Column]:
    """Read branches (RNTuple fields) ``columns``, whole or entries ``[start, stop)``."""
    with _open(path) as f, reading(path, _WHAT):
        obj, kind = _pick(path, f, tree)
        keys = list(obj.keys())
        missing = [c for c in columns if c not in set(keys)]
        if missing:
            raise missing_error(path, missing, keys, kind="branch" if kind == "TTree" else "field",
                                where=f" in {kind} {obj.name!r}")
        begin, end = entry_range(start, stop, int(obj.num_entries))
        if not columns:
            return {}
        if kind == "TTree":
            arrays = obj.arrays(list(columns), library="ak", how=dict, entry_start=begin,
                                entry_stop=end)
        else:
            record = obj.arrays(list(columns), entry_start=begin, entry_stop=end)
            arrays = {c: record[c] for c in columns}
    return {c: to_output(arrays[c]) for c in columns}


def num_entries(path: Path, tree: str | None = None) -> int:
    """Entries of the tree (from its metadata, no basket is read)."""
    with _open(path) as f, reading(path, _WHAT):
        obj, _ = _pick(path, f, tree)
        return int(obj.num_entries)


def _branch_info(branch) -> ColumnInfo:
    interp = branch.interpretation
    counter = branch.count_branch.name if branch.count_branch is not None else None
    if isinstance(interp, uproot.AsJagged) and isinstance(interp.content, uproot.AsDtype):
        dtype = interp.content.to_dtype
        return ColumnInfo(branch.name, dtype.base.name, (None, *dtype.shape), True, counter)
    if isinstance(interp, uproot.AsDtype):
        dtype = interp.to_dtype
        return ColumnInfo(branch.name, dtype.base.name, tuple(dtype.shape), False, counter)
    if isinstance(interp, uproot.AsStrings):
        return ColumnInfo(branch.name, "string", (), False, counter)
    return ColumnInfo(branch.name, str(branch.typename), (), counter is not None, counter)


def _form_info(name: str, form) -> ColumnInfo:
    shape: list[int | None] = []
    jagged = False
    while not isinstance(form, ak.forms.NumpyForm):
        if isinstance(form, ak.forms.ListOffsetForm | ak.forms.ListForm):
            shape.append(None)
            jagged = True
        elif isinstance(form, ak.forms.RegularForm):
            shape.append(form.size)
        else:
            return ColumnInfo(name, type(form).__name__, tuple(shape), jagged)
        form = form.content
    return ColumnInfo(name, np.dtype(form.primitive).name, (*shape, *form.inner_shape), jagged)


def list_columns(path: Path, tree: str | None = None) -> list[ColumnInfo]:
    """Every branch (RNTuple field) with its type, per-entry shape and counter."""
    with _open(path) as f, reading(path, _WHAT):
        obj, kind = _pick(path, f, tree)
        if kind == "TTree":
            return [_branch_info(branch) for _, branch in obj.iteritems()]
        form = obj.to_akform()
        form = form[0] if isinstance(form, tuple) else form
        return [_form_info(n, form.content(n)) for n in form.fields]


def counter_branches(path: Path, tree: str | None = None) -> set[str]:
    """Count branches of jagged branches (written by uproot along with the lists they count)."""
    with _open(path) as f, reading(path, _WHAT):
        obj, kind = _pick(path, f, tree)
        return _counters(obj, kind)


def read_attrs(path: Path, tree: str | None = None) -> dict:
    """Provenance written by :mod:`hepml.data.io.root_write` (a JSON ``TObjString`` named
    ``provenance``); ``{}`` when the file has none."""
    with _open(path) as f, reading(path, _WHAT):
        if "provenance" not in f:
            return {}
        text = str(f["provenance"])
    try:
        return decode_attrs(json.loads(text))
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path}: the 'provenance' string is not JSON ({err})") from err
