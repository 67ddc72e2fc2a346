"""k-nearest-neighbour graphs and the EdgeConv block (Wang et al., "Dynamic Graph CNN", 2019), on the
real particles only.

The graph is built on the padded batch (``topk`` of a ``[B, N, N]`` distance matrix, padded
particles and the particle itself at infinite distance) and used in the packed layout
(:class:`~hepml.models.layers.pooling.Packing`): ``x [M, C]`` and neighbour rows ``[M, k]``.
EdgeConv's first layer acts on ``(x_i, x_j - x_i)``: ``W (x_i, x_j - x_i) = (W_a - W_b) x_i + W_b
x_j``, so it is two per-particle products and a gather instead of one product per edge (the same
weights and output as the per-edge form, about k times fewer multiply-adds in that layer).
"""

from __future__ import annotations

import torch
from torch import nn

from hepml.models.layers.pooling import Packing
from hepml.models.mlp import activation_layer


def pairwise_sq_distances(x: torch.Tensor) -> torch.Tensor:
    """``[B, N, C] -> [B, N, N]`` squared Euclidean distances."""
    if x.shape[-1] <= 3:
        return (x.unsqueeze(2) - x.unsqueeze(1)).square().sum(-1)
    sq = x.square().sum(-1)
    return (sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * torch.bmm(x, x.transpose(1, 2))).clamp(min=0)


def knn(coords: torch.Tensor, packing: Packing, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest real neighbours of every real particle in ``coords [B, N, C]``.

    Returns
    -------
    neighbours : ``[M, k]`` packed rows of the neighbours (the particle itself where it has fewer
        than ``k`` other particles).
    valid : ``[M, k]`` bool, False for those filler entries.
    """
    b, n, _ = coords.shape
    neighbours, valid = knn_padded(coords, packing.mask, k)  # filler entries point to the slot itself
    rows = packing.position.gather(1, neighbours.reshape(b, -1)).view(b, n, k)  # slots -> packed rows
    return rows[packing.mask], valid[packing.mask]


def knn_padded(coords: torch.Tensor, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The neighbour search on the padded batch, with no data-dependent shapes (the exported
    graph's; :func:`knn` maps it to the packed rows): ``coords [B, N, C]``, ``mask [B, N]`` ->
    ``neighbours [B, N, k]`` (slots in the same event; the slot itself for filler entries) and
    ``valid [B, N, k]``. Padded slots get neighbours too, and are never read."""
    n = coords.shape[1]
    with torch.no_grad():
        d = pairwise_sq_distances(coords.detach())
        slots = torch.arange(n, device=coords.device)
        itself = slots.unsqueeze(0) == slots.unsqueeze(1)
        d = d.masked_fill(~mask.unsqueeze(1) | itself.unsqueeze(0), float("inf"))
        kk = min(k, max(n - 1, 1))
        dist, idx = d.topk(kk, dim=-1, largest=False, sorted=False)
        valid = torch.isfinite(dist)
        own = slots.view(1, n, 1).expand_as(idx)
        idx = torch.where(valid, idx, own)
        if kk < k:
            idx = torch.cat([idx, own[..., :1].expand(-1, -1, k - kk)], dim=-1)
            valid = torch.cat([valid, valid.new_zeros(*valid.shape[:2], k - kk)], dim=-1)
    return idx, valid


class EdgeConvBlock(nn.Module):
    """EdgeConv with ``k`` neighbours, channel widths ``widths`` and a shortcut (ParticleNet).

    ``x [M, C]``, ``neighbours, valid [M, k]`` -> ``[M, widths[-1]]``: per edge ``(x_i, x_j -
    x_i)`` through ``Linear -> BatchNorm -> activation`` layers, the mean over the valid
    neighbours, plus ``BatchNorm(Linear(x_i))``, then the activation.
    """

    def __init__(self, n_in: int, widths: list[int] | tuple[int, ...], activation: str = "ReLU"):
        super().__init__()
        if not widths:
            raise ValueError("EdgeConvBlock needs at least one channel width")
        self.n_in = n_in
        ins = [2 * n_in, *widths[:-1]]
        self.linears = nn.ModuleList(nn.Linear(a, w, bias=False) for a, w in zip(ins, widths, strict=True))
        self.norms = nn.ModuleList(nn.BatchNorm1d(w) for w in widths)
        self.act = activation_layer(activation)
        self.shortcut = nn.Linear(n_in, widths[-1], bias=False)
        self.shortcut_norm = nn.BatchNorm1d(widths[-1])

    def _project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.linears[0].weight
        w_center, w_edge = w[:, : self.n_in], w[:, self.n_in :]
        return x @ (w_center - w_edge).t(), x @ w_edge.t()

    def _finish(self, x: torch.Tensor, edges: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``edges [..., k, W0]`` (first layer before its norm), ``valid [..., k]``, ``x [..., C]``."""
        lead = edges.shape[:-1]
        h = self.act(self.norms[0](edges.reshape(-1, edges.shape[-1])))
        for lin, norm in zip(self.linears[1:], self.norms[1:], strict=True):
            h = self.act(norm(lin(h)))
        h = h.reshape(*lead, h.shape[-1])
        weight = valid.to(h.dtype).unsqueeze(-1)
        pooled = (h * weight).sum(-2) / weight.sum(-2).clamp(min=1.0)
        short = self.shortcut_norm(self.shortcut(x).reshape(-1, pooled.shape[-1])).reshape(pooled.shape)
        return self.act(pooled + short)

    def forward(self, x: torch.Tensor, neighbours: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        center, other = self._project(x)
        return self._finish(x, center.unsqueeze(1) + other[neighbours], valid)

    def padded(self, x: torch.Tensor, neighbours: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The same block on the padded batch (for export): ``x [B, N, C]``, ``neighbours, valid
        [B, N, k]`` (slots within the event, from :func:`knn_padded`) -> ``[B, N, widths[-1]]``."""
        center, other = self._project(x)
        b, n, k = neighbours.shape
        index = neighbours.reshape(b, n * k, 1).expand(-1, -1, other.shape[-1])
        edges = center.unsqueeze(2) + other.gather(1, index).reshape(b, n, k, other.shape[-1])
        return self._finish(x, edges, valid)
