"""The exported graph: raw file values in, physical predictions out.

:class:`RawGroup` repeats, in torch, what :mod:`hepml.data.columns` does to one input group (per
variable ``log``/``log1p``/``abs``, ``clip``, sentinel detection with its ``<name>_missing`` flag,
padded particle slots) and :class:`ExportedModel` chains it with the task's input normalisation
(:class:`~hepml.models.layers.inputnorm.InputNorm`: centre, scale, sentinels to 0, padding
mask), the model and the task's head (sigmoid/softmax, or the inverse of the target transform
times the ratio reference). The transforms run in float64, as in the data layer, so the network
sees the same float32 inputs as in training.

Shapes: a scalar group ``[B, F]``; a particle list ``[B, N, F]`` with ``<group>_mask [B, N]``
(bool), ``<group>_points [B, N, P]``, ``<group>_vectors [B, N, 4]``, ``<group>_tree [B, N - 1, 2]``
(int64); an image ``[B, C, H, W]``;
``ref [B]`` when the regression target is a ratio. ``F`` counts the raw variables only (the
missing-value flags are made inside).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from hepml.data.schema import InputGroup
from hepml.models.layers.inputnorm import InputNorm

TRANSFORM_CODES = {None: 0, "log": 1, "log1p": 2, "abs": 3}


class RawGroup(nn.Module):
    """Raw values of one scalar or particle-list group -> the float32 features of training.

    Parameters
    ----------
    group : the group as the data config declares it.
    """

    code: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor
    has_clip: torch.Tensor
    sentinel: torch.Tensor
    by_value: torch.Tensor
    by_nan: torch.Tensor
    fill: torch.Tensor

    def __init__(self, group: InputGroup):
        super().__init__()
        self.name = group.name
        self.is_list = group.is_list
        vs = group.variables
        self.register_buffer("code", torch.tensor([TRANSFORM_CODES[v.transform] for v in vs]))
        self.register_buffer("lo", torch.tensor([v.clip[0] if v.clip else -math.inf for v in vs],
                                                dtype=torch.float64))
        self.register_buffer("hi", torch.tensor([v.clip[1] if v.clip else math.inf for v in vs],
                                                dtype=torch.float64))
        self.register_buffer("has_clip", torch.tensor([v.clip is not None for v in vs]))
        self.register_buffer("sentinel", torch.tensor(
            [0.0 if v.missing is None or math.isnan(v.missing) else v.missing for v in vs],
            dtype=torch.float64))
        self.register_buffer("by_value", torch.tensor(
            [v.missing is not None and not math.isnan(v.missing) for v in vs]))
        self.register_buffer("by_nan", torch.tensor(
            [v.missing is not None and math.isnan(v.missing) for v in vs]))
        fill = [v.pad_value for v in vs] if group.is_list else [0.0] * len(vs)
        self.register_buffer("fill", torch.tensor(fill, dtype=torch.float64))
        self.flagged = [group.names.index(v.name) for v in group.flagged]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x.to(torch.float64)
        missing = (self.by_value & (x == self.sentinel)) | (self.by_nan & torch.isnan(x))
        ok = ~missing
        if mask is not None:
            ok = ok & mask.unsqueeze(-1)
        safe = torch.where(ok, x, torch.ones_like(x))
        t = torch.where(self.code == 1, torch.log(safe), safe)
        t = torch.where(self.code == 2, torch.log1p(safe), t)
        t = torch.where(self.code == 3, torch.abs(safe), t)
        t = torch.where(self.has_clip, torch.minimum(torch.maximum(t, self.lo), self.hi), t)
        out = torch.where(ok, t, self.fill).to(torch.float32)
        if not self.flagged:
            return out
        flags = missing[..., self.flagged]
        if mask is not None:
            flags = flags & mask.unsqueeze(-1)
        return torch.cat([out, flags.to(torch.float32)], dim=-1)


class RawImage(nn.Module):
    """An image group's ``pt_normalize`` (divide by the image sum) and ``log`` (log(1 + x))."""

    def __init__(self, group: InputGroup):
        super().__init__()
        self.pt_normalize, self.log = group.pt_normalize, group.log

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        if self.pt_normalize:
            total = x.sum(dim=(1, 2, 3), keepdim=True)
            x = x / torch.where(total > 0, total, torch.ones_like(total))
        if self.log:
            x = torch.log1p(x)
        return x


class ExportedGraph(nn.Module):
    """Raw inputs (positional, in the order of ``input_names``) -> the prediction columns named
    in ``output_names`` (of the dict :meth:`predict` returns): what the writers trace."""

    input_names: list[str]
    output_names: list[str]

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pred = self.predict(*tensors)
        return tuple(pred[k] for k in self.output_names)

    def predict(self, *tensors: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class ExportedModel(ExportedGraph):
    """Raw inputs (positional, in the order of ``input_names``) -> the task's predictions.

    Parameters
    ----------
    task : a hepml task (model, head, target buffers) with its checkpoint state loaded.
    groups : the input groups the model reads, as the data config declares them.
    stats : the checkpoint's statistics (``stats["inputs"][group]``: centre, scale, flags).
    input_names : the graph inputs, e.g. ``["particles", "particles_mask", "ref"]``.
    output_names : columns of ``task.predictions`` returned, e.g. ``["pred"]`` or ``["score"]``.
    """

    task: Any
    model: nn.Module

    def __init__(self, task: Any, groups: Sequence[InputGroup], stats: Mapping[str, Any],
                 input_names: Sequence[str], output_names: Sequence[str]):
        super().__init__()
        # the task's head (predictions) is called, but the LightningModule is not registered as a
        # submodule: tracing it would reach for its trainer; its model is
        object.__setattr__(self, "task", task)
        self.model = task.model
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self.group_names = [g.name for g in groups]
        valued = [g for g in groups if g.name in self.input_names]  # groups whose values are inputs
        self.raw = nn.ModuleDict({g.name: RawImage(g) if g.kind == "image" else RawGroup(g)
                                  for g in valued})
        self.norm = InputNorm({g.name: stats["inputs"][g.name] for g in valued})
        self.model_inputs: list[str] = list(task.model_inputs)

    def predict(self, *tensors: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every prediction column of the task (``score``, ``probabilities``, ``pred``, ...)."""
        raw = dict(zip(self.input_names, tensors, strict=True))
        inputs: dict[str, torch.Tensor] = {}
        for name in self.group_names:
            mask = raw.get(f"{name}_mask")
            if mask is not None:
                mask = mask.to(torch.bool)
                inputs[f"{name}_mask"] = mask
                for extra in ("points", "vectors"):
                    key = f"{name}_{extra}"
                    if key in raw:
                        inputs[key] = raw[key].to(torch.float32) * mask.unsqueeze(-1).to(torch.float32)
                if f"{name}_tree" in raw:
                    inputs[f"{name}_tree"] = raw[f"{name}_tree"].to(torch.long)
            if name in raw:
                module = self.raw[name]
                inputs[name] = module(raw[name], mask) if isinstance(module, RawGroup) else module(raw[name])
        normed = self.norm(inputs)
        output = self.model(**{k: normed[k] for k in self.model_inputs if k in normed})
        first = tensors[0]
        ref = raw["ref"].to(torch.float32) if "ref" in raw else torch.ones(
            first.shape[0], dtype=torch.float32, device=first.device)
        # a reconstruction task scores the model's output against its (normalised) inputs
        return self.task.predictions(output, {"ref": ref, "inputs": inputs})
