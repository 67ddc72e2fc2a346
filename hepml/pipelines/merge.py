"""``hepml merge OUTPUT SHARD [SHARD ...]``: concatenate sample shards into one file.

Shards are the files of one sample generated with different seeds (``hepml generate -m
sample=taus seed=1,2,3,4``). They must have the same columns; shards with the same ``seed`` in
their provenance, or with different process codes/labels, are refused. The output format follows
its suffix (HDF5 or ROOT, whatever the shards' formats).

Memory: shards are read and appended one at a time, so the peak is about one shard (HDF5 output:
resizable datasets; ROOT output: one TTree basket per shard). A jagged column read from an HDF5
shard (padded) is rebuilt for ROOT output from its count column ``n_<prefix>`` (``n_const`` for
``const_pt``).

Provenance: values equal in all shards are kept, per-process counts (``n_generated``, ``n_kept``,
``n_rows``, ``cpu_seconds``) are summed, ``chunk_seeds`` concatenated, ``efficiency`` recomputed,
and any other differing value (``seed``, ``config``, ``created``, ...) becomes the list of the
shards' values; ``merged_from`` lists the shards with their rows.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import h5py
import numpy as np
import uproot

from hepml.data.writers import HDF5_SUFFIXES, ROOT_SUFFIXES, _root_branches

log = logging.getLogger(__name__)

__all__ = ["merge"]

_SUMMED = ("n_generated", "n_kept", "n_rows", "cpu_seconds")
_MUST_AGREE = ("sample", "process_codes", "labels")


def _decode(attrs: dict) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        out[key] = value
    return out


def _encode(value: Any) -> str | int | float | bool:
    """An attribute value as written by :func:`hepml.data.writers.write_columns`."""
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


class _Shard:
    """Column names, row count and provenance of a shard; :meth:`read` loads its columns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix.lower() in HDF5_SUFFIXES:
            with h5py.File(path, "r") as handle:
                self.columns = list(handle)
                self.rows = len(handle[self.columns[0]]) if self.columns else 0
                self.attrs = _decode(dict(handle.attrs))
        elif path.suffix.lower() in ROOT_SUFFIXES:
            with uproot.open(path) as handle:
                tree = self._tree(handle)
                counters = {b.count_branch.name for b in tree.branches if b.count_branch is not None}
                self.columns = [b.name for b in tree.branches if b.name not in counters]
                self.rows = int(tree.num_entries)
                text = str(handle["provenance"]) if "provenance" in handle else "{}"
                self.attrs = _decode(json.loads(text))
        else:
            raise ValueError(f"{path}: unknown shard format; use {HDF5_SUFFIXES + ROOT_SUFFIXES}")

    @staticmethod
    def _tree(handle) -> uproot.TTree:
        trees = [k.split(";")[0] for k, c in handle.classnames().items() if c == "TTree"]
        if not trees:
            raise ValueError(f"{handle.file_path} holds no TTree")
        return handle["events" if "events" in trees else trees[0]]

    def read(self, jagged_as: str) -> dict[str, np.ndarray | ak.Array]:
        """Columns; jagged ones as padded 2D arrays (``jagged_as="padded"``) or awkward."""
        if self.path.suffix.lower() in ROOT_SUFFIXES:
            with uproot.open(self.path) as handle:
                arrays = self._tree(handle).arrays(self.columns, library="ak")
            cols = {n: arrays[n] if arrays[n].ndim > 1 else ak.to_numpy(arrays[n])
                    for n in self.columns}
            return {n: _pad(v) if jagged_as == "padded" and isinstance(v, ak.Array) else v
                    for n, v in cols.items()}
        with h5py.File(self.path, "r") as handle:
            cols = {n: handle[n][()] for n in self.columns}
            jagged = [n for n in self.columns if handle[n].attrs.get("jagged", False)]
        if jagged_as == "awkward":
            for name in jagged:
                count = f"n_{name.partition('_')[0]}"
                if count not in cols:
                    raise ValueError(f"{self.path}: cannot rebuild the jagged column {name!r} for "
                                     f"ROOT output without its count column {count!r}; merge to "
                                     "HDF5 instead")
                counts = cols[count].astype(np.int64)
                mask = np.arange(cols[name].shape[1])[None, :] < counts[:, None]
                cols[name] = ak.unflatten(cols[name][mask], counts)
        return cols


def _pad(values: ak.Array) -> np.ndarray:
    width = int(ak.max(ak.num(values), initial=0))
    padded = ak.fill_none(ak.pad_none(values, width, clip=True), 0.0)
    return ak.to_numpy(ak.values_astype(padded, np.float32)).reshape(len(values), width)


def _append_hdf5(handle: h5py.File, columns: dict[str, np.ndarray], start: int) -> None:
    for name, data in columns.items():
        if name not in handle:
            shape, maxshape = (0,) * data.ndim, (None,) * data.ndim
            chunks = (4096,) if data.ndim == 1 else (512, 32)
            ds = handle.create_dataset(name, shape, data.dtype, maxshape=maxshape, chunks=chunks,
                                       compression="gzip")
            if data.ndim == 2:
                ds.attrs["jagged"], ds.attrs["pad_value"] = True, 0.0
        ds = handle[name]
        width = max(ds.shape[1], data.shape[1]) if data.ndim == 2 else None
        ds.resize((start + len(data), width) if width is not None else (start + len(data),))
        if data.size and data.ndim == 2:
            ds[start:, : data.shape[1]] = data
        elif data.size:
            ds[start:] = data


