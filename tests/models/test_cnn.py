"""CNN shapes with and without scalars, residual blocks, heads, and errors that name the fix."""

from __future__ import annotations

import pytest
import torch

from hepml.models.cnn import CNN
from hepml.models.layers.conv import ConvBlock, ResidualBlock, conv_stack, pooled_size


@pytest.mark.parametrize("size", [(25, 25), (11, 11)])
@pytest.mark.parametrize("head", ["flatten", "avg", "max"])
def test_cnn_output_shapes(size, head):
    torch.manual_seed(0)
    m = CNN(1, size, n_outputs=3, channels=[4, 8], pooling=[2, 1], head=head)
    assert m(torch.randn(5, 1, *size)).shape == (5, 3)


def test_cnn_with_scalars_uses_them():
    torch.manual_seed(0)
    m = CNN(2, [11, 11], channels=[4, 8], pooling=2, n_scalar_features=3).eval()
    images, scalars = torch.randn(6, 2, 11, 11), torch.randn(6, 3)
    out = m(images, scalars)
    assert out.shape == (6, 1)
    assert not torch.allclose(m(images, scalars + 1.0), out)  # the scalars reach the output
    with pytest.raises(ValueError, match="no scalars"):
        m(images)


def test_cnn_without_scalars_ignores_them():
    m = CNN(1, [25, 25], channels=[4], pooling=2).eval()
    images = torch.randn(3, 1, 25, 25)
    torch.testing.assert_close(m(images, torch.randn(3, 5)), m(images))


def test_residual_cnn_and_flattened_width():
    m = CNN(1, [25, 25], channels=[4, 8, 8], kernel_sizes=[5, 3, 3], pooling=2, residual=True)
    assert isinstance(m.features[0], ResidualBlock)
    assert m.first_conv.weight.shape == (4, 1, 5, 5)
    assert m.dense.blocks[0].body[0].in_features == 8 * 3 * 3  # 25 -> 12 -> 6 -> 3
    assert m(torch.randn(2, 1, 25, 25)).shape == (2, 1)


def test_same_padding_keeps_the_size_and_pooling_floors_it():
    x = torch.randn(2, 3, 11, 11)
    assert ConvBlock(3, 5, kernel_size=5)(x).shape == (2, 5, 11, 11)
    assert ResidualBlock(3, 5, pool=2)(x).shape == (2, 5, 5, 5)
    assert conv_stack(3, [4, 4], pooling=[1, 2])(x).shape == (2, 4, 5, 5)
    assert pooled_size((25, 25), [2, 2, 2]) == (3, 3)


def test_cnn_errors_name_the_option():
    with pytest.raises(ValueError, match="image_size"):
        CNN(1, None, head="flatten")
    with pytest.raises(ValueError, match="odd"):
        CNN(1, [11, 11], kernel_sizes=4)
    with pytest.raises(ValueError, match="kernel_sizes has 2 entries"):
        CNN(1, [11, 11], channels=[4, 4, 4], kernel_sizes=[3, 3])
    with pytest.raises(ValueError, match="vanishes"):
        CNN(1, [5, 5], channels=[4, 4, 4], pooling=2)
    m = CNN(1, [11, 11], channels=[4])
    with pytest.raises(ValueError, match=r"built for \[11, 11\]"):
        m(torch.randn(2, 1, 25, 25))
    with pytest.raises(ValueError, match=r"images \[B, 1, H, W\]"):
        m(torch.randn(2, 11, 11))
