"""An iterable dataset over chunks: a shuffle buffer that spans several files, whole-batch yields.

Each DataLoader worker reads the chunk pieces :func:`~hepml.data.streaming.shard.plan` gives it and
transforms each chunk. When the pool of pieces holds ``buffer_size`` events of the split (from
several chunks, of several files since the chunk order is shuffled), its events are permuted and
batches are gathered from it, one ``np.take`` per column and piece straight into the batch (the
pool is never copied). The few events that do not fill a batch move on to the next pool. Workers
send numpy batches (pickled through the DataLoader's pipe, faster than one shared-memory segment
per tensor); the loader turns them into tensors without a copy in the main process.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from hepml.data.streaming.files import Chunk, read_range
from hepml.data.streaming.shard import batches_per_rank, chunk_order, plan, worker_skips
from hepml.data.streaming.split import SPLITS, split_codes

log = logging.getLogger(__name__)
# Lightning warns that a length of an IterableDataset may be wrong with workers; an EventStream's
# length is exact for any number of workers (each yields its planned block of batches)
warnings.filterwarnings("ignore", message="Your `IterableDataset` has `__len__` defined")

Arrays = dict[str, Any]
Part = tuple[Arrays, np.ndarray]

# what a batch leaves out: the columns of the predictions file, not of the network (the same keys
# as hepml.data.dataset.to_tensors)
NOT_IN_BATCH = ("truth", "baseline", "entry")


class ChunkReader:
    """Reads a chunk's raw columns and applies the transform: ``reader(chunk) -> event arrays``.

    Parameters
    ----------
    columns : file column names to read, per source name (``None`` key: files without a source).
    transform : ``transform(raw, *, path, source, source_index, entry_start) -> event arrays``
        whose ``entry`` holds entry numbers in the file (after any selection).
    """

    def __init__(self, columns: Mapping[Any, Sequence[str]], transform: Callable[..., Arrays]):
        self.columns = {k: list(v) for k, v in columns.items()}
        self.transform = transform

    def __call__(self, chunk: Chunk) -> Arrays:
        f = chunk.file
        raw = read_range(chunk, self.columns[f.source.name if f.source is not None else None])
        return self.transform(raw, path=f.path, source=f.source, source_index=f.options.get("source_index", 0),
                              entry_start=chunk.start)


def chunk_split(chunk: Chunk, entries: np.ndarray, fractions: Sequence[float], split_seed: int) -> np.ndarray:
    """Split codes (0 train, 1 val, 2 test) of a chunk's entries: fixed per file or by hash."""
    if chunk.file.split is not None:
        return np.full(len(entries), SPLITS.index(chunk.file.split), dtype=np.int8)
    return split_codes(chunk.file.path, entries, fractions, split_seed)


