"""Who reads what in an epoch: chunk order, DDP ranks, DataLoader workers, batch sizes.

The events of one split form, per epoch, one virtual sequence: the chunks in an order drawn from
``(seed, epoch)`` (file order when not shuffling), each chunk's events of that split in entry
order. Rank ``r`` of ``W`` takes the contiguous range ``[N r / W, N (r + 1) / W)`` of it and cuts it
into ``K = ceil(ceil(N / W) / B)`` batches of near-equal size (they differ by at most one event and
never exceed ``B``), so every rank yields the same number of batches (DDP needs that) and every
event is in exactly one batch. A rank's batches are dealt to its workers in contiguous blocks.
Everything here is a pure function of the per-chunk event counts, so every process computes the
same plan without talking to the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Piece:
    """Events ``[lo, hi)`` (in entry order, among the chunk's events of the split) of chunk ``chunk``."""

    chunk: int
    lo: int
    hi: int


def chunk_order(n_chunks: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The order in which chunks are read this epoch (a permutation drawn from seed and epoch)."""
    if not shuffle:
        return np.arange(n_chunks)
    return np.random.default_rng([seed, epoch]).permutation(n_chunks)


def batches_per_rank(n_events: int, world: int, batch_size: int) -> int:
    """Batches every rank yields for ``n_events`` events of a split."""
    if n_events == 0:
        return 0
    per_rank = -(-n_events // world)
    return -(-per_rank // batch_size)


def batch_edges(n_events: int, rank: int, world: int, batch_size: int) -> np.ndarray:
    """Positions in the epoch's event sequence where this rank's batches start (and the last ends).

    Raises a ``ValueError`` when a batch would be empty (fewer events than ranks or batches).
    """
    lo, hi = n_events * rank // world, n_events * (rank + 1) // world
    k = batches_per_rank(n_events, world, batch_size)
    if k > hi - lo:
        raise ValueError(
            f"{n_events} events cannot be spread over {world} process(es) in batches of "
            f"{batch_size} without an empty batch; use fewer processes or more events"
        )
    return lo + ((hi - lo) * np.arange(k + 1)) // max(k, 1)


def worker_batches(n_batches: int, worker: int, n_workers: int) -> tuple[int, int]:
    """The block ``[first, last)`` of a rank's batches that DataLoader worker ``worker`` yields."""
    return n_batches * worker // n_workers, n_batches * (worker + 1) // n_workers


def pieces(counts: np.ndarray, order: np.ndarray, lo: int, hi: int) -> list[Piece]:
    """The chunk pieces covering events ``[lo, hi)`` of the sequence ``counts[order]``."""
    seq = np.asarray(counts, dtype=np.int64)[order]
    starts = np.concatenate([[0], np.cumsum(seq)])
    out = []
    first = int(np.searchsorted(starts, lo, side="right")) - 1
    for i in range(max(first, 0), len(seq)):
        if starts[i] >= hi:
            break
        a, b = max(lo - starts[i], 0), min(hi - starts[i], seq[i])
        if b > a:
            out.append(Piece(int(order[i]), int(a), int(b)))
    return out


def plan(
    counts: np.ndarray, order: np.ndarray, rank: int, world: int, worker: int, n_workers: int,
    batch_size: int,
) -> tuple[list[Piece], np.ndarray]:
    """The pieces one worker of one rank reads this epoch, and the sizes of the batches it yields."""
    n = int(np.sum(counts))
    edges = batch_edges(n, rank, world, batch_size)
    first, last = worker_batches(len(edges) - 1, worker, n_workers)
    if last <= first:
        return [], np.zeros(0, dtype=np.int64)
    return pieces(counts, order, int(edges[first]), int(edges[last])), np.diff(edges[first : last + 1])


def worker_skips(n_batches: int, n_workers: int, skip: int) -> list[int]:
    """How many of its batches each worker leaves out so that a pass starts after the first
    ``skip`` batches the DataLoader would yield (it takes one batch from each worker in turn,
    passing over the workers that are done)."""
    left = [b - a for a, b in (worker_batches(n_batches, w, n_workers) for w in range(n_workers))]
    out = [0] * n_workers
    w = 0
    for _ in range(min(skip, n_batches)):
        while left[w] == 0:
            w = (w + 1) % n_workers
        out[w] += 1
        left[w] -= 1
        w = (w + 1) % n_workers
    return out
