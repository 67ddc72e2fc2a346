"""Input normalisation as module buffers, so a checkpoint (and an export) is self-contained."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn


class InputNorm(nn.Module):
    """``(x - center) / scale`` per input group; padded particle slots are set back to 0.

    Parameters
    ----------
    stats : ``{group: {"center": [F], "scale": [F]}}`` computed on the training split.
    """

    def __init__(self, stats: Mapping[str, Mapping[str, Sequence[float]]]):
        super().__init__()
        self.groups = list(stats)
        for g, s in stats.items():
            center = torch.as_tensor(s["center"], dtype=torch.float32)
            scale = torch.as_tensor(s["scale"], dtype=torch.float32)
            if center.shape != scale.shape or center.ndim != 1:
                raise ValueError(f"input group {g!r}: center and scale must be 1D of equal length")
            self.register_buffer(f"{g}_center", center)
            self.register_buffer(f"{g}_scale", scale)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        missing = [g for g in self.groups if g not in inputs]
        if missing:
            raise KeyError(f"Missing input groups {missing}; got {sorted(inputs)}")
        out = dict(inputs)
        for g in self.groups:
            x = inputs[g]
            center, scale = getattr(self, f"{g}_center"), getattr(self, f"{g}_scale")
            if x.shape[-1] != center.shape[0]:
                raise ValueError(
                    f"input group {g!r} has {x.shape[-1]} features, normalisation expects {center.shape[0]}"
                )
            x = (x - center) / scale
            mask = inputs.get(f"{g}_mask")
            if mask is not None:
                x = x * mask.unsqueeze(-1).to(x.dtype)
            out[g] = x
        return out
