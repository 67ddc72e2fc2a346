"""Step outputs of every process in one set, so epoch metrics (AUC, rejections, resolution) under
DDP are those of the whole validation or test split, not an average of per-process values.

Each process holds the outputs of its shard; :func:`gather_outputs` all-gathers them (padded to
the longest shard, then cut back), and :func:`once_per_event` keeps one row per event index in
index order: the distributed sampler repeats a few events to even out the shards, and the order is
then the one of a single process, so the metrics are identical to a single-process evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_CAST = {torch.bool: torch.uint8}  # gloo all_gather does not take bool tensors


def gather_outputs(module: Any, arrays: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``arrays`` (equal first dimensions) concatenated over the processes of ``module``'s
    trainer; unchanged in a single process. A collective: every process must call it."""
    trainer = getattr(module, "_trainer", None)
    if trainer is None or trainer.world_size <= 1:
        return arrays
    n = len(next(iter(arrays.values())))
    sizes = module.all_gather(torch.tensor([n], device=module.device)).flatten().tolist()
    longest = int(max(sizes))
    out = {}
    for key, value in arrays.items():
        dtype = value.dtype
        v = value.to(module.device, _CAST.get(dtype, dtype))
        pad = torch.zeros((longest - len(v), *v.shape[1:]), dtype=v.dtype, device=v.device)
        gathered = module.all_gather(torch.cat([v, pad]))  # [world, longest, ...]
        out[key] = torch.cat([gathered[r, : int(s)] for r, s in enumerate(sizes)]).to("cpu", dtype)
    return out


def once_per_event(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row per ``index`` (the first), in increasing index order; unchanged without ``index``."""
    if "index" not in arrays:
        return arrays
    _, first = np.unique(arrays["index"], return_index=True)
    if len(first) == len(arrays["index"]) and np.all(np.diff(arrays["index"]) >= 0):
        return arrays
    return {k: v[first] for k, v in arrays.items()}


def to_numpy(value: torch.Tensor) -> np.ndarray:
    """A CPU numpy array; half and bfloat16 (mixed precision) as float32."""
    if value.dtype in (torch.float16, torch.bfloat16):
        value = value.float()
    return value.numpy()
