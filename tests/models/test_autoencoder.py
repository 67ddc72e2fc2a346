"""Autoencoders: output shape = input shape, and training improves the reconstruction."""

from __future__ import annotations

import pytest
import torch

from hepml.models.autoencoder import ConvAutoencoder, DenseAutoencoder


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks train fastest on one thread (and never oversubscribe a shared machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("shape", [(1, 25, 25), (1, 11, 11), (2, 8, 6)])
def test_autoencoders_reproduce_the_input_shape(shape):
    x = torch.randn(3, *shape)
    assert ConvAutoencoder(shape, channels=[4, 8], latent=4)(x).shape == x.shape
    assert DenseAutoencoder(shape, hidden=[16], latent=4)(x).shape == x.shape
    assert ConvAutoencoder(shape, channels=[4], latent=4).encode(x).shape == (3, 4)


@pytest.mark.parametrize("cls", [DenseAutoencoder, ConvAutoencoder])
def test_reconstruction_of_a_constant_image_improves_with_training(cls):
    torch.manual_seed(0)
    target = torch.full((16, 1, 11, 11), 0.7)
    model = cls([1, 11, 11], latent=4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = torch.mean((model(target) - target) ** 2).item()
    for _ in range(60):
        opt.zero_grad()
        loss = torch.mean((model(target) - target) ** 2)
        loss.backward()
        opt.step()
    after = torch.mean((model(target) - target) ** 2).item()
    assert after < 0.02 * before
    assert after < 1e-2


def test_autoencoder_shape_errors():
    with pytest.raises(ValueError, match=r"\[C, H, W\]"):
        DenseAutoencoder([25, 25])
    with pytest.raises(ValueError, match=r"expects images \[B, 1, 11, 11\]"):
        ConvAutoencoder([1, 11, 11])(torch.randn(2, 1, 25, 25))
