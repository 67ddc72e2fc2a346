"""Checks shared by the model tests: random particle batches, padding and permutation invariance,
and one optimiser step on a fixed batch."""

from __future__ import annotations

import math

import torch
from torch import nn


def particle_batch(b: int = 6, n: int = 10, f: int = 4, s: int = 0, seed: int = 0,
                   min_count: int = 1, group: str = "particles") -> dict[str, torch.Tensor]:
    """A padded batch of jets: features, prefix mask, angular points and physical 4-vectors."""
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(min_count, n + 1, (b,), generator=gen)
    counts[0] = n  # one full event
    mask = torch.arange(n)[None, :] < counts[:, None]
    pt = torch.rand(b, n, generator=gen) * 50 + 1.0
    eta = torch.randn(b, n, generator=gen) * 0.3
    phi = torch.randn(b, n, generator=gen) * 0.3
    e = pt * torch.cosh(eta) * 1.01
    vectors = torch.stack([pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta), e], dim=-1)
    m = mask.unsqueeze(-1).float()
    out = {
        group: torch.randn(b, n, f, generator=gen) * m,
        f"{group}_mask": mask,
        f"{group}_points": torch.stack([eta, phi], dim=-1) * m,
        f"{group}_vectors": vectors * m,
    }
    if s:
        out["scalars"] = torch.randn(b, s, generator=gen)
    return out


def with_garbage_padding(inputs: dict[str, torch.Tensor], group: str = "particles") -> dict[str, torch.Tensor]:
    """The same batch with large values in every padded slot of ``group``."""
    mask = inputs[f"{group}_mask"]
    out = dict(inputs)
    for key in (group, f"{group}_points", f"{group}_vectors"):
        if key in inputs:
            x = inputs[key].clone()
            x[~mask] = 7.5 if key != f"{group}_vectors" else 40.0
            out[key] = x
    return out


def permuted(inputs: dict[str, torch.Tensor], seed: int = 1, group: str = "particles") -> dict[str, torch.Tensor]:
    """The same batch with the particles of ``group`` in another order (padding moved too)."""
    n = inputs[f"{group}_mask"].shape[1]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    out = dict(inputs)
    for key, x in inputs.items():
        if key.startswith(group) and x.ndim >= 2 and x.shape[1] == n:
            out[key] = x[:, perm]
    return out


def one_step_reduces_loss(model: nn.Module, inputs: dict[str, torch.Tensor], n_outputs: int = 1,
                          lr: float = 1e-3, seed: int = 0) -> tuple[float, float]:
    """Loss on a fixed batch before and after one Adam step (training mode, fixed dropout seed)."""
    b = next(v for v in inputs.values() if torch.is_tensor(v)).shape[0]
    gen = torch.Generator().manual_seed(seed)
    if n_outputs == 1:
        target = torch.randint(0, 2, (b,), generator=gen).float()

        def loss_fn(out):
            return nn.functional.binary_cross_entropy_with_logits(out[:, 0], target)
    else:
        target = torch.randint(0, n_outputs, (b,), generator=gen)

        def loss_fn(out):
            return nn.functional.cross_entropy(out, target)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    torch.manual_seed(seed)
    before = loss_fn(model(**inputs))
    opt.zero_grad()
    before.backward()
    opt.step()
    torch.manual_seed(seed)
    with torch.no_grad():
        after = loss_fn(model(**inputs))
    assert math.isfinite(before.item()) and math.isfinite(after.item())
    return before.item(), after.item()


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
