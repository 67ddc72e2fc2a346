"""Energy Flow Network: an infrared- and collinear-safe Deep Sets over the jet constituents.

Komiske, Metodiev, Thaler, "Energy Flow Networks: Deep Sets for Particle Jets", JHEP 01 (2019)
121. The per-particle network sees only the angular coordinates, and its outputs are summed with
the energy fractions as weights::

    EFN(jet) = F( sum_i z_i Phi(y_i, phi_i) ),    z_i = pT_i / sum_j pT_j

A particle split into two collinear halves, or one of vanishing pT, leaves the sum unchanged, so
the output is IRC safe (the existing :class:`~hepml.models.deepsets.DeepSets` is the PFN, the
same network with every feature, particle ID included, in ``Phi``).

Shapes: ``particles_points [B, N, P]`` (the angles, e.g. ``[const_deta, const_dphi]``: declare
``points`` in the data group), ``particles_mask [B, N]``, and the energy weights from
``particles_vectors [B, N, 4]`` (``pT = hypot(px, py)``: declare ``vectors``) or, with
``weight_feature = i``, from feature ``i`` of ``particles [B, N, F]`` (a variable declared with no
transform, ``center: null`` and ``scale: null``, so that it stays linear in the energy); optional
``scalars [B, S]`` join after the sum. Output ``[B, n_outputs]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.pairwise import transverse
from hepml.models.layers.pooling import Packing, exporting
from hepml.models.mlp import MLP, activation_layer


class EFN(nn.Module):
    """Energy Flow Network.

    Parameters
    ----------
    n_point_features : ``P``, the angular coordinates per particle (2).
    n_outputs : output width.
    phi_hidden : widths of the per-particle network; the last is the latent size.
    rho_hidden : hidden widths of ``F``.
    n_scalar_features : ``S`` (0 = none).
    weight_feature : index of the raw pT feature in ``particles`` (None: pT from the vectors).
    """

    def __init__(
        self,
        n_point_features: int = 2,
        n_outputs: int = 1,
        phi_hidden: Sequence[int] = (64, 64, 64),
        rho_hidden: Sequence[int] = (64, 64),
        n_scalar_features: int = 0,
        weight_feature: int | None = None,
        activation: str = "ReLU",
        dropout: float = 0.0,
    ):
        super().__init__()
        if not phi_hidden:
            raise ValueError("phi_hidden needs at least one width (the latent size)")
        if n_point_features < 1:
            raise ValueError("EFN needs the particles' angular coordinates: declare `points` "
                             "(e.g. [const_deta, const_dphi]) in the data config's particle group")
        self.n_outputs = n_outputs
        *body, latent = phi_hidden
        self.phi = nn.Sequential(MLP(n_point_features, latent, body, activation), activation_layer(activation))
        self.rho = MLP(latent + n_scalar_features, n_outputs, rho_hidden, activation, dropout=dropout)
        self.n_scalar_features = n_scalar_features
        self.weight_feature = weight_feature
        # the groups read: the raw features only for the energy weights (an exported graph then
        # takes exactly these inputs)
        self.input_groups = ["particles_points", "particles_mask", "particles_vectors"]
        if weight_feature is not None:
            self.input_groups.append("particles")
        if n_scalar_features:
            self.input_groups.append("scalars")

    def energy_fractions(self, mask: torch.Tensor, vectors: torch.Tensor | None,
                         particles: torch.Tensor | None) -> torch.Tensor:
        """``z [B, N]``: each real particle's share of the summed pT (0 in padded slots)."""
        if self.weight_feature is not None:
            if particles is None:
                raise ValueError("EFN with weight_feature needs the `particles` input")
            pt = particles[..., self.weight_feature]
        elif vectors is not None:
            pt = transverse(vectors[..., 0], vectors[..., 1])
        else:
            raise ValueError("EFN needs the particles' pT: declare `vectors` in the data config's particle "
                             "group, or set model.weight_feature to a raw pT feature")
        pt = pt * mask.to(pt.dtype)
        return pt / pt.sum(dim=1, keepdim=True).clamp(min=1e-12)

    def forward(
        self,
        particles_points: torch.Tensor,
        particles_mask: torch.Tensor,
        particles_vectors: torch.Tensor | None = None,
        particles: torch.Tensor | None = None,
        scalars: torch.Tensor | None = None,
    ) -> torch.Tensor:
        z = self.energy_fractions(particles_mask, particles_vectors, particles)
        if exporting():  # the padded batch (z is 0 in padded slots)
            latent = (z.unsqueeze(-1) * self.phi(particles_points)).sum(dim=1)
        else:
            packing = Packing.of(particles_mask)  # Phi on the real particles only
            latent = packing.sum(packing.pack(z.unsqueeze(-1)) * self.phi(packing.pack(particles_points)))
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("EFN was built with n_scalar_features > 0 but got no scalars")
            latent = torch.cat([latent, scalars], dim=-1)
        return self.rho(latent)
