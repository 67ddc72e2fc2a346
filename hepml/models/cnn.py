"""Convolutional network on detector images (jet images, calorimeter crystal grids).

de Oliveira, Kagan, Mackey, Nachman, Schwartzman, "Jet-images - deep learning edition",
JHEP 07 (2016) 069 (W vs QCD on 25x25 jet images); He et al., CVPR 2016 (residual blocks).
Shapes: ``images [B, C, H, W]`` (and optional ``scalars [B, S]``) ``-> [B, n_outputs]``.

A stack of same-padded convolutions with batch norm, optional pooling per layer and optional
residual blocks, then either the flattened feature map (``head: flatten``, which keeps where in
the image a feature lies: in aligned jet images the position of the second prong is the mass)
or a global average/max pool (``avg``/``max``, independent of the image size). Event-level
scalars (the jet mass, shower shapes) are concatenated before the dense layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hepml.models.layers.conv import conv_stack, per_layer, pooled_size
from hepml.models.mlp import MLP

HEADS = ("flatten", "avg", "max")


class CNN(nn.Module):
    """Convolutions -> (flatten | global pool) -> [concat scalars] -> MLP.

    Parameters
    ----------
    n_channels : image channels ``C``.
    image_size : ``[H, W]``; needed by ``head: flatten`` (the width of the dense input).
    n_outputs : output width.
    channels : filters of each convolutional layer.
    kernel_sizes : odd kernel size per layer (or one for all).
    pooling : max-pooling size after each layer (1 = none; or one for all).
    residual : residual blocks (two convolutions and a skip each) instead of single convolutions.
    batch_norm : batch normalisation after every convolution and dense layer.
    dropout : channel dropout in the convolutions and dropout in the dense layers.
    head : ``flatten``, ``avg`` or ``max``.
    hidden : widths of the dense layers after the convolutions.
    n_scalar_features : ``S``, event-level inputs concatenated before the dense layers (0 = none).
    activation : ``torch.nn`` activation class name.
    """

    def __init__(
        self,
        n_channels: int,
        image_size: Sequence[int] | None = None,
        n_outputs: int = 1,
        channels: Sequence[int] = (16, 32, 32),
        kernel_sizes: int | Sequence[int] = 3,
        pooling: int | Sequence[int] = 2,
        residual: bool = False,
        batch_norm: bool = True,
        dropout: float = 0.0,
        head: str = "flatten",
        hidden: Sequence[int] = (64,),
        n_scalar_features: int = 0,
        activation: str = "ReLU",
    ):
        super().__init__()
        if n_channels < 1:
            raise ValueError(f"CNN needs at least one image channel, got n_channels={n_channels}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        self.n_outputs = n_outputs
        self.n_channels = n_channels
        self.n_scalar_features = n_scalar_features
        self.head = head
        pools = per_layer(pooling, len(channels), "pooling")
        self.features = conv_stack(
            n_channels, channels, kernel_sizes, pools, residual, batch_norm, activation, dropout
        )
        if head == "flatten":
            if image_size is None or len(image_size) != 2:
                raise ValueError(
                    "head=flatten needs image_size [H, W] "
                    "(e.g. ${image_size:${data.inputs.images}})"
                )
            self.image_size = (int(image_size[0]), int(image_size[1]))
            h, w = pooled_size(self.image_size, pools)
            n_flat = channels[-1] * h * w
        else:
            self.image_size = (
                None if image_size is None else (int(image_size[0]), int(image_size[1]))
            )
            n_flat = channels[-1]
        self.dense = MLP(
            n_flat + n_scalar_features, n_outputs, hidden, activation, batch_norm, dropout
        )

    @property
    def first_conv(self) -> nn.Conv2d:
        """The first convolution: its filters ``[channels[0], C, k, k]`` are the lecture's."""
        return self.features[0].conv

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The image features before the dense layers, ``[B, n_flat]``."""
        if images.ndim != 4 or images.shape[1] != self.n_channels:
            raise ValueError(
                f"CNN expects images [B, {self.n_channels}, H, W], got {tuple(images.shape)}"
            )
        if self.head == "flatten" and tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(
                f"CNN was built for {list(self.image_size)} images (head=flatten), got "
                f"{list(images.shape[-2:])}"
            )
        h = self.features(images)
        if self.head == "flatten":
            return h.flatten(1)
        return h.mean(dim=(2, 3)) if self.head == "avg" else h.amax(dim=(2, 3))

    def forward(self, images: torch.Tensor, scalars: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(images)
        if self.n_scalar_features:
            if scalars is None:
                raise ValueError("CNN was built with n_scalar_features > 0 but got no scalars")
            h = torch.cat([h, scalars], dim=-1)
        return self.dense(h)