def _provenance(shards: list[_Shard]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    keys = {k for s in shards for k in s.attrs}
    for key in sorted(keys):
        values = [s.attrs.get(key) for s in shards]
        if key in _SUMMED and all(isinstance(v, dict) for v in values):
            merged[key] = {p: sum(v.get(p, 0) for v in values) for p in values[0]}
        elif key == "chunk_seeds" and all(isinstance(v, dict) for v in values):
            merged[key] = {p: [x for v in values for x in v.get(p, [])] for p in values[0]}
        elif all(v == values[0] for v in values):
            merged[key] = values[0]
        else:
            merged[key] = values
    if isinstance(merged.get("n_generated"), dict) and isinstance(merged.get("n_kept"), dict):
        merged["efficiency"] = {p: merged["n_kept"][p] / max(n, 1)
                                for p, n in merged["n_generated"].items()}
    merged["merged_from"] = [{"file": str(s.path), "seed": s.attrs.get("seed"), "rows": s.rows}
                             for s in shards]
    return merged


def _check(shards: list[_Shard]) -> None:
    first = shards[0]
    for shard in shards[1:]:
        if set(shard.columns) != set(first.columns):
            raise ValueError(
                f"{shard.path} and {first.path} have different columns (only in one of them: "
                f"{sorted(set(shard.columns) ^ set(first.columns))}): merge shards of one sample"
            )
    seeds: dict[Any, Path] = {}
    for shard in shards:
        seed = shard.attrs.get("seed")
        if seed is not None and seed in seeds:
            raise ValueError(f"{shard.path} and {seeds[seed]} were both generated with seed "
                             f"{seed}: they hold the same events; drop one of them")
        seeds[seed] = shard.path
    for key in _MUST_AGREE:
        values = {json.dumps(s.attrs.get(key), sort_keys=True) for s in shards if key in s.attrs}
        if len(values) > 1:
            raise ValueError(f"shards disagree on {key!r} ({sorted(values)}): merge shards of one "
                             "sample config only")
    if not any(seeds) and len(shards) > 1:
        log.warning("the shards carry no seed in their provenance: duplicates cannot be detected")
    per_process: dict[str, set] = {}
    for shard in shards:
        for process, values in (shard.attrs.get("chunk_seeds") or {}).items():
            repeated = per_process.setdefault(process, set()) & set(values)
            if repeated:
                log.warning("process %s: chunk seeds %s occur in several shards (their events are "
                            "duplicated)", process, sorted(repeated)[:5])
            per_process[process] |= set(values)


def merge(output: str | Path, shards: Sequence[str | Path]) -> Path:
    """Concatenate ``shards`` (HDF5/ROOT files of one sample) into ``output``, shard by shard.

    Raises
    ------
    FileNotFoundError
        If a shard does not exist.
    ValueError
        If the shards differ in columns, repeat a seed, or the output is one of them.
    """
    output, paths = Path(output), [Path(s) for s in shards]
    if not paths:
        raise ValueError("give at least one shard to merge")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"shards not found: {', '.join(missing)}")
    if len({p.resolve() for p in paths}) != len(paths):
        raise ValueError("a shard is listed twice: list every shard once")
    if output.resolve() in {p.resolve() for p in paths}:
        raise ValueError(f"the output {output} is one of the shards: choose another output file")
    suffix = output.suffix.lower()
    if suffix not in HDF5_SUFFIXES + ROOT_SUFFIXES:
        raise ValueError(f"output {output}: use a suffix among {HDF5_SUFFIXES + ROOT_SUFFIXES}")
    infos = [_Shard(p) for p in paths]
    _check(infos)
    order = infos[0].columns
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.tmp{output.suffix}")
    attrs = _provenance(infos)
    if suffix in HDF5_SUFFIXES:
        with h5py.File(tmp, "w") as handle:
            start = 0
            for shard in infos:
                columns = shard.read("padded")
                _append_hdf5(handle, {n: columns[n] for n in order}, start)
                start += shard.rows
            for key, value in attrs.items():
                handle.attrs[key] = _encode(value)
    else:
        with uproot.recreate(tmp) as handle:
            tree = None
            for shard in infos:
                columns = shard.read("awkward")
                branches = _root_branches({n: columns[n] for n in order})
                if tree is None:
                    types = {n: v.type.content if isinstance(v, ak.Array) else v.dtype
                             for n, v in branches.items()}
                    tree = handle.mktree("events", types)
                if shard.rows:
                    tree.extend(branches)
            handle["provenance"] = json.dumps({k: _encode(v) for k, v in attrs.items()})
    os.replace(tmp, output)
    log.info("merged %d shards (%d rows) into %s", len(infos), sum(s.rows for s in infos), output)
    return output
