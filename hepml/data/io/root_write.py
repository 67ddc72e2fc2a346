"""Writing ROOT TTrees with uproot (``recreate`` + ``mktree`` + ``extend``).

In uproot 5.7 ``file[name] = {...}`` would write an RNTuple; hepml writes TTrees, which every ROOT
version reads. Flat columns are flat branches, fixed-size numpy columns (``[n, 3]``, images) are
fixed-size array branches, jagged columns are jagged branches. Jagged columns sharing a prefix
(``const_pt``, ``const_eta``, ...) and the same counts are written as one group with one counter
branch ``n<prefix>`` (``nconst``; NanoAOD's ``nJet`` for ``Jet_pt``, ``Jet_eta``); other jagged
columns get their own counter ``n<name>``. A flat column already named like a counter and equal to
the counts (a NanoAOD ``nJet`` read back) is left to uproot to write. ``attrs`` are stored as a
JSON string in a ``TObjString`` named ``provenance``:
``json.loads(str(uproot.open(path)["provenance"]))``.

Appending to an existing file rewrites it (uproot cannot extend a jagged TTree it did not create in
the same session): the old entries are copied once, then every further batch is extended.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from hepml.data.io.base import (
    AttrValue,
    Column,
    DataFileError,
    as_numpy,
    encode_attr,
    is_jagged,
    replace_atomically,
    row_count,
    temporary,
)
from hepml.data.io.root import counter_branches, list_columns, list_trees, read, read_attrs

log = logging.getLogger(__name__)

_ROWS_PER_BASKET = 100_000


def _unpadded(name: str, values: Column, path: Path | None) -> Column:
    if isinstance(values, ak.Array) and values.ndim > 1 and not is_jagged(name, values, path):
        return ak.to_numpy(values)
    return values


def root_branches(columns: Mapping[str, Column],
                  path: Path | None = None) -> dict[str, np.ndarray | ak.Array]:
    """Flat and fixed-size columns as numpy arrays, jagged columns grouped by prefix and counts
    (errors name ``path``)."""
    branches: dict[str, np.ndarray | ak.Array] = {}
    jagged: dict[str, ak.Array] = {}
    for name, values in columns.items():
        values = _unpadded(name, values, path)
        if is_jagged(name, values, path):
            jagged[name] = values
        else:
            branches[name] = as_numpy(name, values, ndim=None, path=path)
    groups: dict[str, list[str]] = {}
    for name in jagged:
        prefix, sep, rest = name.partition("_")
        groups.setdefault(prefix if sep and rest else name, []).append(name)
    counts: dict[str, np.ndarray] = {}
    for prefix, names in groups.items():
        first = ak.to_numpy(ak.num(jagged[names[0]]))
        shared = len(names) > 1 and all(
            np.array_equal(ak.to_numpy(ak.num(jagged[n])), first) for n in names[1:]
        )
        if shared:
            branches[prefix] = ak.zip({n[len(prefix) + 1:]: jagged[n] for n in names},
                                      depth_limit=None)
            counts[f"n{prefix}"] = first
        else:
            for n in names:
                branches[n] = jagged[n]
                counts[f"n{n}"] = ak.to_numpy(ak.num(jagged[n]))
    for counter, n in counts.items():
        if counter not in branches:
            continue
        flat = branches[counter]
        if isinstance(flat, np.ndarray) and flat.ndim == 1 and np.array_equal(flat, n):
            del branches[counter]  # uproot writes this counter itself
            continue
        raise DataFileError(
            f"{path or 'ROOT output'}: the counter branch {counter!r} of a jagged column collides "
            f"with a column of the same name holding other values; rename column {counter!r}"
        )
    return branches


def _types(branches: Mapping[str, np.ndarray | ak.Array]) -> dict:
    types = {}
    for name, values in branches.items():
        if isinstance(values, ak.Array):
            types[name] = values.type.content
        elif values.ndim > 1:
            types[name] = np.dtype((values.dtype, values.shape[1:]))
        else:
            types[name] = values.dtype
    return types


class Writer:
    """Write batches of columns as one TTree.

    Parameters
    ----------
    path
        Output file.
    attrs
        Provenance, stored as the JSON ``TObjString`` ``provenance`` when the file is closed.
    tree
        TTree name.
    mode
        ``"w"`` creates the file; ``"a"`` copies an existing file's tree and appends after it.
    jagged
        Unused (HDF5 only); jagged columns are awkward arrays here.
    """

    def __init__(self, path: Path, attrs: Mapping[str, AttrValue] | None = None,
                 tree: str = "events", mode: str = "w", jagged: Collection[str] = ()) -> None:
        self.path, self.tree_name, self.rows = Path(path), tree, 0
        self._attrs = dict(attrs or {})
        self._tree = None
        self._names: list[str] | None = None
        old = None
        if mode == "a" and self.path.exists():
            old = self._existing()
        self._target = temporary(self.path) if old is not None else self.path
        self._file = uproot.recreate(self._target)
        if old:
            self.append(old)

    def _existing(self) -> dict[str, Column]:
        names = list_trees(self.path)
        if self.tree_name not in names:
            raise DataFileError(f"{self.path}: no TTree {self.tree_name!r} to append to; the file "
                                f"holds {sorted(names)}")
        counters = counter_branches(self.path, self.tree_name)
        columns = [c.name for c in list_columns(self.path, self.tree_name)
                   if c.name not in counters]
        self._attrs = {**read_attrs(self.path), **self._attrs}
        return read(self.path, columns, tree=self.tree_name)

    def append(self, columns: Mapping[str, Column]) -> None:
        """Extend the tree with the rows of ``columns`` (the same names every batch)."""
        n = row_count(self.path, columns)
        if self._names is not None and set(columns) != set(self._names):
            raise DataFileError(
                f"{self.path}: cannot append columns {sorted(columns)} to TTree "
                f"{self.tree_name!r} holding {sorted(self._names)}"
            )
        branches = root_branches(columns, self.path)
        if self._tree is None:
            self._names = list(columns)
            self._tree = self._file.mktree(self.tree_name, _types(branches))
        for start in range(0, n, _ROWS_PER_BASKET):
            self._tree.extend({k: v[start:start + _ROWS_PER_BASKET] for k, v in branches.items()})
        self.rows += n

    def close(self, failed: bool = False) -> None:
        """Write the provenance and close; ``failed`` drops a rewrite, keeping the old file."""
        if self._attrs and not failed:
            provenance = {key: encode_attr(value) for key, value in self._attrs.items()}
            self._file["provenance"] = json.dumps(provenance)
        self._file.close()
        if self._target != self.path:
            if failed:
                self._target.unlink(missing_ok=True)
            else:
                replace_atomically(self._target, self.path)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        self.close(failed=exc_type is not None)


def append(path: Path, columns: Mapping[str, Column], tree: str = "events") -> None:
    """Append rows to the TTree ``tree`` of ``path`` (created when missing), rewriting the file."""
    with Writer(path, tree=tree, mode="a") as writer:
        writer.append(columns)
