"""A :class:`~hepml.data.streaming.data.StreamingData` for a data schema: its files or sources, the
columns it reads, the pure transform of :mod:`hepml.data.columns` and its statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np

from hepml.data.columns import needed_columns, transform
from hepml.data.memory import file_specs, source_of
from hepml.data.preprocess import StatsAccumulator
from hepml.data.schema import DataSchema
from hepml.data.streaming.data import FileSpec, StreamingData
from hepml.data.streaming.files import Chunk, read_range
from hepml.data.streaming.split import SPLITS
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


def stream_specs(schema: DataSchema, files: Sequence[str] | Mapping[str, Sequence[str]] | None,
                 eval_all: bool = False, reader_options: Mapping[str, Any] | None = None) -> list[FileSpec]:
    """The files of ``data.files`` (globs expanded; a ``{train, val, test}`` mapping fixes each
    file's split) or of every source, with their reader options; all test with ``eval_all``."""
    options = dict(reader_options or {})
    if isinstance(files, Mapping):
        groups = [(split, file_specs(schema, list(files.get(split) or []), options)) for split in SPLITS]
    else:
        groups = [(None, file_specs(schema, list(files or []), options))]
    return [FileSpec(s.path, "test" if eval_all else split, source_of(schema, s),
                     {**s.kwargs, "source_index": s.source})
            for split, specs in groups for s in specs]


def build_streaming(
    schema: DataSchema, files: Sequence[str] | Mapping[str, Sequence[str]] | None = None, *,
    eval_all: bool = False, reader_options: Mapping[str, Any] | None = None, **options: Any,
) -> StreamingData:
    """The streaming data of ``schema`` over ``files`` (or its sources).

    ``options`` are the keyword arguments of :class:`StreamingData` (split, chunk_size,
    buffer_size, batch sizes, workers, stats_events, max_events, cache_dir).
    """
    columns: dict[Any, list[str]] = {None: needed_columns(schema)}
    for src in schema.sources:
        columns[src.name] = needed_columns(schema, src)
    reader = ChunkReader(columns, partial(_schema_transform, schema))
    specs = stream_specs(schema, files, eval_all, reader_options)
    if not specs:
        raise ValueError("data.files is empty: name at least one data file (or data.sources)")
    selection = schema.selection
    return StreamingData(
        specs, reader, partial(StatsAccumulator, schema),
        kept_entries=SelectedEntries(schema) if selection is not None else None,
        selection_key=None if selection is None else [selection.text, dict(schema.aliases)],
        cache_key=asdict(schema), **options,
    )
