"""ParticleNet: dynamic graph convolutions on the jet as a particle cloud.

Qu, Gouskos, "ParticleNet: Jet Tagging via Particle Clouds", Phys. Rev. D 101 (2020) 056019.
EdgeConv blocks (Wang et al. 2019) on k-nearest-neighbour graphs: the first in the angular
coordinates ``particles_points [B, N, P]`` (declare ``points: [const_deta, const_dphi]`` in the
data group), each later one in the feature space of the block before (the graph is rebuilt, hence
"dynamic"); shortcuts inside each block, an optional fusion of all blocks' outputs (1x1
convolution), the mean over the real particles, and fully connected layers with dropout.

Shapes: ``particles [B, N, F]``, ``particles_mask [B, N]``, ``particles_points [B, N, P]``,
optional ``scalars [B, S]`` (joined after pooling) -> ``[B, n_outputs]``.

Configurations of the paper (``configs/model/particlenet_lite.yaml``, ``particlenet.yaml``):
ParticleNet-Lite k=7, EdgeConv (32, 32, 32) + (64, 64, 64), FC 128 (26k parameters); ParticleNet
k=16, (64, 64, 64) + (128, 128, 128) + (256, 256, 256), FC 256 (366k). The network runs on the
real particles only (each batch trimmed to its longest jet, the kNN by ``topk`` on the padded
distance matrix, the edge convolutions on packed rows), with the same weights as the padded form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from hepml.models.layers.edgeconv import EdgeConvBlock, knn, knn_padded
from hepml.models.layers.pooling import Packing, exporting, masked_mean, trim
from hepml.models.mlp import MLP, activation_layer


class ParticleNet(nn.Module):
    """ParticleNet.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    n_point_features : ``P``, coordinates of the first graph.
    k : neighbours per block (one number for all, or one per block).
    conv_widths : channel widths of each EdgeConv block.
    fc : hidden widths of the fully connected head (dropout ``dropout`` after each).
    fusion : concatenate every block's output and mix them with a 1x1 convolution (width
        ``clip(sum(outputs) // 128 * 128, 128, 1024)``) before pooling.
    input_norm : batch-normalise the particle features (over real particles) before the first block.
    n_scalar_features : ``S`` (0 = none).
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        n_point_features: int = 2,
        k: int | Sequence[int] = 16,
        conv_widths: Sequence[Sequence[int]] = ((64, 64, 64), (128, 128, 128), (256, 256, 256)),
        fc: Sequence[int] = (256,),
        dropout: float = 0.1,
        fusion: bool = False,
        input_norm: bool = True,
        n_scalar_features: int = 0,
        activation: str = "ReLU",
    ):
        super().__init__()
        if not conv_widths:
            raise ValueError("ParticleNet needs at least one EdgeConv block (conv_widths)")
        if n_point_features < 1:
            raise ValueError("ParticleNet needs coordinates for its first graph: declare `points` "
                             "(e.g. [const_deta, const_dphi]) in the data config's particle group")
        ks = [int(k)] * len(conv_widths) if isinstance(k, int) else [int(v) for v in k]
        if len(ks) != len(conv_widths) or min(ks) < 1:
            raise ValueError(f"k must be a positive number or one per block ({len(conv_widths)}), got {k}")
        self.n_outputs, self.ks, self.n_scalar_features = n_outputs, ks, n_scalar_features
        self.input_norm = nn.BatchNorm1d(n_particle_features) if input_norm else None
        blocks, n_in = [], n_particle_features
        for widths in conv_widths:
            blocks.append(EdgeConvBlock(n_in, list(widths), activation))
            n_in = widths[-1]
        self.blocks = nn.ModuleList(blocks)
        self.fusion = None
        if fusion:
            total = sum(w[-1] for w in conv_widths)
            n_in = min(max(total // 128 * 128, 128), 1024)
            self.fusion = nn.Sequential(nn.Linear(total, n_in, bias=False), nn.BatchNorm1d(n_in),
                                        activation_layer(activation))
        self.head = MLP(n_in + n_scalar_features, n_outputs, fc, activation, dropout=dropout)

    def forward(
        self,
        particles_points: torch.Tensor,
        particles: torch.Tensor,
        particles_mask: torch.Tensor,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if exporting():
            pooled = self._padded(particles_points, particles, particles_mask)
        else:
            pooled = self._packed(particles_points, particles, particles_mask)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("ParticleNet was built with n_scalar_features > 0 but got no scalars")
            pooled = torch.cat([pooled, scalars], dim=-1)
        return self.head(pooled)

    def _packed(self, points: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The pooled ``[B, C]`` with every network on the real particles only."""
        mask, points, x = trim(mask, points, x)
        packing = Packing.of(mask)
        h = packing.pack(x)
        if self.input_norm is not None:
            h = self.input_norm(h)
        outputs = []
        for i, (block, k) in enumerate(zip(self.blocks, self.ks, strict=True)):
            coords = points if i == 0 else packing.unpack(h)
            neighbours, valid = knn(coords, packing, k)
            h = block(h, neighbours, valid)
            outputs.append(h)
        if self.fusion is not None:
            h = self.fusion(torch.cat(outputs, dim=-1))
        return packing.mean(h)

    def _padded(self, points: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The same on the padded batch ``[B, N, ...]`` (for export; padded slots never reach a real one).
        ``k + 1`` empty slots are appended, so the traced ``topk`` holds for lists of any length."""
        pad = max(self.ks) + 1
        points, x = (torch.cat([t, t.new_zeros(t.shape[0], pad, t.shape[2])], dim=1) for t in (points, x))
        mask = torch.cat([mask, mask.new_zeros(mask.shape[0], pad)], dim=1)
        h = x
        if self.input_norm is not None:
            h = self.input_norm(h.reshape(-1, h.shape[-1])).reshape(h.shape)
        outputs = []
        for i, (block, k) in enumerate(zip(self.blocks, self.ks, strict=True)):
            neighbours, valid = knn_padded(points if i == 0 else h, mask, k)
            h = cast(EdgeConvBlock, block).padded(h, neighbours, valid)
            outputs.append(h)
        if self.fusion is not None:
            fused = torch.cat(outputs, dim=-1)
            h = self.fusion(fused.reshape(-1, fused.shape[-1])).reshape(*fused.shape[:2], -1)
        return masked_mean(h, mask)