def gather(parts: Sequence[Part], batch: bool = False) -> Arrays:
    """Rows ``idx`` of several event-array dicts one after the other, one copy per column.

    With ``batch``, the columns a batch leaves out (:data:`NOT_IN_BATCH`) are dropped and float64
    columns become float32.
    """
    first = parts[0][0]
    total = sum(len(idx) for _, idx in parts)
    out: Arrays = {}
    for key, leaf in first.items():
        if isinstance(leaf, dict):
            out[key] = gather([(p[key], idx) for p, idx in parts], batch and key != "observers")
            continue
        if batch and key in NOT_IN_BATCH:
            continue
        dtype = np.dtype(np.float32) if batch and leaf.dtype == np.float64 else leaf.dtype
        dest = np.empty((total, *leaf.shape[1:]), dtype=dtype)
        pos = 0
        for p, idx in parts:
            if dtype == p[key].dtype:
                np.take(p[key], idx, axis=0, out=dest[pos : pos + len(idx)])
            else:
                dest[pos : pos + len(idx)] = p[key][idx]
            pos += len(idx)
        out[key] = dest
    return out


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EventStream(IterableDataset):
    """The events of one split of many files, as whole batches (nested dicts of numpy arrays;
    :class:`StreamLoader` hands them on as tensors).

    Batches hold every event array but ``truth``, ``baseline`` and ``entry``, and ``index``: the
    global event index (file offset + entry).

    Parameters
    ----------
    reader : chunk -> event arrays (:class:`ChunkReader`).
    chunks : every chunk of the stream's files.
    counts : events of this split per chunk (the plan every rank and worker shares).
    split : ``train``, ``val`` or ``test``.
    fractions, split_seed : the hash split (files with a fixed split ignore them).
    batch_size : largest batch; batches of a rank differ by at most one event.
    shuffle : shuffle chunk order per epoch and events in the buffer.
    buffer_size : events of the split pooled (and mixed) at once per worker when shuffling.
    seed : seed of the chunk order and the buffer permutations (with the epoch).
    shard : ``(rank, world)`` to read one shard without ``torch.distributed`` (another launcher);
        None takes them from ``torch.distributed`` (rank 0 of 1 outside DDP).
    """

    def __init__(
        self, reader: ChunkReader, chunks: Sequence[Chunk], counts: np.ndarray, split: str,
        fractions: Sequence[float], split_seed: int, batch_size: int, shuffle: bool = False,
        buffer_size: int = 100_000, seed: int = 0, shard: tuple[int, int] | None = None,
    ):
        if batch_size < 1 or buffer_size < 1:
            raise ValueError(f"batch_size and buffer_size must be positive, got {batch_size}, {buffer_size}")
        self.reader, self.chunks = reader, list(chunks)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.split, self.code = split, SPLITS.index(split)
        self.fractions, self.split_seed = tuple(fractions), split_seed
        self.batch_size = batch_size
        self.shuffle, self.buffer_size, self.seed = shuffle, buffer_size, seed
        self.shard = shard
        self.epoch, (self.rank, self.world) = 0, shard or (0, 1)
        self.skip = 0

    @property
    def n_events(self) -> int:
        return int(self.counts.sum())

    def configure(self, epoch: int, skip: int = 0) -> None:
        """Set the epoch (chunk order, permutations) and the rank before an iteration; ``skip``
        leaves out the first batches of the pass (a run resumed mid-epoch)."""
        self.epoch, self.skip = int(epoch), int(skip)
        self.rank, self.world = self.shard or _distributed()

    def __len__(self) -> int:
        """Batches of this rank (the same on every rank)."""
        return batches_per_rank(self.n_events, (self.shard or _distributed())[1], self.batch_size)

    def __iter__(self) -> Iterator[Arrays]:
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        # the DataLoader takes a batch from each worker in turn, starting at worker 0: after
        # skipping, worker w plays the part of worker (w + skip) % n_workers of the whole pass
        worker = (worker + self.skip) % n_workers
        order = chunk_order(len(self.chunks), self.seed, self.epoch, self.shuffle)
        todo, sizes = plan(self.counts, order, self.rank, self.world, worker, n_workers, self.batch_size)
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker, 1])
        if self.skip:  # the same pass as without skipping, minus the batches already trained on
            n_batches = batches_per_rank(self.n_events, self.world, self.batch_size)
            self._skip = worker_skips(n_batches, n_workers, self.skip)[worker]
        else:
            self._skip = 0
        pool: list[Part] = []
        n_pool, k = 0, 0
        for piece in todo:
            part = self._piece(piece.chunk, piece.lo, piece.hi)
            pool.append(part)
            n_pool += len(part[1])
            if k < len(sizes) and n_pool >= (self.buffer_size if self.shuffle else sizes[k]):
                pool, k = yield from self._drain(pool, n_pool, sizes, k, rng)
                n_pool = sum(len(rows) for _, rows in pool)
        if n_pool:
            pool, k = yield from self._drain(pool, n_pool, sizes, k, rng)
        if k != len(sizes) or pool:
            raise RuntimeError(f"{self.split} stream yielded {k} of {len(sizes)} planned batches "
                               f"(rank {self.rank}, worker {worker})")

    def _piece(self, index: int, lo: int, hi: int) -> Part:
        chunk = self.chunks[index]
        arrays = self.reader(chunk)
        entries = arrays["entry"]
        rows = np.flatnonzero(chunk_split(chunk, entries, self.fractions, self.split_seed) == self.code)
        if len(rows) != self.counts[index]:
            raise RuntimeError(
                f"{chunk}: {len(rows)} {self.split} events after the transform, {self.counts[index]} "
                "counted when planning the epoch; the selection must depend on the file alone"
            )
        arrays["index"] = entries + chunk.file.offset
        rows = rows[lo:hi]
        if self.shuffle and 2 * len(rows) < len(entries):  # keep only what the pool needs
            return gather([(arrays, rows)]), np.arange(len(rows))
        return arrays, rows

    def _drain(self, pool: list[Part], n: int, sizes: np.ndarray, k: int, rng):
        """Yield the batches the pool fills; return the pool of the events left over."""
        offsets = np.cumsum([0] + [len(rows) for _, rows in pool])
        perm = rng.permutation(n) if self.shuffle else np.arange(n)
        pos = 0
        while k < len(sizes) and pos + sizes[k] <= n:
            if k >= self._skip:
                yield gather(_parts(pool, offsets, perm[pos : pos + sizes[k]]), batch=True)
            pos += int(sizes[k])
            k += 1
        if pos == n:
            return [], k
        rest = gather(_parts(pool, offsets, np.sort(perm[pos:])))  # fewer than a batch: copied
        return [(rest, np.arange(n - pos))], k


