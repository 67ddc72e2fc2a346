"""Whole-batch access to in-memory tensors: one fancy-index per batch, never one call per event."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.distributed as dist
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
)

Batch = dict[str, "torch.Tensor | dict[str, torch.Tensor]"]


class TensorBatches(Dataset):
    """Rows of a (nested) dict of tensors with equal first dimension, fetched a batch at a time.

    ``dataset[indices]`` with a list of row indices returns the same nested dict sliced at once.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor | Mapping[str, torch.Tensor]]):
        self.tensors = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in tensors.items()}
        lengths = {len(t) for t in self._leaves()}
        if len(lengths) != 1:
            raise ValueError(f"tensors have different lengths: {sorted(lengths)}")
        self._n = lengths.pop()

    def _leaves(self):
        for v in self.tensors.values():
            yield from (v.values() if isinstance(v, dict) else [v])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, idx: list[int] | torch.Tensor) -> Batch:
        idx = torch.as_tensor(idx, dtype=torch.long)
        return {
            k: ({kk: vv[idx] for kk, vv in v.items()} if isinstance(v, dict) else v[idx])
            for k, v in self.tensors.items()
        }


class EpochBatchSampler(BatchSampler):
    """A BatchSampler that forwards ``set_epoch`` to a distributed sampler (reshuffles per epoch)."""

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)


def batch_loader(
    dataset: TensorBatches,
    batch_size: int,
    shuffle: bool,
    num_workers: int = 0,
    seed: int | None = None,
) -> DataLoader:
    """A DataLoader that yields whole batches (the sampler hands the dataset index lists).

    Under ``torch.distributed`` each process gets its own shard (a ``DistributedSampler``), so the
    trainer must not inject one (``use_distributed_sampler: false`` in the trainer configs).
    """
    if dist.is_available() and dist.is_initialized():
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed or 0, drop_last=False)
    elif shuffle:
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        sampler = RandomSampler(dataset, generator=gen)
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(
        dataset,
        sampler=EpochBatchSampler(sampler, batch_size=batch_size, drop_last=False),
        batch_size=None,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
