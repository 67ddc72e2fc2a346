"""A :class:`~hepml.data.streaming.data.StreamingData` for a data schema: its files or sources, the
columns it reads, the pure transform of :mod:`hepml.data.columns` and its statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

from hepml.data.columns import needed_columns, transform
from hepml.data.preprocess import StatsAccumulator
from hepml.data.schema import DataSchema
from hepml.data.streaming.data import FileSpec, StreamingData, file_specs
from hepml.data.streaming.files import Chunk, read_range
from hepml.data.streaming.stream import ChunkReader


class SelectedEntries:
    """The entries of a chunk that pass the schema's selection, from the selection's columns only."""

    def __init__(self, schema: DataSchema):
        self.schema = schema

    def __call__(self, chunk: Chunk) -> np.ndarray:
        sel = self.schema.selection
        names = {c: self.schema.file_column(c) for c in sel.columns}
        raw = read_range(chunk, list(dict.fromkeys(names.values())))
        mask = sel.mask({c: np.asarray(raw[key]) for c, key in names.items()})
        return np.flatnonzero(mask) + chunk.start


def _schema_transform(schema: DataSchema, raw: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    return transform(schema, raw, **kwargs)


def schema_files(schema: DataSchema, files: Sequence[str] | Mapping[str, Sequence[str]] | None,
                 eval_all: bool, options: Mapping[str, Any]) -> list[FileSpec]:
    """File specs of ``data.files`` or, when the schema has sources, of every source's files."""
    if not schema.sources:
        return file_specs(files or [], eval_all, options)
    return [FileSpec(str(p), "test" if eval_all else None, src,
                     {**options, "tree": src.tree or options.get("tree"), "source_index": i})
            for i, src in enumerate(schema.sources) for p in src.files]


def build_streaming(
    schema: DataSchema, files: Sequence[str] | Mapping[str, Sequence[str]] | None,
    *, eval_all: bool = False,
    reader_options: Mapping[str, Any] | None = None, **options: Any,
) -> StreamingData:
    """The streaming data of ``schema`` over ``files`` (or its sources).

    ``options`` are the keyword arguments of :class:`StreamingData` (split, chunk_size,
    buffer_size, batch sizes, workers, stats_events, max_events, cache_dir).
    """
    columns: dict[Any, list[str]] = {None: needed_columns(schema)}
    for src in schema.sources:
        columns[src.name] = needed_columns(schema, src)
    reader = ChunkReader(columns, partial(_schema_transform, schema))
    specs = schema_files(schema, files, eval_all, reader_options or {})
    selection = schema.selection
    return StreamingData(
        specs, reader, partial(StatsAccumulator, schema),
        kept_entries=SelectedEntries(schema) if selection is not None else None,
        selection_key=None if selection is None else [selection.text, dict(schema.aliases)],
        cache_key=asdict(schema), **options,
    )
