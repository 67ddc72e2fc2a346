"""Whole-batch access to in-memory tensors: one fancy-index per batch, never one call per event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    DistributedSampler,
    Sampler,
    SequentialSampler,
)

Batch = dict[str, "torch.Tensor | dict[str, torch.Tensor]"]


def to_tensors(arrays: Mapping[str, Any]) -> dict[str, Any]:
    """Event arrays (:mod:`hepml.data.columns`) as a nested dict of tensors sharing their memory.

    Keys of a batch: ``inputs`` (the model's groups, masks, points, vectors), ``target``,
    ``ref``, ``label``, ``weight``, ``aux``, ``observers`` and the source tags ``source``,
    ``domain``, ``labelled``, ``fraction``. ``truth``, ``baseline`` and ``entry`` stay in numpy
    (they are for the predictions file, not the network).
    """
    out: dict[str, Any] = {}
    for key, value in arrays.items():
        if key in ("truth", "baseline", "entry"):
            continue
        if isinstance(value, Mapping):
            out[key] = {k: _tensor(v) for k, v in value.items()}
        else:
            out[key] = _tensor(value)
    return out


def _tensor(x: np.ndarray) -> torch.Tensor:
    x = np.asarray(x)
    if x.dtype == np.float64:
        x = x.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x))


class TensorBatches(Dataset):
    """Rows of a (nested) dict of tensors with equal first dimension, fetched a batch at a time.

    ``dataset[positions]`` with a list of positions in ``rows`` (the events of one split, default
    all) returns the nested dict gathered at once, with ``index`` = the global event numbers. The
    tensors are shared, never copied per split.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor | Mapping[str, torch.Tensor]],
                 rows: np.ndarray | torch.Tensor | None = None):
        self.tensors = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in tensors.items()}
        lengths = {len(t) for t in self._leaves()}
        if len(lengths) != 1:
            raise ValueError(f"tensors have different lengths: {sorted(lengths)}")
        n = lengths.pop()
        self.rows = torch.arange(n) if rows is None else torch.as_tensor(rows, dtype=torch.long)

    def _leaves(self):
        for v in self.tensors.values():
            yield from (v.values() if isinstance(v, dict) else [v])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, idx: list[int] | torch.Tensor) -> Batch:
        rows = self.rows[torch.as_tensor(idx, dtype=torch.long)]
        out: Batch = {
            k: ({kk: vv[rows] for kk, vv in v.items()} if isinstance(v, dict) else v[rows])
            for k, v in self.tensors.items()
        }
        out["index"] = rows
        return out


def epoch_seed(seed: int, epoch: int, step: int | None = None) -> int:
    """A seed derived from (``seed``, ``epoch``[, ``step``]): the same on every machine and after
    any restart, and unrelated for neighbouring epochs (numpy's ``SeedSequence``)."""
    entropy = [int(seed) % 2**63, int(epoch)] + ([] if step is None else [int(step)])
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))


class EpochRandomSampler(Sampler[int]):
    """A random order of ``n`` rows per epoch, drawn from (``seed``, epoch): a run resumed at
    epoch 3 shuffles epoch 3 as an uninterrupted run does (``set_epoch`` sets the epoch)."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        gen = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        yield from torch.randperm(self.n, generator=gen).tolist()


class EpochBatchSampler(BatchSampler):
    """A BatchSampler that forwards ``set_epoch`` to its sampler (reshuffles per epoch) and can
    leave out the batches a run resumed mid-epoch has already trained on (``skip_batches``)."""

    _skip = 0

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def skip_batches(self, n: int) -> None:
        """Leave out the first ``n`` batches of the next pass only."""
        self._skip = int(n)

    def __iter__(self):
        skip, self._skip = self._skip, 0
        for i, batch in enumerate(super().__iter__()):
            if i >= skip:
                yield batch


class EpochLoader(DataLoader):
    """A DataLoader whose pass starts at the first batch asked for, not at ``iter()``: Lightning
    creates the iterator before it sets the epoch, and worker processes would otherwise prefetch
    batches in the order of another epoch."""

    def __iter__(self):
        yield from super().__iter__()


def batch_loader(
    dataset: TensorBatches,
    batch_size: int,
    shuffle: bool,
    num_workers: int = 0,
    seed: int | None = None,
) -> DataLoader:
    """A DataLoader that yields whole batches (the sampler hands the dataset index lists).

    Under ``torch.distributed`` each process gets its own shard (a ``DistributedSampler``), so the
    trainer must not inject one (``use_distributed_sampler: false`` in the trainer configs). The
    training order of each epoch derives from (``seed``, epoch), with or without DDP.
    """
    if dist.is_available() and dist.is_initialized():
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed or 0, drop_last=False)
    elif shuffle:
        if seed is None:
            seed = int(torch.randint(2**62, ()).item())
        sampler = EpochRandomSampler(len(dataset), seed)
    else:
        sampler = SequentialSampler(dataset)
    return EpochLoader(
        dataset,
        sampler=EpochBatchSampler(sampler, batch_size=batch_size, drop_last=False),
        batch_size=None,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
