"""Model shapes, masking and permutation invariance."""

from __future__ import annotations

import pytest
import torch

from hepml.models.deepsets import DeepSets
from hepml.models.layers.inputnorm import InputNorm
from hepml.models.mlp import MLP


def test_mlp_shapes_and_options():
    x = torch.randn(7, 4)
    assert MLP(4, 3, [8, 8])(x).shape == (7, 3)
    m = MLP(4, 1, [8, 8, 8], batch_norm=True, dropout=0.2, residual=True)
    assert m(x).shape == (7, 1)
    assert MLP(4, 1, [])(x).shape == (7, 1)  # logistic regression
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(4, 1, [8], activation="Relu6x")


def test_deepsets_is_permutation_invariant_and_ignores_padding():
    torch.manual_seed(0)
    m = DeepSets(3, 2, phi_hidden=[16, 8], rho_hidden=[8]).eval()
    x = torch.randn(4, 6, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0]] * 4, dtype=torch.bool)
    out = m(x, mask)
    perm = torch.tensor([2, 0, 1, 3, 4, 5])
    torch.testing.assert_close(m(x[:, perm], mask[:, perm]), out)
    x2 = x.clone()
    x2[:, 3:] = 99.0  # padded slots hold garbage
    torch.testing.assert_close(m(x2, mask), out)


def test_deepsets_mean_pooling_and_scalars():
    m = DeepSets(3, 1, phi_hidden=[8], n_scalar_features=2, pooling="mean")
    out = m(torch.randn(5, 4, 3), torch.ones(5, 4, dtype=torch.bool), torch.randn(5, 2))
    assert out.shape == (5, 1)
    with pytest.raises(ValueError, match="no scalars"):
        m(torch.randn(5, 4, 3), torch.ones(5, 4, dtype=torch.bool))


def test_inputnorm_buffers_and_masking():
    norm = InputNorm({"s": {"center": [1.0, 2.0], "scale": [2.0, 4.0]}, "p": {"center": [1.0], "scale": [1.0]}})
    assert set(norm.state_dict()) == {"s_center", "s_scale", "p_center", "p_scale"}
    out = norm({"s": torch.tensor([[3.0, 6.0]]), "p": torch.tensor([[[2.0], [0.0]]]),
                "p_mask": torch.tensor([[True, False]])})
    torch.testing.assert_close(out["s"], torch.tensor([[1.0, 1.0]]))
    torch.testing.assert_close(out["p"], torch.tensor([[[1.0], [0.0]]]))
    with pytest.raises(KeyError, match=r"Missing input groups \['p'\]"):
        norm({"s": torch.zeros(1, 2)})
