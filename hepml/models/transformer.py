"""A plain transformer encoder over the particles with attention pooling (no pairwise features).

Vaswani et al., "Attention is all you need" (2017), in the layout of the small jet taggers that
ATLAS trains with its salt framework: a per-particle embedding network, pre-norm self-attention
blocks, a final layer norm, global attention pooling (Li et al. 2016) and a dense head. The default (``configs/model/
transformer.yaml``: 2 layers, 64 dimensions, 4 heads, MLP 128, head 128) has about 80k parameters.
Without positional input the output does not depend on the order of the particles.

Shapes: ``particles [B, N, F]``, ``particles_mask [B, N]``, optional ``scalars [B, S]`` (joined
after pooling) -> ``[B, n_outputs]``. Embedding, projections and feed-forward networks run on the
real particles only; attention (SDPA) on the batch trimmed to its longest jet.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.attention import AttentionBlock
from hepml.models.layers.pooling import AttentionPooling, Packing, exporting, trim
from hepml.models.mlp import MLP


class Transformer(nn.Module):
    """Transformer encoder tagger.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    dim, n_layers, n_heads, mlp_dim : width, depth, heads and feed-forward width of the encoder.
    embed_hidden : hidden widths of the per-particle embedding ``F -> dim``.
    head_hidden : hidden widths of the head after pooling (``head_dropout`` after each).
    dropout : on attention weights and residual branches.
    n_scalar_features : ``S`` (0 = none).
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        dim: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        mlp_dim: int = 128,
        embed_hidden: Sequence[int] = (64,),
        head_hidden: Sequence[int] = (128,),
        dropout: float = 0.0,
        head_dropout: float = 0.1,
        n_scalar_features: int = 0,
        activation: str = "ReLU",
    ):
        super().__init__()
        self.n_outputs, self.n_scalar_features = n_outputs, n_scalar_features
        self.embed = MLP(n_particle_features, dim, embed_hidden, activation)
        self.blocks = nn.ModuleList(AttentionBlock(dim, n_heads, mlp_dim, activation, dropout)
                                    for _ in range(n_layers))
        self.norm = nn.LayerNorm(dim)
        self.pool = AttentionPooling(dim)
        self.head = MLP(dim + n_scalar_features, n_outputs, head_hidden, activation, dropout=head_dropout)

    def forward(self, particles: torch.Tensor, particles_mask: torch.Tensor,
                scalars: torch.Tensor | None = None) -> torch.Tensor:
        if exporting():  # the padded batch with the mask (same values on the real particles)
            h = self.embed(particles)
            for block in self.blocks:
                h = block(h, particles_mask)
            pooled = self.pool(self.norm(h), particles_mask)
        else:
            mask, x = trim(particles_mask, particles)
            packing = Packing.of(mask)
            h = self.embed(packing.pack(x))
            for block in self.blocks:
                h = block.packed(h, packing)
            pooled = self.pool.packed(self.norm(h), packing)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("Transformer was built with n_scalar_features > 0 but got no scalars")
            pooled = torch.cat([pooled, scalars], dim=-1)
        return self.head(pooled)
