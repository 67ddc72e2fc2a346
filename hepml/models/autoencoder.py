"""Autoencoders on images, for anomaly detection by reconstruction error.

Trained to reproduce their input through a narrow latent space on one class of events (QCD
jets), they reconstruct that class well and others (W, top jets) worse: the reconstruction error
is the anomaly score (Heimel, Kasieczka, Plehn, Thompson, SciPost Phys. 6 (2019) 030; Farina,
Nakai, Shih, Phys. Rev. D 101 (2020) 075021). Shapes: ``images [B, C, H, W] -> [B, C, H, W]``.

* :class:`DenseAutoencoder`: flattened pixels -> MLP encoder -> latent -> MLP decoder;
* :class:`ConvAutoencoder`: stride-2 convolutions down to a small feature map, a dense latent,
  and nearest-neighbour upsampling + convolutions back to exactly ``H x W``.

Outputs are linear (inputs are standardised by the task's input normalisation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from hepml.models.layers.conv import ConvBlock, per_layer
from hepml.models.mlp import MLP, activation_layer


def _shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    if len(image_shape) != 3 or not all(int(s) > 0 for s in image_shape):
        raise ValueError(f"image_shape must be [C, H, W], got {list(image_shape)}")
    return int(image_shape[0]), int(image_shape[1]), int(image_shape[2])


class DenseAutoencoder(nn.Module):
    """Fully connected autoencoder on the flattened image.

    Parameters
    ----------
    image_shape : ``[C, H, W]``.
    hidden : encoder widths (the decoder mirrors them).
    latent : latent-space size.
    activation, batch_norm, dropout : of the hidden layers.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        hidden: Sequence[int] = (128, 64),
        latent: int = 8,
        activation: str = "ReLU",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.image_shape = _shape(image_shape)
        n = math.prod(self.image_shape)
        if latent < 1:
            raise ValueError(f"latent must be positive, got {latent}")
        self.encoder = MLP(n, latent, hidden, activation, batch_norm, dropout)
        self.decoder = MLP(latent, n, list(reversed(list(hidden))), activation, batch_norm, dropout)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"DenseAutoencoder expects images [B, {', '.join(map(str, self.image_shape))}], "
                f"got {tuple(images.shape)}"
            )
        return self.encoder(images.flatten(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(images)).view(-1, *self.image_shape)


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder.

    Parameters
    ----------
    image_shape : ``[C, H, W]``.
    channels : filters of the encoder's stride-2 convolutions (the size halves, rounding up, at
        each); the decoder mirrors them.
    latent : latent-space size (a dense bottleneck between the feature maps).
    kernel_sizes : odd kernel size per encoder layer (or one for all).
    activation, batch_norm : of the convolutions.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int] = (16, 32),
        latent: int = 16,
        kernel_sizes: int | Sequence[int] = 3,
        activation: str = "ReLU",
        batch_norm: bool = False,
    ):
        super().__init__()
        self.image_shape = _shape(image_shape)
        if not channels:
            raise ValueError("channels needs at least one entry")
        if latent < 1:
            raise ValueError(f"latent must be positive, got {latent}")
        c, h, w = self.image_shape
        kernels = per_layer(kernel_sizes, len(channels), "kernel_sizes")
        widths = [c, *channels]
        self.sizes = [(h, w)]
        for _ in channels:
            ph, pw = self.sizes[-1]
            self.sizes.append(((ph + 1) // 2, (pw + 1) // 2))
        self.encoder = nn.Sequential(
            *(
                ConvBlock(widths[i], widths[i + 1], kernels[i], batch_norm, activation, stride=2)
                for i in range(len(channels))
            )
        )
        bh, bw = self.sizes[-1]
        self.bottleneck = (channels[-1], bh, bw)
        n_flat = channels[-1] * bh * bw
        self.to_latent = nn.Linear(n_flat, latent)
        self.from_latent = nn.Sequential(nn.Linear(latent, n_flat), activation_layer(activation))
        up = []
        for i in reversed(range(len(channels))):
            last = i == 0
            up.append(
                nn.Conv2d(
                    widths[i + 1],
                    widths[i] if not last else channels[0],
                    kernels[i],
                    padding=kernels[i] // 2,
                )
            )
        self.up = nn.ModuleList(up)
        self.up_act = nn.ModuleList(activation_layer(activation) for _ in up)
        self.out = nn.Conv2d(channels[0], c, 3, padding=1)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"ConvAutoencoder expects images [B, {', '.join(map(str, self.image_shape))}], "
                f"got {tuple(images.shape)}"
            )
        return self.to_latent(self.encoder(images).flatten(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.from_latent(self.encode(images)).view(-1, *self.bottleneck)
        for conv, act, size in zip(self.up, self.up_act, reversed(self.sizes[:-1]), strict=True):
            x = act(conv(F.interpolate(x, size=size, mode="nearest")))
        return self.out(x)
