"""Masked operations on padded particle lists, and the packed (real particles only) layout.

Padded layout: ``x [B, N, F]`` with ``mask [B, N]`` (True = a real particle). Packed layout: the
real particles only, ``x[mask] -> [M, F]``, with ``batch [M]`` (the event of each particle).
Per-particle networks on the packed rows skip the padded slots entirely (on a file where 60% of the
slots are real that is 1.7x fewer multiply-adds), and the pooling here sums them back per event.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def exporting() -> bool:
    """Whether the model is being traced (TorchScript) or exported (ONNX). Models then take their
    padded paths: the packed layout, trimming and level counts depend on the data, and a trace
    would freeze them as constants of the example batch."""
    return bool(torch.jit.is_tracing() or torch.onnx.is_in_onnx_export())


def trim(mask: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Cut the particle axis of ``mask [B, N]`` and ``tensors [B, N, ...]`` after the last slot
    that holds a real particle in any event of the batch (a batch of short jets gets short)."""
    if mask.shape[1] == 0:
        return (mask, *tensors)
    filled = mask.any(dim=0)
    n = int(filled.nonzero().max()) + 1 if bool(filled.any()) else 1
    if n == mask.shape[1]:
        return (mask, *tensors)
    return (mask[:, :n], *(t[:, :n] for t in tensors))


def masked_sum(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[B, N, F], [B, N] -> [B, F]``: the sum over real particles."""
    return (x * mask.unsqueeze(-1).to(x.dtype)).sum(dim=1)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[B, N, F], [B, N] -> [B, F]``: the mean over real particles (0 for an empty event)."""
    count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
    return masked_sum(x, mask) / count


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[B, N, F], [B, N] -> [B, F]``: the maximum over real particles (0 for an empty event)."""
    filled = x.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
    return torch.where(torch.isfinite(filled), filled, torch.zeros_like(filled))


@dataclass
class Packing:
    """Where the real particles of a padded batch go in the packed layout.

    Attributes
    ----------
    mask : ``[B, N]`` bool, the padded layout's mask.
    flat : ``[M]`` slot of each real particle in the flattened ``[B * N]`` layout.
    batch : ``[M]`` event index of each real particle.
    position : ``[B, N]`` row of each slot in the packed layout (``-1`` for padded slots).
    counts : ``[B]`` real particles per event.
    """

    mask: torch.Tensor
    flat: torch.Tensor
    batch: torch.Tensor
    position: torch.Tensor
    counts: torch.Tensor

    @classmethod
    def of(cls, mask: torch.Tensor) -> Packing:
        flat = mask.reshape(-1).nonzero().squeeze(1)
        position = torch.full((mask.numel(),), -1, dtype=torch.long, device=mask.device)
        position[flat] = torch.arange(flat.numel(), device=mask.device)
        return cls(mask=mask, flat=flat, batch=flat // max(mask.shape[1], 1),
                   position=position.view(mask.shape), counts=mask.sum(dim=1))

    @property
    def n_events(self) -> int:
        return self.mask.shape[0]

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, N, F] -> [M, F]`` (one ``index_select``: faster than boolean indexing)."""
        return x.reshape(-1, *x.shape[2:]).index_select(0, self.flat)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """``[M, F] -> [B, N, F]`` with zeros in the padded slots."""
        out = x.new_zeros((*self.mask.shape, *x.shape[1:]))
        out[self.mask] = x
        return out

    def sum(self, x: torch.Tensor) -> torch.Tensor:
        """``[M, F] -> [B, F]``: the sum over each event's particles."""
        return x.new_zeros((self.n_events, *x.shape[1:])).index_add_(0, self.batch, x)

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """``[M, F] -> [B, F]``: the mean over each event's particles (0 for an empty event)."""
        count = self.counts.clamp(min=1).to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
        return self.sum(x) / count


class AttentionPooling(nn.Module):
    """Softmax-weighted sum over the real particles, the weights from a linear score per particle
    (global attention pooling, Li et al. 2016): ``[B, N, D] -> [B, D]``, or packed ``[M, D]``."""

    def __init__(self, dim: int):
        super().__init__()
        self.score = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        score = self.score(x).squeeze(-1).masked_fill(~mask, float("-inf"))
        weight = torch.softmax(score, dim=1).nan_to_num(0.0)  # an empty event: all weights 0
        return torch.einsum("bn,bnd->bd", weight, x)

    def packed(self, x: torch.Tensor, packing: Packing) -> torch.Tensor:
        score = packing.unpack(self.score(x)).squeeze(-1).masked_fill(~packing.mask, float("-inf"))
        weight = packing.pack(torch.softmax(score, dim=1).nan_to_num(0.0))
        return packing.sum(weight.unsqueeze(-1) * x)
