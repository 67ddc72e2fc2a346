"""The streaming side of a data module: files -> chunks -> split counts -> loaders and statistics.

:class:`StreamingData` plans the chunks of every file, counts each chunk's train/val/test events
(from the hash alone without a selection; with one, from the selection's columns, cached by file
fingerprint), computes the normalisation statistics on ``stats_events`` training events (cached by
a hash of the config) and builds the :class:`~hepml.data.streaming.stream.StreamLoader` of a split.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hepml.data.preprocess import cached, config_hash, file_fingerprint
from hepml.data.streaming.files import Chunk, StreamFile, boundaries
from hepml.data.streaming.split import SPLITS
from hepml.data.streaming.stream import (
    ChunkReader,
    EventStream,
    StreamLoader,
    chunk_split,
    gather,
)

log = logging.getLogger(__name__)

Arrays = dict[str, Any]


@dataclass(frozen=True)
class FileSpec:
    """A file to stream: its path, a fixed split (or None: by hash), its source and reader options."""

    path: str
    split: str | None = None
    source: Any = None
    options: dict[str, Any] = field(default_factory=dict)


class StreamingData:
    """Chunked, sharded, shuffled access to files larger than memory.

    Parameters
    ----------
    files : the files, in order (their order fixes the global event index, not the split).
    reader : chunk -> event arrays (raw read + the data transform).
    new_stats : a new statistics accumulator (``update(arrays)`` chunk by chunk, ``result()`` the
        JSON-able statistics), e.g. ``StatsAccumulator(schema)``.
    split, split_seed : train/val/test fractions of the hash split and its seed (also the seed
        of the chunk order and buffer permutations).
    chunk_size, buffer_size : events per read, and events mixed at once per worker.
    batch_size, eval_batch_size, num_workers : as for the in-memory loaders.
    stats_events : training events the statistics are computed on.
    kept_entries : chunk -> entries the transform keeps (the selection), or None when it keeps
        every entry; counted once per file and cached under ``cache_dir``.
    max_events : stream only the first ``max_events`` entries of the files (quick runs).
    cache_key : what else the statistics depend on (the schema), for the cache hash.
    """

    def __init__(
        self, files: Sequence[FileSpec], reader: ChunkReader, new_stats: Callable[[], Any], *, split: Sequence[float] = (0.7, 0.15, 0.15),
        split_seed: int = 42, chunk_size: int = 20_000, buffer_size: int = 100_000,
        batch_size: int = 512, eval_batch_size: int | None = None, num_workers: int = 0,
        stats_events: int = 100_000, kept_entries: Callable[[Chunk], np.ndarray] | None = None,
        max_events: int | None = None, cache_dir: str | None = None, cache_key: Any = None,
        selection_key: Any = None,
    ):
        if not files:
            raise ValueError("data.files is empty: name at least one data file")
        if stats_events < 1:
            raise ValueError(f"data.stats_events must be a positive number of events, got {stats_events}")
        self.specs = list(files)
        self.reader, self.new_stats = reader, new_stats
        self.fractions, self.split_seed = tuple(float(s) for s in split), int(split_seed)
        self.chunk_size, self.buffer_size = int(chunk_size), int(buffer_size)
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size or 4 * batch_size)
        self.num_workers, self.stats_events = int(num_workers), int(stats_events)
        self.kept_entries, self.max_events = kept_entries, max_events
        self.cache_dir, self.cache_key, self.selection_key = cache_dir, cache_key, selection_key
        self.files: list[StreamFile] = []
        self.chunks: list[Chunk] = []
        self.counts = np.zeros((0, 3), dtype=np.int64)

    # ----------------------------------------------------------------- planning
    def setup(self) -> None:
        """Plan the chunks of every file and count the events of each split per chunk."""
        if self.files:
            return
        missing = [s.path for s in self.specs if not Path(s.path).is_file()]
        if missing:
            raise FileNotFoundError(f"data file(s) {missing} do not exist; check data.files")
        offset, budget = 0, self.max_events
        for i, spec in enumerate(self.specs):
            columns = self.reader.columns[spec.source.name if spec.source is not None else None]
            edges = boundaries(spec.path, columns, self.chunk_size, spec.options)
            if budget is not None:
                edges = np.unique(np.minimum(edges, budget))
                budget -= int(edges[-1])
            f = StreamFile(spec.path, i, int(edges[-1]), offset, spec.split, spec.source, dict(spec.options))
            self.files.append(f)
            self.chunks += [Chunk(f, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
            offset += f.n_entries
        self.counts = np.concatenate([self._file_counts(f) for f in self.files]) if self.chunks \
            else np.zeros((0, 3), dtype=np.int64)
        log.info("Streaming %d file(s), %d chunks: %s events", len(self.files), len(self.chunks),
                 " / ".join(f"{n:,} {s}" for n, s in zip(self.counts.sum(0), SPLITS, strict=True)))

    def _file_counts(self, f: StreamFile) -> np.ndarray:
        chunks = [c for c in self.chunks if c.file is f]
        if self.kept_entries is None:
            return np.stack([self._split_counts(c, np.arange(c.start, c.stop)) for c in chunks]) \
                if chunks else np.zeros((0, 3), dtype=np.int64)
        key = config_hash({"file": file_fingerprint([f.path]), "chunks": [(c.start, c.stop) for c in chunks],
                           "split": [self.fractions, self.split_seed, f.split],
                           "selection": self.selection_key, "options": f.options})
        path = Path(self.cache_dir) / "stream_counts" / f"{key}.json" if self.cache_dir else None
        if path is not None and path.is_file():
            return np.asarray(json.loads(path.read_text()), dtype=np.int64).reshape(-1, 3)
        log.info("Counting the selected events of %s (%d chunks)", f.path, len(chunks))
        counts = np.stack([self._split_counts(c, self.kept_entries(c)) for c in chunks])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(counts.tolist()))
        return counts

    def _split_counts(self, chunk: Chunk, entries: np.ndarray) -> np.ndarray:
        codes = chunk_split(chunk, np.asarray(entries, dtype=np.int64), self.fractions, self.split_seed)
        return np.bincount(codes, minlength=3).astype(np.int64)

    def n_events(self, split: str) -> int:
        self.setup()
        return int(self.counts[:, SPLITS.index(split)].sum())

    # --------------------------------------------------------------- statistics
    def stats(self) -> dict[str, Any]:
        """Normalisation statistics on up to ``stats_events`` training events (cached)."""
        self.setup()
        payload = {"files": file_fingerprint([f.path for f in self.files]), "schema": self.cache_key,
                   "split": [self.fractions, self.split_seed, self.max_events],
                   "streaming": [self.chunk_size, self.stats_events]}
        return cached(self.cache_dir, config_hash(payload), self._stats)

    def _stats(self) -> dict[str, Any]:
        code = SPLITS.index("train")
        if self.counts[:, code].sum() == 0:
            raise ValueError(f"the training split is empty ({self.counts.sum()} events, split {self.fractions})")
        order = np.random.default_rng([self.split_seed, 2**31 - 1]).permutation(len(self.chunks))
        acc, n, used = self.new_stats(), 0, 0
        for i in order:
            if n >= self.stats_events:
                break
            if self.counts[i, code] == 0:
                continue
            arrays = self.reader(self.chunks[i])
            rows = np.flatnonzero(chunk_split(self.chunks[i], arrays["entry"], self.fractions,
                                              self.split_seed) == code)[: self.stats_events - n]
            acc.update(gather([(arrays, rows)]))
            n, used = n + len(rows), used + 1
        log.info("Statistics from %d training events of %d chunk(s)", n, used)
        return acc.result()

    # ------------------------------------------------------------------ loaders
    def stream(self, split: str, shuffle: bool | None = None,
               shard: tuple[int, int] | None = None) -> EventStream:
        """The :class:`EventStream` of a split (training shuffles by default)."""
        self.setup()
        train = split == "train"
        return EventStream(
            self.reader, self.chunks, self.counts[:, SPLITS.index(split)], split, self.fractions,
            self.split_seed, self.batch_size if train else self.eval_batch_size,
            shuffle=train if shuffle is None else shuffle, buffer_size=self.buffer_size,
            seed=self.split_seed, shard=shard,
        )

    def loader(self, split: str, epoch: Callable[[], int] | None = None,
               shard: tuple[int, int] | None = None) -> StreamLoader:
        """The loader of a split: ``epoch`` returns the current epoch (else passes are counted);
        ``shard`` is ``(rank, world)`` outside ``torch.distributed``."""
        return StreamLoader(self.stream(split, shard=shard), self.num_workers, epoch)

    def events(self, split: str, limit: int) -> Arrays:
        """The first ``limit`` events of a split (in file order) as one set of arrays."""
        parts, n = [], 0
        for arrays in self.split_chunks(split):
            if n >= limit:
                break
            m = min(len(arrays["entry"]), limit - n)
            parts.append((arrays, np.arange(m)))
            n += m
        if not parts:
            raise ValueError(f"the {split} split is empty")
        return gather(parts)

    def split_chunks(self, split: str) -> Iterator[Arrays]:
        """The events of a split chunk by chunk, in file order, with ``index`` set (for evaluation)."""
        self.setup()
        code = SPLITS.index(split)
        for i, chunk in enumerate(self.chunks):
            if self.counts[i, code] == 0:
                continue
            arrays = self.reader(chunk)
            arrays["index"] = arrays["entry"] + chunk.file.offset
            rows = np.flatnonzero(chunk_split(chunk, arrays["entry"], self.fractions, self.split_seed) == code)
            yield gather([(arrays, rows)])
