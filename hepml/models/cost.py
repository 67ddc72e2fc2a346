"""What a model costs: parameters and multiply-accumulate operations (MACs) per example.

MACs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one real forward pass (matrix
products, convolutions and attention; elementwise operations are not counted), halved (one MAC =
two floating-point operations) and divided by the batch size. A model that skips padded particles
is counted as it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def n_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def macs_per_example(forward: Callable[[], Any], n_examples: int) -> float:
    """MACs of one call of ``forward()`` (a forward pass over ``n_examples`` examples), per example."""
    from torch.utils.flop_counter import FlopCounterMode

    if n_examples < 1:
        raise ValueError(f"n_examples must be positive, got {n_examples}")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        forward()
    return counter.get_total_flops() / 2 / n_examples
