"""ParticleNet: shapes, parameter counts of the paper's configurations, padding and permutation
invariance, the packed EdgeConv against the per-edge form, training."""

from __future__ import annotations

import pytest
import torch
from model_checks import (
    n_parameters,
    one_step_reduces_loss,
    particle_batch,
    permuted,
    with_garbage_padding,
)

from hepml.models.layers.edgeconv import EdgeConvBlock, knn
from hepml.models.layers.pooling import Packing
from hepml.models.particlenet import ParticleNet

LITE = {"k": 7, "conv_widths": [[32, 32, 32], [64, 64, 64]], "fc": [128]}
FULL = {"k": 16, "conv_widths": [[64, 64, 64], [128, 128, 128], [256, 256, 256]], "fc": [256]}


def _small(**kw) -> ParticleNet:
    torch.manual_seed(0)
    return ParticleNet(4, 2, k=3, conv_widths=[[8, 8], [16]], fc=[16], **kw).eval()


def test_paper_parameter_counts():
    # weaver-core's ParticleNet-Lite (use_fusion=False) on 7 features, 2 classes: 26,416
    assert n_parameters(ParticleNet(7, 2, **LITE)) == 26_416
    assert 360_000 < n_parameters(ParticleNet(7, 2, **FULL)) < 375_000


def test_shapes_scalars_and_fusion():
    x = particle_batch(5, 12, s=3)
    assert _small()(x["particles_points"], x["particles"], x["particles_mask"]).shape == (5, 2)
    assert _small(n_scalar_features=3, fusion=True)(**{k: x[k] for k in
                                                       ("particles_points", "particles", "particles_mask", "scalars")}).shape == (5, 2)
    with pytest.raises(ValueError, match="one per block"):
        ParticleNet(4, 1, k=[3], conv_widths=[[8], [8]])


def _inputs(x):
    return {k: x[k] for k in ("particles_points", "particles", "particles_mask")}


def test_padding_and_permutation_invariance():
    m, x = _small(), _inputs(particle_batch(6, 12, min_count=2))
    out = m(**x)
    torch.testing.assert_close(m(**with_garbage_padding(x)), out)
    torch.testing.assert_close(m(**permuted(x)), out, rtol=1e-4, atol=1e-5)
    # extra padded slots at the end change nothing either (the batch is trimmed)
    longer = {k: torch.cat([v, torch.zeros_like(v[:, :5])], dim=1) for k, v in x.items()}
    torch.testing.assert_close(m(**longer), out)


def test_jets_with_fewer_particles_than_k():
    x = _inputs(particle_batch(4, 3, min_count=1))
    out = _small()(**x)
    assert out.shape == (4, 2) and torch.isfinite(out).all()


def test_knn_finds_the_nearest_real_particles():
    coords = torch.tensor([[[0.0], [1.0], [3.0], [0.2], [9.0]]])
    mask = torch.tensor([[True, True, True, True, False]])
    packing = Packing.of(mask)
    rows, valid = knn(coords, packing, 2)
    assert valid.all()
    assert [sorted(r) for r in rows.tolist()] == [[1, 3], [0, 3], [1, 3], [0, 1]]


def test_packed_edgeconv_equals_the_per_edge_form():
    torch.manual_seed(1)
    block = EdgeConvBlock(3, [5, 4]).eval()
    x = torch.randn(6, 3)
    nbr = torch.randint(0, 6, (6, 2))
    valid = torch.ones(6, 2, dtype=torch.bool)
    edge = torch.cat([x.unsqueeze(1).expand(-1, 2, -1), x[nbr] - x.unsqueeze(1)], dim=-1)
    h = edge.reshape(12, 6)
    for lin, norm in zip(block.linears, block.norms, strict=True):
        h = torch.relu(norm(lin(h)))
    expected = torch.relu(h.view(6, 2, -1).mean(1) + block.shortcut_norm(block.shortcut(x)))
    torch.testing.assert_close(block(x, nbr, valid), expected)


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    m = ParticleNet(4, 1, k=3, conv_widths=[[8, 8], [16]], fc=[16], dropout=0.0)
    before, after = one_step_reduces_loss(m, _inputs(particle_batch(16, 10)))
    assert after < before
