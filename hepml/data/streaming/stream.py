"""An iterable dataset over chunks: a shuffle buffer that spans several files, whole-batch yields.

Each DataLoader worker reads the chunk pieces :func:`~hepml.data.streaming.shard.plan` gives it,
transforms each chunk, keeps its events of the split, and gathers them (one copy) into a buffer of
at least ``buffer_size`` events drawn from several chunks. The buffer is permuted and batches are
taken from it with one fancy index each; the last half stays and is mixed with the next chunks.
Without shuffling the same path yields the events in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from hepml.data.streaming.files import Chunk, read_range
from hepml.data.streaming.shard import batches_per_rank, chunk_order, plan
from hepml.data.streaming.split import SPLITS, split_codes

log = logging.getLogger(__name__)

Arrays = dict[str, Any]


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


def gather(parts: Sequence[tuple[Arrays, np.ndarray]]) -> Arrays:
    """Rows ``idx`` of several event-array dicts, one after the other, with one copy per leaf."""
    first = parts[0][0]
    out: Arrays = {}
    for key, leaf in first.items():
        if isinstance(leaf, dict):
            out[key] = gather([(p[key], idx) for p, idx in parts])
            continue
        total = sum(len(idx) for _, idx in parts)
        dest = np.empty((total, *np.shape(leaf)[1:]), dtype=leaf.dtype)
        pos = 0
        for p, idx in parts:
            np.take(p[key], idx, axis=0, out=dest[pos : pos + len(idx)])
            pos += len(idx)
        out[key] = dest
    return out


# what a batch leaves out: the columns of the predictions file, not of the network (the same keys
# as hepml.data.dataset.to_tensors)
NOT_IN_BATCH = ("truth", "baseline", "entry")


def _leaves(arrays: Arrays, prefix: tuple[str, ...] = ()):
    for key, value in arrays.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*prefix, key))
        elif prefix or key not in NOT_IN_BATCH:
            yield (*prefix, key), value


def batch_of(buffer: Arrays, rows: np.ndarray, shared: bool = False) -> dict[str, Any]:
    """Rows ``rows`` of ``buffer`` as a nested dict of tensors, gathered straight into one block of
    memory (shared memory in a DataLoader worker, so the batch crosses to the main process
    without another copy). float64 columns become float32."""
    leaves = list(_leaves(buffer))
    n = len(rows)
    dtypes = [np.dtype(np.float32) if a.dtype == np.float64 else a.dtype for _, a in leaves]
    sizes = [n * int(np.prod(a.shape[1:], dtype=np.int64)) * d.itemsize for (_, a), d in zip(leaves, dtypes, strict=True)]
    offsets = np.concatenate([[0], np.cumsum([-(-s // 64) * 64 for s in sizes])])
    total = max(int(offsets[-1]), 1)
    storage = torch.UntypedStorage._new_shared(total) if shared else torch.UntypedStorage(total)
    block = torch.empty(0, dtype=torch.uint8).set_(storage)
    out: dict[str, Any] = {}
    for ((keys, src), dtype, size, off) in zip(leaves, dtypes, sizes, offsets, strict=False):
        t = block[off : off + size].view(_TORCH[dtype]).view(n, *src.shape[1:])
        if src.dtype == dtype:
            np.take(src, rows, axis=0, out=t.numpy())
        else:
            t.numpy()[...] = src[rows]
        node = out
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = t
    return out


_TORCH = {np.dtype(d): torch.from_numpy(np.zeros(1, dtype=d)).dtype
          for d in (np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_)}


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EventStream(IterableDataset):
    """The events of one split of many files, as whole batches (dicts of tensors).

    Parameters
    ----------
    reader : chunk -> event arrays (:class:`ChunkReader`).
    chunks : every chunk of the stream's files.
    counts : events of this split per chunk (the plan every rank and worker shares).
    split : ``train``, ``val`` or ``test``.
    fractions, split_seed : the hash split (files with a fixed split ignore them).
    batch_size : largest batch; batches of a rank differ by at most one event.
    Batches hold every event array but ``truth``, ``baseline`` and ``entry`` (as tensors), and
    ``index``: the global event index (file offset + entry).
    shuffle : shuffle chunk order per epoch and events in the buffer.
    buffer_size : events held (and mixed) at once per worker when shuffling.
    seed : seed of the chunk order and the buffer permutations (with the epoch).
    """

    def __init__(
        self, reader: ChunkReader, chunks: Sequence[Chunk], counts: np.ndarray, split: str,
        fractions: Sequence[float], split_seed: int, batch_size: int, shuffle: bool = False,
        buffer_size: int = 100_000, seed: int = 0,
    ):
        if batch_size < 1 or buffer_size < 1:
            raise ValueError(f"batch_size and buffer_size must be positive, got {batch_size}, {buffer_size}")
        self.reader, self.chunks = reader, list(chunks)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.split, self.code = split, SPLITS.index(split)
        self.fractions, self.split_seed = tuple(fractions), split_seed
        self.batch_size = batch_size
        self.shuffle, self.buffer_size, self.seed = shuffle, buffer_size, seed
        self.epoch, self.rank, self.world = 0, 0, 1

    @property
    def n_events(self) -> int:
        return int(self.counts.sum())

    def configure(self, epoch: int, rank: int | None = None, world: int | None = None) -> None:
        """Set the epoch (chunk order, permutations) and the DDP rank before an iteration."""
        self.epoch = int(epoch)
        if rank is None or world is None:
            rank, world = _distributed()
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        return batches_per_rank(self.n_events, _distributed()[1], self.batch_size)

    def __iter__(self):
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        order = chunk_order(len(self.chunks), self.seed, self.epoch, self.shuffle)
        todo, sizes = plan(self.counts, order, self.rank, self.world, worker, n_workers, self.batch_size)
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker, 1])
        keep = self.buffer_size // 2 if self.shuffle else 0
        pending: list[tuple[Arrays, np.ndarray]] = []
        n_pending, k = 0, 0
        for piece in todo:
            arrays, rows = self._piece(piece.chunk, piece.lo, piece.hi)
            pending.append((arrays, rows))
            n_pending += len(rows)
            if n_pending >= self.buffer_size:
                buffer, perm = self._fill(pending, rng)
                pos, k = yield from self._batches(buffer, perm, sizes, k, len(perm) - keep)
                pending, n_pending = [(buffer, perm[pos:])], len(perm) - pos
        if n_pending:
            buffer, perm = self._fill(pending, rng)
            _, k = yield from self._batches(buffer, perm, sizes, k, len(perm))
        if k != len(sizes):
            raise RuntimeError(f"{self.split} stream yielded {k} of {len(sizes)} planned batches "
                               f"(rank {self.rank}, worker {worker})")

    def _piece(self, index: int, lo: int, hi: int) -> tuple[Arrays, np.ndarray]:
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
        return arrays, rows[lo:hi]

    def _fill(self, pending, rng) -> tuple[Arrays, np.ndarray]:
        buffer = gather(pending)
        n = len(buffer["index"])
        return buffer, (rng.permutation(n) if self.shuffle else np.arange(n))

    def _batches(self, buffer: Arrays, perm: np.ndarray, sizes: np.ndarray, k: int, limit: int):
        pos, shared = 0, get_worker_info() is not None
        while k < len(sizes) and pos + sizes[k] <= limit:
            yield batch_of(buffer, perm[pos : pos + sizes[k]], shared)
            pos += int(sizes[k])
            k += 1
        return pos, k


class StreamLoader(DataLoader):
    """A DataLoader over an :class:`EventStream` that sets its epoch and rank before each pass.

    ``epoch`` is a callable returning the current epoch (e.g. the trainer's); without it the
    loader counts its own passes. Workers are started per pass (not persistent) so each starts
    from the stream as configured.
    """

    def __init__(self, stream: EventStream, num_workers: int = 0, epoch: Callable[[], int] | None = None,
                 prefetch_factor: int | None = None):
        super().__init__(stream, batch_size=None, num_workers=num_workers,
                         prefetch_factor=prefetch_factor if num_workers else None)
        self._epoch_fn = epoch
        self._passes = 0

    def __iter__(self):
        epoch = self._epoch_fn() if self._epoch_fn is not None else self._passes
        self._passes += 1
        self.dataset.configure(epoch)
        return super().__iter__()
