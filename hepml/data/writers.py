"""Writing column-oriented samples (one row per object) to HDF5 or ROOT files.

The format follows the file suffix:

* ``.h5`` / ``.hdf5``: one gzip-compressed dataset per column at the file root. A jagged awkward
  column (``var * number``) is stored as a 2D ``float32`` array ``[row, index]`` padded with
  ``0.0`` up to the longest row; the dataset gets the attributes ``jagged = True`` and
  ``pad_value = 0.0``. The per-row count is not written automatically: write it as an ordinary
  column (e.g. ``n_const``). ``attrs`` become the file's root attributes; dict and list values are
  JSON-encoded strings.
* ``.root``: a TTree named ``tree`` created with ``uproot.recreate`` + ``mktree`` + ``extend``
  (in uproot 5.7 ``file[name] = {...}`` would write an RNTuple instead). Jagged columns are jagged
  branches; jagged columns sharing a prefix (``const_pt``, ``const_eta``, ...) and the same
  counts are written as one group with one counter branch ``n<prefix>`` (e.g. ``nconst``), other
  jagged columns get their own counter ``n<name>``. ``attrs`` are stored as a JSON string in a
  ``TObjString`` named ``provenance``: ``json.loads(str(uproot.open(path)["provenance"]))``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["HDF5_SUFFIXES", "ROOT_SUFFIXES", "write_columns"]

HDF5_SUFFIXES = (".h5", ".hdf5")
ROOT_SUFFIXES = (".root",)

Column = np.ndarray | ak.Array
AttrValue = str | int | float | bool | dict | list

_ROOT_ROWS_PER_BASKET = 100_000


def _is_jagged(name: str, values: Column) -> bool:
    if not isinstance(values, ak.Array) or values.ndim == 1:
        return False
    inner = values.type.content
    if isinstance(inner, ak.types.ListType) and isinstance(inner.content, ak.types.NumpyType):
        return True
    raise ValueError(
        f"column {name!r} has type {values.type}: only flat or singly-jagged (var * number) "
        "columns are supported"
    )


def _flat(name: str, values: Column) -> np.ndarray:
    array = ak.to_numpy(values) if isinstance(values, ak.Array) else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {array.shape}")
    return array


def _check_lengths(columns: Mapping[str, Column]) -> int:
    if not columns:
        raise ValueError("no columns to write")
    lengths = {name: len(values) for name, values in columns.items()}
    first, n_rows = next(iter(lengths.items()))
    for name, length in lengths.items():
        if length != n_rows:
            raise ValueError(
                f"column {name!r} has {length} rows but column {first!r} has {n_rows}; "
                "all columns must have one entry per row"
            )
    return n_rows


def _attr_value(value: AttrValue) -> str | int | float | bool:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _pad(values: ak.Array) -> np.ndarray:
    width = int(ak.max(ak.num(values), initial=0, mask_identity=False))
    if len(values) == 0 or width == 0:
        return np.zeros((len(values), width), dtype=np.float32)
    padded = ak.fill_none(ak.pad_none(values, width, clip=True), 0.0)
    return ak.to_numpy(ak.values_astype(padded, np.float32))


def _write_hdf5(path: Path, columns: Mapping[str, Column], attrs: Mapping[str, AttrValue]) -> None:
    import h5py

    with h5py.File(path, "w") as handle:
        for name, values in columns.items():
            if _is_jagged(name, values):
                data = _pad(values)
                compression = "gzip" if data.size else None
                dataset = handle.create_dataset(name, data=data, compression=compression)
                dataset.attrs["jagged"] = True
                dataset.attrs["pad_value"] = 0.0
            else:
                data = _flat(name, values)
                compression = "gzip" if data.size else None
                handle.create_dataset(name, data=data, compression=compression)
        for key, value in attrs.items():
            handle.attrs[key] = _attr_value(value)


def _root_branches(columns: Mapping[str, Column]) -> dict[str, np.ndarray | ak.Array]:
    """Flat columns as numpy arrays, jagged columns grouped by prefix and shared counts."""
    branches: dict[str, np.ndarray | ak.Array] = {}
    jagged: dict[str, ak.Array] = {}
    for name, values in columns.items():
        if _is_jagged(name, values):
            jagged[name] = values
        else:
            branches[name] = _flat(name, values)

    groups: dict[str, list[str]] = {}
    for name in jagged:
        prefix, sep, rest = name.partition("_")
        groups.setdefault(prefix if sep and rest else name, []).append(name)
    for prefix, names in groups.items():
        counts = ak.to_numpy(ak.num(jagged[names[0]]))
        shared = len(names) > 1 and all(
            np.array_equal(ak.to_numpy(ak.num(jagged[n])), counts) for n in names[1:]
        )
        if shared:
            fields = {n[len(prefix) + 1 :]: jagged[n] for n in names}
            branches[prefix] = ak.zip(fields, depth_limit=None)
        else:
            branches.update({n: jagged[n] for n in names})
    for name, values in branches.items():
        counter = f"n{name}"
        if isinstance(values, ak.Array) and counter in branches:
            raise ValueError(
                f"the counter branch {counter!r} of jagged column(s) {name!r} collides with a "
                f"column of the same name; rename column {counter!r}"
            )
    return branches


def _write_root(
    path: Path, columns: Mapping[str, Column], attrs: Mapping[str, AttrValue], tree: str, n: int
) -> None:
    import uproot

    branches = _root_branches(columns)
    types = {
        name: values.type.content if isinstance(values, ak.Array) else values.dtype
        for name, values in branches.items()
    }
    with uproot.recreate(path) as handle:
        ttree = handle.mktree(tree, types)
        for start in range(0, max(n, 1), _ROOT_ROWS_PER_BASKET):
            stop = min(start + _ROOT_ROWS_PER_BASKET, n)
            if stop <= start:
                break
            ttree.extend({name: values[start:stop] for name, values in branches.items()})
        if attrs:
            provenance = {key: _attr_value(value) for key, value in attrs.items()}
            handle["provenance"] = json.dumps(provenance)


def write_columns(
    path: str | Path,
    columns: Mapping[str, Column],
    attrs: Mapping[str, AttrValue] | None = None,
    tree: str = "events",
) -> Path:
    """Write equally long columns to an HDF5 or ROOT file chosen by the suffix of ``path``.

    Parameters
    ----------
    path
        Output file, ``.h5``/``.hdf5`` or ``.root``; parent folders are created.
    columns
        Column name to values: 1D numpy arrays or awkward arrays, flat or ``var * number``.
    attrs
        Provenance (strings, numbers; dicts and lists are JSON-encoded). HDF5: root attributes;
        ROOT: a JSON ``TObjString`` named ``provenance``.
    tree
        Name of the TTree (ROOT only).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If the suffix is not a known format, or a column's length differs from the others.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in HDF5_SUFFIXES + ROOT_SUFFIXES:
        raise ValueError(
            f"unknown output format {path.suffix!r} for {path}: use one of "
            f"{', '.join(HDF5_SUFFIXES + ROOT_SUFFIXES)}"
        )
    n_rows = _check_lengths(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    attrs = dict(attrs or {})
    if suffix in HDF5_SUFFIXES:
        _write_hdf5(path, columns, attrs)
    else:
        _write_root(path, columns, attrs, tree, n_rows)
    logger.info("wrote %d rows x %d columns to %s", n_rows, len(columns), path)
    return path
