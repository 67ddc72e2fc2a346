"""Particle Transformer (ParT): attention with pairwise interactions and class-attention readout.

Qu, Li, Qian, "Particle Transformer for Jet Tagging", ICML 2022 (arXiv:2202.03772). The particles
are embedded by an MLP; the pairwise features ln kT, ln z, ln Delta, ln m^2 of every pair
(:mod:`hepml.models.layers.pairwise`, from the four-vectors) are embedded by a per-pair MLP into one
bias per attention head, added to the attention logits of every particle attention block
(``softmax(Q K^T / sqrt(d) + U) V``); then a class token attends to the particles in class-
attention blocks, and a linear head reads it. No positional input: the output does not depend on
the order of the particles.

Shapes: ``particles [B, N, F]``, ``particles_vectors [B, N, 4]`` as (px, py, pz, E) (declare
``vectors`` in the data group), ``particles_mask [B, N]``, optional ``scalars [B, S]`` (joined
before the head) -> ``[B, n_outputs]``. The pair embedding runs on the real pairs only, the batch
is trimmed to its longest jet. ``use_pairs: false`` drops the interaction (the paper's ablation).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.attention import AttentionBlock, ClassAttentionBlock
from hepml.models.layers.pairwise import PAIR_FEATURES, pair_features
from hepml.models.layers.pooling import Packing, exporting, trim
from hepml.models.mlp import MLP, activation_layer


class PairEmbedding(nn.Module):
    """``[B, 4, N, N]`` pair features -> ``[B, H, N, N]`` attention biases (0 for padded pairs):
    batch norm, then ``Linear -> BatchNorm -> activation`` layers and a linear map to ``H``."""

    def __init__(self, n_heads: int, hidden: Sequence[int] = (64, 64), activation: str = "GELU"):
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm1d(len(PAIR_FEATURES))]
        n_in = len(PAIR_FEATURES)
        for w in hidden:
            layers += [nn.Linear(n_in, w), nn.BatchNorm1d(w), activation_layer(activation)]
            n_in = w
        layers.append(nn.Linear(n_in, n_heads))
        self.net = nn.Sequential(*layers)
        self.n_heads = n_heads

    def forward(self, pairs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, _, n, _ = pairs.shape
        pair_mask = mask.unsqueeze(2) & mask.unsqueeze(1)
        real = self.net(pairs.permute(0, 2, 3, 1)[pair_mask])
        out = pairs.new_zeros(b, n, n, self.n_heads)
        out[pair_mask] = real
        return out.permute(0, 3, 1, 2)


class ParticleTransformer(nn.Module):
    """Particle Transformer.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    dim, n_heads, mlp_dim : width, heads and feed-forward width of every block.
    n_layers, n_class_layers : particle-attention and class-attention blocks (paper: 8 and 2).
    embed_hidden : hidden widths of the particle embedding ``F -> dim``.
    pair_hidden : hidden widths of the pair embedding ``4 -> n_heads``.
    head_hidden : hidden widths of the head on the class token.
    dropout : on attention weights and residual branches.
    use_pairs : add the pairwise interaction to the attention.
    n_scalar_features : ``S`` (0 = none).
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        dim: int = 64,
        n_heads: int = 4,
        mlp_dim: int = 256,
        n_layers: int = 3,
        n_class_layers: int = 2,
        embed_hidden: Sequence[int] = (64,),
        pair_hidden: Sequence[int] = (32, 32),
        head_hidden: Sequence[int] = (),
        dropout: float = 0.1,
        use_pairs: bool = True,
        n_scalar_features: int = 0,
        activation: str = "GELU",
    ):
        super().__init__()
        self.n_outputs, self.n_scalar_features = n_outputs, n_scalar_features
        self.embed = MLP(n_particle_features, dim, embed_hidden, activation)
        self.pairs = PairEmbedding(n_heads, pair_hidden, activation) if use_pairs else None
        self.blocks = nn.ModuleList(AttentionBlock(dim, n_heads, mlp_dim, activation, dropout)
                                    for _ in range(n_layers))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.class_blocks = nn.ModuleList(ClassAttentionBlock(dim, n_heads, mlp_dim, activation, dropout)
                                          for _ in range(n_class_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = MLP(dim + n_scalar_features, n_outputs, head_hidden, activation)

    def forward(
        self,
        particles: torch.Tensor,
        particles_vectors: torch.Tensor,
        particles_mask: torch.Tensor,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if exporting():  # the padded batch (padded slots never reach a real particle)
            mask, x, vectors = particles_mask, particles, particles_vectors
            h = self.embed(x)
        else:
            mask, x, vectors = trim(particles_mask, particles, particles_vectors)
            packing = Packing.of(mask)
            h = packing.unpack(self.embed(packing.pack(x)))
        bias = self.pairs(pair_features(vectors, mask), mask) if self.pairs is not None else None
        for block in self.blocks:
            h = block(h, mask, bias)
        cls = self.cls_token + h.new_zeros(h.shape[0], 1, h.shape[-1])  # (not a view: no-grad safe)
        for block in self.class_blocks:
            cls = block(cls, h, mask)
        out = self.norm(cls[:, 0])
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("ParticleTransformer was built with n_scalar_features > 0 but got no scalars")
            out = torch.cat([out, scalars], dim=-1)
        return self.head(out)
