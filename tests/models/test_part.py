"""Particle transformer: pair features against hand-computed values, shapes, padding and
permutation invariance, the pairwise bias reaches the output, training."""

from __future__ import annotations

import math

import pytest
import torch
from model_checks import one_step_reduces_loss, particle_batch, permuted, with_garbage_padding

from hepml.models.layers.pairwise import pair_features
from hepml.models.part import ParticleTransformer


def _inputs(x):
    return {k: x[k] for k in ("particles", "particles_vectors", "particles_mask")}


def _small(**kw) -> ParticleTransformer:
    torch.manual_seed(0)
    return ParticleTransformer(4, 3, dim=16, n_heads=2, mlp_dim=32, n_layers=2, n_class_layers=1,
                               embed_hidden=[16], pair_hidden=[8], dropout=0.0, **kw).eval()


def _vector(pt, eta, phi, m=0.0):
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return [px, py, pz, math.sqrt(px**2 + py**2 + pz**2 + m**2)]


def test_pair_features_known_values():
    # two massless particles: pT 10 and 30, rapidities 0 and 0.3, azimuths 0 and 0.4
    v = torch.tensor([[_vector(10.0, 0.0, 0.0), _vector(30.0, 0.3, 0.4), [0.0] * 4]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False]])
    f = pair_features(v, mask)
    delta = math.hypot(0.3, 0.4)
    a, b = v[0, 0], v[0, 1]
    m2 = float((a[3] + b[3]) ** 2 - ((a[:3] + b[:3]) ** 2).sum())
    expected = [math.log(10 * delta), math.log(10 / 40), math.log(delta), math.log(m2)]
    torch.testing.assert_close(f[0, :, 0, 1], torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(f[0, :, 1, 0], f[0, :, 0, 1])
    assert (f[0, :, 2] == 0).all() and (f[0, :, :, 2] == 0).all()
    # m^2 = 2 pT_a pT_b (cosh dy - cos dphi) for massless particles
    assert m2 == pytest.approx(2 * 10 * 30 * (math.cosh(0.3) - math.cos(0.4)), rel=1e-9)


def test_shapes_and_scalars():
    x = particle_batch(5, 9, s=2)
    assert _small()(**_inputs(x)).shape == (5, 3)
    assert _small(n_scalar_features=2)(**_inputs(x), scalars=x["scalars"]).shape == (5, 3)


def test_padding_and_permutation_invariance():
    m, x = _small(), _inputs(particle_batch(6, 10))
    out = m(**x)
    torch.testing.assert_close(m(**with_garbage_padding(x)), out)
    torch.testing.assert_close(m(**permuted(x)), out, rtol=1e-4, atol=1e-5)


def test_the_pairwise_bias_changes_the_output():
    x = _inputs(particle_batch(4, 8))
    with_pairs = _small()
    shuffled = dict(x)
    shuffled["particles_vectors"] = x["particles_vectors"].flip(0)  # other jets' kinematics
    shuffled["particles_mask"] = x["particles_mask"]
    full = x["particles_mask"].all(1)
    assert not torch.allclose(with_pairs(**x)[full], with_pairs(**shuffled)[full])
    without = _small(use_pairs=False)
    torch.testing.assert_close(without(**x)[full], without(**shuffled)[full])


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    m = ParticleTransformer(4, 1, dim=16, n_heads=2, mlp_dim=32, n_layers=1, n_class_layers=1,
                            embed_hidden=[16], pair_hidden=[8], dropout=0.0)
    before, after = one_step_reduces_loss(m, _inputs(particle_batch(16)))
    assert after < before
