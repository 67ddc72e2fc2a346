"""Attention blocks over particle sets (``torch.nn.functional.scaled_dot_product_attention``).

Vaswani et al., "Attention is all you need" (2017), with the pre-norm residual layout (Xiong et
al. 2020). Shapes: ``x [B, N, D]`` with ``mask [B, N]``; an optional additive bias ``[B, H, N, N]``
(the pairwise interaction of the particle transformer); padded keys never receive weight. Every
block also runs in the packed layout (:class:`~hepml.models.layers.pooling.Packing`): projections
and the feed-forward network on the real particles only, attention on the padded batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hepml.models.layers.pooling import Packing
from hepml.models.mlp import activation_layer


def key_mask(mask: torch.Tensor) -> torch.Tensor:
    """``[B, N] -> [B, 1, 1, N]`` boolean SDPA mask; an event without particles attends to its
    (zero) padded slots, so no row is all-masked."""
    empty = ~mask.any(dim=1, keepdim=True)
    return (mask | empty)[:, None, None, :]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with one packed input projection ``[D] -> [3D]`` (query, key, value)."""

    def __init__(self, dim: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"attention width {dim} is not divisible by n_heads={n_heads}")
        self.dim, self.n_heads, self.dropout = dim, n_heads, dropout
        self.in_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.n_heads, -1).transpose(1, 2)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
               bias: torch.Tensor | None = None) -> torch.Tensor:
        """Projected ``q [B, Nq, D]``, ``k, v [B, Nk, D]`` -> ``[B, Nq, D]`` (before ``out_proj``)."""
        keys = key_mask(mask)
        attn_mask = keys if bias is None else bias.masked_fill(~keys, float("-inf"))
        out = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v),
                                             attn_mask=attn_mask,
                                             dropout_p=self.dropout if self.training else 0.0)
        b, _, n, _ = out.shape
        return out.transpose(1, 2).reshape(b, n, self.dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        return self.out_proj(self.attend(q, k, v, mask, bias))

    def cross(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``query [B, Nq, D]`` attending to ``keys [B, Nk, D]`` (``mask [B, Nk]``)."""
        w, b = self.in_proj.weight, self.in_proj.bias
        d = self.dim
        q = F.linear(query, w[:d], b[:d])
        k, v = F.linear(keys, w[d:], b[d:]).chunk(2, dim=-1)
        return self.out_proj(self.attend(q, k, v, mask))


class FeedForward(nn.Sequential):
    """``Linear(D, H) -> activation -> dropout -> Linear(H, D)``."""

    def __init__(self, dim: int, hidden: int, activation: str = "ReLU", dropout: float = 0.0):
        super().__init__(nn.Linear(dim, hidden), activation_layer(activation), nn.Dropout(dropout),
                         nn.Linear(hidden, dim))


class AttentionBlock(nn.Module):
    """Pre-norm self-attention block: ``x + MHA(LN(x))`` then ``x + FFN(LN(x))``, ``[B, N, D]``.

    Parameters
    ----------
    dim, n_heads : width and heads of the attention.
    mlp_dim : hidden width of the feed-forward network.
    dropout : on the attention weights and after each residual branch.
    """

    def __init__(self, dim: int, n_heads: int, mlp_dim: int, activation: str = "ReLU",
                 dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, n_heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, mlp_dim, activation, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), mask, bias))
        return x + self.drop(self.ffn(self.norm2(x)))

    def packed(self, x: torch.Tensor, packing: Packing, bias: torch.Tensor | None = None) -> torch.Tensor:
        """The same block on the real particles ``[M, D]`` (attention on the padded batch)."""
        q, k, v = packing.unpack(self.attn.in_proj(self.norm1(x))).chunk(3, dim=-1)
        att = packing.pack(self.attn.attend(q, k, v, packing.mask, bias))
        x = x + self.drop(self.attn.out_proj(att))
        return x + self.drop(self.ffn(self.norm2(x)))


class ClassAttentionBlock(nn.Module):
    """Class attention (Touvron et al. 2021, as in the particle transformer): a class token
    ``[B, 1, D]`` attends to itself and the particles ``[B, N, D]``; the particles stay fixed."""

    def __init__(self, dim: int, n_heads: int, mlp_dim: int, activation: str = "ReLU",
                 dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, n_heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, mlp_dim, activation, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, cls: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keys = self.norm1(torch.cat([cls, x], dim=1))
        full = torch.cat([mask.new_ones(mask.shape[0], 1), mask], dim=1)
        cls = cls + self.drop(self.attn.cross(keys[:, :1], keys, full))
        return cls + self.drop(self.ffn(self.norm2(cls)))
