"""Read files into in-memory event arrays, a chunk at a time, into arrays allocated once.

Each chunk of entries is read, transformed (:func:`hepml.data.columns.transform`) and copied into
its place, so the peak memory while loading stays close to the final arrays (no whole-file raw
copy next to them, no float64 intermediates of the whole sample).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepml.data import io
from hepml.data.columns import EventArrays, needed_columns, transform
from hepml.data.schema import DataConfigError, DataSchema, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileSpec:
    """One file to read: its path, the source it belongs to (index into ``schema.sources``) and
    the reader options (tree, CSV names/delimiter, format)."""

    path: str
    source: int = 0
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)


def file_specs(
    schema: DataSchema, files: Sequence[str] | None, options: dict[str, Any]
) -> list[FileSpec]:
    """The files of ``data.files`` (globs expanded) or of every source, in order."""
    opts = tuple(sorted((k, v) for k, v in options.items() if v is not None))
    if schema.sources:
        out = []
        for i, src in enumerate(schema.sources):
            src_opts = dict(opts)
            if src.tree is not None:
                src_opts["tree"] = src.tree
            out += [FileSpec(p, i, tuple(sorted(src_opts.items()))) for p in io.expand_files(src.files)]
        return out
    return [FileSpec(p, 0, opts) for p in io.expand_files(list(files or []))]


def source_of(schema: DataSchema, spec: FileSpec) -> Source | None:
    return schema.sources[spec.source] if schema.sources else None


def read_chunks(
    schema: DataSchema, spec: FileSpec, chunk_size: int, limit: int | None = None,
    n_entries: int | None = None,
) -> Iterator[EventArrays]:
    """Event arrays of ``spec``'s file, ``chunk_size`` entries at a time (at most ``limit`` entries).

    Formats with cheap entry ranges (HDF5, ROOT, parquet) are read a chunk at a time; a CSV file
    is parsed once and transformed a slice at a time.
    """
    kwargs = spec.kwargs
    n = io.num_entries(spec.path, **kwargs) if n_entries is None else n_entries
    if n == 0:
        raise io.DataFileError(f"{spec.path}: no entries")
    if limit is not None:
        n = min(n, limit)
    source = source_of(schema, spec)
    columns = needed_columns(schema, source)
    whole = None
    if io.detect_format(spec.path, kwargs.get("format")) == "csv":
        whole = io.read_columns(spec.path, columns, **kwargs)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        if whole is None:
            raw = io.read_columns(spec.path, columns, start=start, stop=stop, **kwargs)
        else:
            raw = {k: v[start:stop] for k, v in whole.items()}
        yield transform(schema, raw, path=spec.path, source=source, source_index=spec.source,
                        entry_start=start)


class _Buffers:
    """Event arrays allocated on the first chunk for ``capacity`` events and filled in place."""

    def __init__(self, capacity: int):
        self.capacity, self.n, self.tree = capacity, 0, None

    def add(self, part: EventArrays) -> None:
        m = len(part["entry"])
        if self.tree is None:
            self.tree = _allocate(part, self.capacity)
        _copy(self.tree, part, self.n, self.n + m)
        self.n += m

    def result(self) -> EventArrays:
        if self.tree is None:
            raise DataConfigError("no events were read")
        if self.n < self.capacity // 2:  # a selection dropped most events: release the rest
            return _map(self.tree, lambda a: np.ascontiguousarray(a[: self.n]))
        return _map(self.tree, lambda a: a[: self.n])


def load_events(
    schema: DataSchema, specs: Sequence[FileSpec], chunk_size: int = 20_000,
    max_events: int | None = None,
) -> tuple[EventArrays, list[int]]:
    """Event arrays of every file concatenated, and the number of events each file gave."""
    sizes = [io.num_entries(s.path, **s.kwargs) for s in specs]
    for s, n in zip(specs, sizes, strict=True):
        if n == 0:
            raise io.DataFileError(f"{s.path}: no entries")
    capacity = sum(sizes) if max_events is None else min(sum(sizes), int(max_events))
    buffers = _Buffers(capacity)
    per_file: list[int] = []
    for spec in specs:
        left = None if max_events is None else capacity - buffers.n
        if left is not None and left <= 0:
            per_file.append(0)
            continue
        before = buffers.n
        for part in read_chunks(schema, spec, chunk_size, limit=left, n_entries=sizes[len(per_file)]):
            buffers.add(part)
        per_file.append(buffers.n - before)
    arrays = buffers.result()
    if buffers.n == 0:
        raise DataConfigError(f"no events passed the selection {schema.selection.text!r}" if schema.selection
                         else "the data files hold no events")
    return arrays, per_file


def _allocate(part: Any, capacity: int) -> Any:
    if isinstance(part, dict):
        return {k: _allocate(v, capacity) for k, v in part.items()}
    return np.empty((capacity, *part.shape[1:]), dtype=part.dtype)


def _copy(dest: Any, part: Any, start: int, stop: int) -> None:
    if isinstance(dest, dict):
        for k, v in dest.items():
            _copy(v, part[k], start, stop)
        return
    if part.shape[1:] != dest.shape[1:]:
        raise io.DataFileError(f"files disagree on a per-event shape: {part.shape[1:]} vs {dest.shape[1:]}")
    dest[start:stop] = part


def _map(tree: Any, fn) -> Any:
    if isinstance(tree, dict):
        return {k: _map(v, fn) for k, v in tree.items()}
    return fn(tree)
