"""Energy Flow Network: shapes, padding and permutation invariance, IRC safety, training."""

from __future__ import annotations

import pytest
import torch
from model_checks import one_step_reduces_loss, particle_batch, permuted, with_garbage_padding

from hepml.models.efn import EFN


def _model(**kw) -> EFN:
    torch.manual_seed(0)
    return EFN(2, 3, phi_hidden=[16, 8], rho_hidden=[16], **kw).eval()


def test_shapes_and_scalars():
    x = particle_batch(5, 9, s=2)
    assert _model()(**{k: v for k, v in x.items() if k != "scalars"}).shape == (5, 3)
    assert _model(n_scalar_features=2)(**x).shape == (5, 3)
    with pytest.raises(ValueError, match="no scalars"):
        _model(n_scalar_features=2)(x["particles_points"], x["particles_mask"], x["particles_vectors"])


def test_padding_and_permutation_invariance():
    m, x = _model(), particle_batch()
    out = m(**x)
    torch.testing.assert_close(m(**with_garbage_padding(x)), out)
    torch.testing.assert_close(m(**permuted(x)), out, rtol=1e-5, atol=1e-6)


def test_collinear_split_and_soft_emission_leave_the_output_unchanged():
    m, x = _model(), particle_batch(4, 8, min_count=3)
    out = m(**x)
    # split particle 0 of every jet into two collinear halves (same angles, half the momentum)
    split = {}
    for key in ("particles", "particles_points", "particles_vectors"):
        v = x[key]
        split[key] = torch.cat([v, v[:, :1]], dim=1)
    split["particles_vectors"][:, 0] *= 0.5
    split["particles_vectors"][:, -1] *= 0.5
    split["particles_mask"] = torch.cat([x["particles_mask"], torch.ones(4, 1, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(m(**split), out, rtol=1e-5, atol=1e-6)
    # a soft particle at any angle changes the output by O(its pT fraction)
    soft = {k: v.clone() for k, v in split.items()}
    soft["particles_vectors"][:, -1] = torch.tensor([1e-7, 0.0, 0.0, 1e-7])
    soft["particles_points"][:, -1] = torch.tensor([0.7, -0.6])
    soft["particles_vectors"][:, 0] *= 2.0
    torch.testing.assert_close(m(**soft), out, rtol=1e-5, atol=1e-5)


def test_weight_feature_reads_the_raw_pt_column():
    x = particle_batch()
    pt = torch.hypot(x["particles_vectors"][..., 0], x["particles_vectors"][..., 1])
    x["particles"][..., 2] = pt
    torch.testing.assert_close(_model(weight_feature=2)(**x), _model()(**x))
    with pytest.raises(ValueError, match="declare `vectors`"):
        _model()(x["particles_points"], x["particles_mask"])


def test_one_step_reduces_the_loss():
    torch.manual_seed(0)
    before, after = one_step_reduces_loss(EFN(2, 1, phi_hidden=[16, 8], rho_hidden=[16]), particle_batch(16))
    assert after < before
