"""Parameters and MACs per example against hand counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hepml.models.cost import macs_per_example, n_parameters
from hepml.models.particlenet import ParticleNet


def test_linear_layers_known_macs():
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 2))
    x = torch.randn(4, 10)
    assert macs_per_example(lambda: model(x), 4) == 10 * 5 + 5 * 2
    assert n_parameters(model) == 10 * 5 + 5 + 5 * 2 + 2
    with pytest.raises(ValueError, match="positive"):
        macs_per_example(lambda: model(x), 0)


def test_packed_models_are_counted_as_they_run():
    torch.manual_seed(0)
    model = ParticleNet(3, 1, k=2, conv_widths=[[4]], fc=[4]).eval()
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[:, :3] = True
    x, p = torch.randn(2, 6, 3), torch.randn(2, 6, 2)
    half = macs_per_example(lambda: model(p, x, mask), 2)
    mask[:, :6] = True
    assert macs_per_example(lambda: model(p, x, mask), 2) > 1.9 * half - 20  # twice the particles
