"""Pairwise features of particles from their four-vectors (Qu, Li, Qian, "Particle Transformer for
Jet Tagging", 2022, eq. 3).

For particles a and b with transverse momenta ``pT``, rapidities ``y`` and azimuths ``phi``:
``Delta = sqrt((y_a - y_b)^2 + (phi_a - phi_b)^2)``, ``kT = min(pT_a, pT_b) Delta``,
``z = min(pT_a, pT_b) / (pT_a + pT_b)`` and ``m^2 = (E_a + E_b)^2 - |p_a + p_b|^2``; the
features are their logarithms (clamped at ``eps``). Shapes: ``vectors [B, N, 4]`` as
``(px, py, pz, E)`` and ``mask [B, N]`` -> ``[B, 4, N, N]`` in the order (ln kT, ln z, ln Delta,
ln m^2), zero wherever either particle is padding.
"""

from __future__ import annotations

import math

import torch

PAIR_FEATURES = ("ln_kt", "ln_z", "ln_delta", "ln_m2")


def arcsinh(x: torch.Tensor) -> torch.Tensor:
    """``asinh(x)`` as ``sign(x) ln(|x| + sqrt(x^2 + 1))`` (``torch.asinh`` has no ONNX operator
    in the TorchScript exporter; the odd form avoids the cancellation at large negative x)."""
    a = x.abs()
    return torch.sign(x) * torch.log(a + (a.square() + 1.0).sqrt())


def transverse(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """``sqrt(px^2 + py^2)`` (``torch.hypot`` has no ONNX operator, and this exports)."""
    return (px.square() + py.square()).sqrt()


def pair_features(vectors: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``[B, N, 4], [B, N] -> [B, 4, N, N]``: ln kT, ln z, ln Delta, ln m^2 of every pair."""
    px, py, pz, e = vectors.unbind(-1)
    pt = transverse(px, py)
    rapidity = 0.5 * torch.log((e + pz).clamp(min=eps) / (e - pz).clamp(min=eps))
    phi = torch.atan2(py, px)
    dy = rapidity.unsqueeze(2) - rapidity.unsqueeze(1)
    dphi = torch.remainder(phi.unsqueeze(2) - phi.unsqueeze(1) + math.pi, 2 * math.pi) - math.pi
    delta = torch.sqrt(dy.square() + dphi.square())
    pt_min = torch.minimum(pt.unsqueeze(2), pt.unsqueeze(1))
    kt = pt_min * delta
    z = pt_min / (pt.unsqueeze(2) + pt.unsqueeze(1)).clamp(min=eps)
    total = vectors.unsqueeze(2) + vectors.unsqueeze(1)
    m2 = total[..., 3].square() - total[..., :3].square().sum(-1)
    feats = torch.stack([kt, z, delta, m2], dim=1).clamp(min=eps).log()
    pair = (mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(1)
    return feats * pair.to(feats.dtype)
