"""``hepml merge OUTPUT SHARD [SHARD ...]``: concatenate sample shards into one file.

Shards are the files of one sample generated with different seeds (``hepml generate -m
sample=taus seed=1,2,3,4``). They must have the same columns; shards with the same ``seed`` in
their provenance, or with different process codes/labels, are refused, and so is a shard whose
columns differ in length (never zero-filled). The output format follows its suffix (HDF5, ROOT or
parquet, whatever the shards' formats); reading and writing go through :mod:`hepml.data.io`.

Memory: shards are read and appended one at a time through one writer, so the peak is about one
shard (HDF5 output: resizable datasets; ROOT output: one TTree basket per shard; parquet: row
groups). A jagged column read from an HDF5 shard (padded) is rebuilt for ROOT or parquet output from
its count column ``n_<prefix>`` (``n_const`` for ``const_pt``).

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
import numpy as np

from hepml.data import io

log = logging.getLogger(__name__)

__all__ = ["merge"]

_SUMMED = ("n_generated", "n_kept", "n_rows", "cpu_seconds")
_MUST_AGREE = ("sample", "process_codes", "labels")
_OUTPUTS = ("hdf5", "root", "parquet")


class _Shard:
    """Format, column names, row count and provenance of a shard; :meth:`read` loads its columns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = io.detect_format(path)
        if self.format not in ("hdf5", "root"):
            raise io.DataFileError(f"{path}: a {self.format} file; shards are HDF5 or ROOT files "
                                   "written by hepml generate")
        self.tree = self._tree() if self.format == "root" else None
        infos = io.list_columns(path, tree=self.tree)
        counters = {c.counter for c in infos if c.counter}  # ROOT writes them with their lists
        self.columns = [c.name for c in infos if c.name not in counters]
        self.jagged = {c.name for c in infos if c.jagged}
        self.rows = io.num_entries(path, tree=self.tree)
        self.attrs = io.read_attrs(path, tree=self.tree)

    def _tree(self) -> str:
        trees = io.list_trees(self.path)
        if "events" in trees or len(trees) == 1:
            return "events" if "events" in trees else next(iter(trees))
        raise io.DataFileError(f"{self.path}: holds trees {sorted(trees)} and none named 'events'")

    def read(self, padded: bool) -> dict[str, np.ndarray | ak.Array]:
        """Columns in file order; jagged ones padded (HDF5 output) or as awkward lists.

        Raises a DataFileError naming the shard when its columns differ in length.
        """
        cols = io.read_columns(self.path, self.columns, tree=self.tree)
        if padded or self.format != "hdf5":
            return cols
        for name in self.jagged:
            count = f"n_{name.partition('_')[0]}"
            if count not in cols:
                raise io.DataFileError(f"{self.path}: cannot rebuild the jagged column {name!r} "
                                       f"without its count column {count!r}; merge to HDF5 instead")
            counts = cols[count].astype(np.int64)
            mask = np.arange(cols[name].shape[1])[None, :] < counts[:, None]
            cols[name] = ak.unflatten(cols[name][mask], counts)
        return cols


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
        If the shards differ in columns, repeat a seed, hold columns of different lengths
        (:class:`hepml.data.io.DataFileError`), or the output is one of them.
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
    fmt = next((f for f in _OUTPUTS if output.name.lower().endswith(io.FORMATS[f])), None)
    if fmt is None:
        suffixes = tuple(s for f in _OUTPUTS for s in io.FORMATS[f])
        raise ValueError(f"output {output}: use a suffix among {suffixes}")
    infos = [_Shard(p) for p in paths]
    _check(infos)
    order = infos[0].columns
    tmp = output.with_name(f".{output.stem}.tmp{output.suffix}")
    jagged = set().union(*(s.jagged for s in infos))
    rows = 0
    with io.open_writer(tmp, format=fmt, tree="events", attrs=_provenance(infos),
                        jagged=jagged) as writer:
        for shard in infos:
            columns = shard.read(padded=fmt == "hdf5")
            if shard.rows:
                writer.append({n: columns[n] for n in order})
                rows += shard.rows
        if rows == 0:
            writer.append({n: columns[n] for n in order})  # the columns, without rows
    os.replace(tmp, output)
    log.info("merged %d shards (%d rows) into %s", len(infos), rows, output)
    return output
