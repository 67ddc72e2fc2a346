"""Fully connected network on a vector of scalar features.

Shapes: ``scalars [B, F] -> [B, n_outputs]``. Options cover the lecture's training aids: batch
normalisation (Ioffe & Szegedy 2015), dropout (Srivastava et al. 2014) and residual connections
between hidden layers of equal width (He et al. 2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def activation_layer(name: str) -> nn.Module:
    """``torch.nn`` activation by class name, e.g. ``ReLU``, ``GELU``, ``SiLU``, ``Tanh``."""
    cls = getattr(nn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"unknown activation {name!r}; use a torch.nn class name such as ReLU, GELU, SiLU")
    return cls()


class Block(nn.Module):
    """Linear -> (BatchNorm) -> activation -> (Dropout), with an optional skip connection."""

    def __init__(self, n_in: int, n_out: int, activation: str, batch_norm: bool, dropout: float,
                 residual: bool):
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(activation_layer(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)
        self.residual = residual and n_in == n_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class MLP(nn.Module):
    """Multi-layer perceptron.

    Parameters
    ----------
    n_inputs : number of input features ``F``.
    n_outputs : output width (1 for binary classification or plain regression).
    hidden : widths of the hidden layers.
    activation : ``torch.nn`` activation class name.
    batch_norm, dropout, residual : per hidden block.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int = 1,
        hidden: Sequence[int] = (64, 64),
        activation: str = "ReLU",
        batch_norm: bool = False,
        dropout: float = 0.0,
        residual: bool = False,
    ):
        super().__init__()
        if n_inputs < 1:
            raise ValueError(f"MLP needs at least one input feature, got n_inputs={n_inputs}")
        self.n_outputs = n_outputs
        widths = [n_inputs, *hidden]
        self.blocks = nn.Sequential(
            *(Block(a, b, activation, batch_norm, dropout, residual) for a, b in zip(widths[:-1], widths[1:], strict=True))
        )
        self.head = nn.Linear(widths[-1], n_outputs)

    def forward(self, scalars: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(scalars))
