"""Per-event weighted losses. Each takes ``(output [B, K], target [B], weight [B] | None)``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def weighted_mean(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if weight is None:
        return values.mean()
    return (values * weight).sum() / weight.sum().clamp(min=1e-12)


class RegressionLoss(nn.Module):
    """Base: ``n_outputs`` is the model width the loss expects; ``point`` maps outputs to the
    point prediction in (normalised) target space."""

    n_outputs = 1

    def point(self, output: torch.Tensor) -> torch.Tensor:
        return output[:, 0]

    def sigma(self, output: torch.Tensor) -> torch.Tensor | None:
        return None


class MSE(RegressionLoss):
    def forward(self, output, target, weight=None):
        return weighted_mean((output[:, 0] - target) ** 2, weight)


class L1(RegressionLoss):
    """Absolute error: its minimiser is the median, robust to the tails of the response."""

    def forward(self, output, target, weight=None):
        return weighted_mean((output[:, 0] - target).abs(), weight)


class Huber(RegressionLoss):
    def __init__(self, delta: float = 1.0):
        super().__init__()
        self.delta = delta

    def forward(self, output, target, weight=None):
        return weighted_mean(F.huber_loss(output[:, 0], target, reduction="none", delta=self.delta), weight)


class LogCosh(RegressionLoss):
    def forward(self, output, target, weight=None):
        d = output[:, 0] - target
        # log(cosh(d)) = |d| + log1p(exp(-2|d|)) - log 2, stable for large |d|
        return weighted_mean(d.abs() + torch.log1p(torch.exp(-2 * d.abs())) - math.log(2.0), weight)


class GaussianNLL(RegressionLoss):
    """Negative log-likelihood of a Gaussian with a predicted per-event width.

    Output column 0 is the mean, column 1 the log of the standard deviation.
    """

    n_outputs = 2

    def forward(self, output, target, weight=None):
        mu, log_sigma = output[:, 0], output[:, 1].clamp(-7.0, 7.0)
        nll = 0.5 * ((target - mu) / log_sigma.exp()) ** 2 + log_sigma
        return weighted_mean(nll, weight)

    def sigma(self, output):
        return output[:, 1].clamp(-7.0, 7.0).exp()


class BinaryCrossEntropy(nn.Module):
    """BCE on one logit; ``class_weights = [w_background, w_signal]`` multiply per-event weights."""

    n_outputs = 1

    def __init__(self, class_weights: Sequence[float] | None = None):
        super().__init__()
        self.register_buffer("class_weights", torch.as_tensor(class_weights or [1.0, 1.0], dtype=torch.float32))

    def forward(self, output, label, weight=None):
        w = self.class_weights[label]
        w = w if weight is None else w * weight
        loss = F.binary_cross_entropy_with_logits(output[:, 0], label.float(), reduction="none")
        return weighted_mean(loss, w)


class CrossEntropy(nn.Module):
    """Multi-class cross entropy on ``n_classes`` logits, with optional class weights."""

    def __init__(self, n_classes: int, class_weights: Sequence[float] | None = None):
        super().__init__()
        self.n_outputs = n_classes
        self.register_buffer(
            "class_weights", torch.as_tensor(class_weights or [1.0] * n_classes, dtype=torch.float32)
        )

    def forward(self, output, label, weight=None):
        w = self.class_weights[label]
        w = w if weight is None else w * weight
        return weighted_mean(F.cross_entropy(output, label, reduction="none"), w)
