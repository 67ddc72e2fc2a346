"""Deep Sets / Particle Flow Network over a padded particle list.

Zaheer et al., "Deep Sets" (2017); Komiske, Metodiev, Thaler, "Energy Flow Networks" (2019).
A per-particle network ``phi`` maps each particle ``[B, N, F] -> [B, N, L]``; a masked sum (or
mean) over particles gives a permutation-invariant latent ``[B, L]``, optionally concatenated with
event-level scalars ``[B, S]``; ``rho`` maps it to ``[B, n_outputs]``. ``phi`` runs on the real
particles only (``particles[mask]``, summed back per event with ``index_add_``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.pooling import Packing, exporting, masked_mean, masked_sum
from hepml.models.mlp import MLP


class DeepSets(nn.Module):
    """Permutation-invariant network on ``particles [B, N, F]`` with ``particles_mask [B, N]``.

    Parameters
    ----------
    n_particle_features : ``F``.
    n_outputs : output width.
    phi_hidden : hidden widths of the per-particle network; its last entry is the latent size.
    rho_hidden : hidden widths of the network after pooling.
    n_scalar_features : ``S``, event-level inputs concatenated after pooling (0 = none).
    pooling : ``sum`` or ``mean`` over the valid particles.
    """

    def __init__(
        self,
        n_particle_features: int,
        n_outputs: int = 1,
        phi_hidden: Sequence[int] = (64, 64),
        rho_hidden: Sequence[int] = (64, 64),
        n_scalar_features: int = 0,
        pooling: str = "sum",
        activation: str = "ReLU",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        if pooling not in ("sum", "mean"):
            raise ValueError(f"pooling must be 'sum' or 'mean', got {pooling!r}")
        if not phi_hidden:
            raise ValueError("phi_hidden needs at least one width (the latent size)")
        self.n_outputs = n_outputs
        *phi_body, latent = phi_hidden
        self.phi = MLP(n_particle_features, latent, phi_body, activation)
        self.act = nn.ReLU()
        self.pooling = pooling
        self.n_scalar_features = n_scalar_features
        self.rho = MLP(latent + n_scalar_features, n_outputs, rho_hidden, activation, batch_norm, dropout)

    def forward(
        self,
        particles: torch.Tensor,
        particles_mask: torch.Tensor,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if exporting():
            # exported graphs: the padded batch with the mask (data-dependent packing does not trace)
            h = self.act(self.phi(particles))
            pooled = (masked_mean if self.pooling == "mean" else masked_sum)(h, particles_mask)
        else:
            packing = Packing.of(particles_mask)  # phi on the real particles only, summed back per event
            h = self.act(self.phi(packing.pack(particles)))
            pooled = packing.mean(h) if self.pooling == "mean" else packing.sum(h)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("DeepSets was built with n_scalar_features > 0 but got no scalars")
            pooled = torch.cat([pooled, scalars], dim=-1)
        return self.rho(pooled)
