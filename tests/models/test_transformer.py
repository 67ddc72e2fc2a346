"""Plain transformer: shapes, parameter count, padding and permutation invariance, the packed
blocks against the padded ones, training."""

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

from hepml.models.layers.attention import AttentionBlock
from hepml.models.layers.pooling import AttentionPooling, Packing
from hepml.models.transformer import Transformer


def _inputs(x):
    return {k: x[k] for k in ("particles", "particles_mask")}


def _small(**kw) -> Transformer:
    torch.manual_seed(0)
    return Transformer(4, 3, dim=16, n_layers=2, n_heads=2, mlp_dim=32, embed_hidden=[16],
                       head_hidden=[16], **kw).eval()


def test_default_size_is_the_salt_benchmark_model():
    # 2 layers, 64 dims, 4 heads, MLP 128, attention pooling, head 128 on 7 features: ~80k
    assert 79_000 < n_parameters(Transformer(7, 2)) < 81_000


def test_shapes_and_scalars():
    x = particle_batch(5, 9, s=2)
    assert _small()(**_inputs(x)).shape == (5, 3)
    assert _small(n_scalar_features=2)(x["particles"], x["particles_mask"], x["scalars"]).shape == (5, 3)
    with pytest.raises(ValueError, match="no scalars"):
        _small(n_scalar_features=2)(**_inputs(x))


def test_padding_and_permutation_invariance():
    m, x = _small(), _inputs(particle_batch(6, 11))
    out = m(**x)
    torch.testing.assert_close(m(**with_garbage_padding(x)), out)
    torch.testing.assert_close(m(**permuted(x)), out, rtol=1e-4, atol=1e-5)


def test_packed_block_and_pooling_equal_the_padded_ones():
    torch.manual_seed(2)
    block, pool = AttentionBlock(8, 2, 16).eval(), AttentionPooling(8)
    x = particle_batch(4, 7, f=8)
    mask = x["particles_mask"]
    packing = Packing.of(mask)
    padded = block(x["particles"], mask)
    packed = block.packed(packing.pack(x["particles"]), packing)
    torch.testing.assert_close(packed, padded[mask], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(pool.packed(packed, packing), pool(padded, mask), rtol=1e-5, atol=1e-6)


def test_an_event_without_particles_gives_a_finite_output():
    x = _inputs(particle_batch(3, 5))
    x["particles_mask"][1] = False
    x["particles"][1] = 0.0
    assert torch.isfinite(_small()(**x)).all()


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    m = Transformer(4, 1, dim=16, n_heads=2, mlp_dim=32, embed_hidden=[16], head_hidden=[16], head_dropout=0.0)
    before, after = one_step_reduces_loss(m, _inputs(particle_batch(16)))
    assert after < before
