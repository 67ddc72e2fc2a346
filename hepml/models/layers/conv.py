"""Convolutional blocks shared by the image models (CNN, convolutional autoencoder).

Shapes are ``[B, C, H, W]``; every convolution pads to keep ``H, W`` ("same" padding, odd
kernels), so only pooling or a stride changes the image size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.mlp import activation_layer


def _check_kernel(kernel_size: int) -> int:
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f"kernel sizes must be odd positive integers (same padding), got {kernel_size!r}"
        )
    return kernel_size


def per_layer(value: int | Sequence[int], n: int, name: str) -> list[int]:
    """``value`` repeated for ``n`` layers, or the list itself when it has ``n`` entries."""
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    if len(values) != n:
        raise ValueError(
            f"{name} has {len(values)} entries for {n} convolutional layers: give one "
            "per entry of `channels`, or a single number"
        )
    return values


class ConvBlock(nn.Module):
    """Conv2d (same padding) -> (BatchNorm2d) -> activation -> (MaxPool2d) -> (Dropout2d).

    Parameters
    ----------
    n_in, n_out : input and output channels.
    kernel_size : odd kernel size.
    batch_norm : batch normalisation after the convolution.
    activation : ``torch.nn`` activation class name.
    pool : max-pooling size (1 = none); the image shrinks to ``floor(H / pool)``.
    dropout : channel dropout probability.
    stride : convolution stride (the autoencoder's encoder downsamples with 2).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        kernel_size: int = 3,
        batch_norm: bool = True,
        activation: str = "ReLU",
        pool: int = 1,
        dropout: float = 0.0,
        stride: int = 1,
    ):
        super().__init__()
        k = _check_kernel(kernel_size)
        self.conv = nn.Conv2d(n_in, n_out, k, stride=stride, padding=k // 2, bias=not batch_norm)
        layers: list[nn.Module] = [self.conv]
        if batch_norm:
            layers.append(nn.BatchNorm2d(n_out))
        layers.append(activation_layer(activation))
        if pool > 1:
            layers.append(nn.MaxPool2d(pool))
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualBlock(nn.Module):
    """Two same-padded convolutions with a skip connection (He et al., CVPR 2016, "basic block").

    ``y = act(BN(conv(act(BN(conv(x))))) + skip(x))`` with ``skip`` the identity, or a 1x1
    convolution when the channel count changes; then optional max pooling and channel dropout.
    The first convolution is ``conv`` (the filters an interpretation reads).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        kernel_size: int = 3,
        batch_norm: bool = True,
        activation: str = "ReLU",
        pool: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        k = _check_kernel(kernel_size)
        self.conv = nn.Conv2d(n_in, n_out, k, padding=k // 2, bias=not batch_norm)
        self.conv2 = nn.Conv2d(n_out, n_out, k, padding=k // 2, bias=not batch_norm)
        self.norm1 = nn.BatchNorm2d(n_out) if batch_norm else nn.Identity()
        self.norm2 = nn.BatchNorm2d(n_out) if batch_norm else nn.Identity()
        self.act1, self.act2 = activation_layer(activation), activation_layer(activation)
        self.skip = nn.Identity() if n_in == n_out else nn.Conv2d(n_in, n_out, 1, bias=False)
        tail: list[nn.Module] = []
        if pool > 1:
            tail.append(nn.MaxPool2d(pool))
        if dropout > 0:
            tail.append(nn.Dropout2d(dropout))
        self.tail = nn.Sequential(*tail)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.norm1(self.conv(x)))
        y = self.norm2(self.conv2(y))
        return self.tail(self.act2(y + self.skip(x)))


def conv_stack(
    n_channels: int,
    channels: Sequence[int],
    kernel_sizes: int | Sequence[int] = 3,
    pooling: int | Sequence[int] = 1,
    residual: bool = False,
    batch_norm: bool = True,
    activation: str = "ReLU",
    dropout: float = 0.0,
) -> nn.Sequential:
    """``len(channels)`` blocks: :class:`ConvBlock`, or :class:`ResidualBlock` (``residual``)."""
    if not channels:
        raise ValueError("channels needs at least one entry (the first convolution's filters)")
    n = len(channels)
    kernels = per_layer(kernel_sizes, n, "kernel_sizes")
    pools = per_layer(pooling, n, "pooling")
    block = ResidualBlock if residual else ConvBlock
    widths = [n_channels, *channels]
    return nn.Sequential(
        *(
            block(widths[i], widths[i + 1], kernels[i], batch_norm, activation, pools[i], dropout)
            for i in range(n)
        )
    )


def pooled_size(size: Sequence[int], pooling: Sequence[int]) -> tuple[int, int]:
    """``(H, W)`` after the max-pooling sizes ``pooling`` (each floors the size)."""
    h, w = int(size[0]), int(size[1])
    for p in pooling:
        if p > 1:
            h, w = h // p, w // p
    if h < 1 or w < 1:
        raise ValueError(
            f"an image of {list(size)} pixels vanishes under the pooling {list(pooling)}: "
            "pool less (entries of 1 keep the size)"
        )
    return h, w