def _parts(pool: list[Part], offsets: np.ndarray, sel: np.ndarray) -> list[Part]:
    """Pool positions ``sel`` as (piece arrays, rows) groups, one per piece touched."""
    pid = np.searchsorted(offsets, sel, side="right") - 1
    order = np.argsort(pid, kind="stable")
    sel, pid = sel[order], pid[order]
    cuts = np.flatnonzero(np.diff(pid)) + 1
    out = []
    for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(sel)]]), strict=True):
        arrays, rows = pool[pid[a]]
        out.append((arrays, rows[sel[a:b] - offsets[pid[a]]]))
    return out


def _to_tensors(batch: Any) -> Any:
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    return torch.from_numpy(batch)


def _as_is(batch: Any) -> Any:
    return batch


class StreamLoader(DataLoader):
    """A DataLoader over an :class:`EventStream` that sets its epoch and rank before each pass and
    yields batches of tensors.

    ``epoch`` is a callable returning the current epoch (e.g. the trainer's); without it the
    loader counts its own passes. Workers are started per pass (not persistent) so each starts
    from the stream as configured.
    """

    def __init__(self, stream: EventStream, num_workers: int = 0, epoch: Callable[[], int] | None = None,
                 prefetch_factor: int | None = None):
        super().__init__(stream, batch_size=None, num_workers=num_workers, collate_fn=_as_is,
                         prefetch_factor=prefetch_factor if num_workers else None)
        self._epoch_fn = epoch
        self._passes, self._skip = 0, 0

    def __len__(self) -> int:
        return len(self.dataset)

    def skip_batches(self, n: int) -> None:
        """Leave out the first ``n`` batches of the next pass only (a run resumed mid-epoch)."""
        self._skip = int(n)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # a generator: the pass (and its epoch) starts at the first batch asked for, not at
        # iter(), which Lightning calls before it moves to the next epoch
        epoch = self._epoch_fn() if self._epoch_fn is not None else self._passes
        self._passes += 1
        skip, self._skip = self._skip, 0
        self.dataset.configure(epoch, skip)
        for batch in super().__iter__():
            yield _to_tensors(batch)
