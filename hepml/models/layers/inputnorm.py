"""Input normalisation as module buffers, so a checkpoint (and an export) is self-contained."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


class InputNorm(nn.Module):
    """``(x - center) / scale`` per input group; padded particle slots are set back to 0.

    Parameters
    ----------
    stats : ``{group: {"center": ..., "scale": ..., "kind": ..., "flags": [[i, j], ...]}}``
        computed on the training split. Vectors ``[F]`` for scalars and particle lists (last
        axis); for images (``kind: image``) ``[C]`` (per channel) or ``[C, H, W]`` (per pixel).
        ``flags`` pairs a feature ``i`` with its missing-value flag ``j``: where the flag is set the
        normalised feature is 0 (the training mean), so a sentinel never reaches the network.
    """

    def __init__(self, stats: Mapping[str, Mapping[str, Any]]):
        super().__init__()
        self.groups = list(stats)
        self.kinds = {g: s.get("kind", "vector") for g, s in stats.items()}
        self.flags: dict[str, list[tuple[int, int]]] = {}
        for g, s in stats.items():
            center = torch.as_tensor(s["center"], dtype=torch.float32)
            scale = torch.as_tensor(s["scale"], dtype=torch.float32)
            if center.shape != scale.shape:
                raise ValueError(f"input group {g!r}: center and scale have shapes {tuple(center.shape)} "
                                 f"and {tuple(scale.shape)}")
            if self.kinds[g] == "image":
                if center.ndim == 1:
                    center, scale = center[:, None, None], scale[:, None, None]
                elif center.ndim != 3:
                    raise ValueError(f"image group {g!r}: center must be [C] or [C, H, W]")
            elif center.ndim != 1:
                raise ValueError(f"input group {g!r}: center and scale must be 1D of equal length")
            self.register_buffer(f"{g}_center", center)
            self.register_buffer(f"{g}_scale", scale)
            self.flags[g] = [(int(i), int(j)) for i, j in s.get("flags", [])]
            if self.flags[g]:  # the flag column of each feature (-1: none), not saved in checkpoints
                flag_of = torch.full((center.shape[0],), -1, dtype=torch.long)
                for i, j in self.flags[g]:
                    flag_of[i] = j
                self.register_buffer(f"{g}_flag_of", flag_of, persistent=False)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        missing = [g for g in self.groups if g not in inputs]
        if missing:
            raise KeyError(f"Missing input groups {missing}; got {sorted(inputs)}")
        out = dict(inputs)
        for g in self.groups:
            x = inputs[g]
            center, scale = getattr(self, f"{g}_center"), getattr(self, f"{g}_scale")
            if self.kinds[g] == "image":
                if x.ndim != 4 or x.shape[1] != center.shape[0]:
                    raise ValueError(f"image group {g!r} has shape {tuple(x.shape)}, normalisation "
                                     f"expects [B, {center.shape[0]}, H, W]")
            elif x.shape[-1] != center.shape[0]:
                raise ValueError(
                    f"input group {g!r} has {x.shape[-1]} features, normalisation expects {center.shape[0]}"
                )
            x = (x - center) / scale
            if self.flags[g]:  # flag features have centre 0 and scale 1, so they pass unchanged
                flag_of = getattr(self, f"{g}_flag_of")  # no in-place write: exports to ONNX
                flagged = (inputs[g].index_select(-1, flag_of.clamp(min=0)) > 0.5) & (flag_of >= 0)
                x = torch.where(flagged, torch.zeros_like(x), x)
            mask = inputs.get(f"{g}_mask")
            if mask is not None:
                x = x * mask.unsqueeze(-1).to(x.dtype)
            out[g] = x
        return out
