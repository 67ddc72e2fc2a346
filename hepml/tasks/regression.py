"""Regression of one target, optionally as a ratio to a reference and in log space.

The data layer hands ``target`` = f(truth / ref) with f = identity or log, and ``ref``; the task
standardises the target with training-split buffers and inverts all of it for predictions, so
the predictions file holds the physical quantity (e.g. the tau pT in GeV).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from hepml.data.columns import inverse_target
from hepml.metrics.resolution import absolute_metrics, bias, relative_resolution
from hepml.tasks.base import Task
from hepml.tasks.losses import RegressionLoss


class RegressionTask(Task):
    """Parameters as :class:`~hepml.tasks.base.Task`, plus ``target_transform`` (None or ``log``),
    the transform the data config applies to the target ratio."""

    kind = "regression"

    def __init__(
        self,
        model: nn.Module,
        loss: RegressionLoss,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        monitor: str = "val/loss",
        n_outputs: int | None = None,
        target_transform: str | None = None,
    ):
        super().__init__(model, loss, optimizer, scheduler, monitor, n_outputs)
        if target_transform not in (None, "log"):
            raise ValueError(f"target_transform must be null or 'log', got {target_transform!r}")
        self.target_transform = target_transform
        self.register_buffer("target_center", torch.zeros(()))
        self.register_buffer("target_scale", torch.ones(()))

    def set_data_stats(self, stats: Mapping[str, Any]) -> None:
        super().set_data_stats(stats)
        if "target" not in stats:
            raise ValueError("a regression task needs a data config with a `target`")
        self.target_center.fill_(stats["target"]["center"])
        self.target_scale.fill_(stats["target"]["scale"])

    def target_of(self, batch):
        return (batch["target"] - self.target_center) / self.target_scale

    def _physical(self, t_norm: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return inverse_target(t_norm * self.target_scale + self.target_center, ref, self.target_transform)

    def step_outputs(self, output, batch):
        pred = self._physical(self.loss.point(output), batch["ref"])
        truth = self._physical(self.target_of(batch), batch["ref"])
        out = {"pred": pred, "truth": truth, "index": batch["index"]}
        if "weight" in batch:
            out["weight"] = batch["weight"]
        return out

    def epoch_metrics(self, outputs: dict[str, np.ndarray]) -> dict[str, float]:
        w = outputs.get("weight")
        if (outputs["truth"] <= 0).any():  # no response for a target that can be <= 0
            return absolute_metrics(outputs["pred"], outputs["truth"], w)
        resp = outputs["pred"] / outputs["truth"]
        return {"resolution": relative_resolution(resp, w), "bias": bias(resp, w)}

    def predictions(self, output, batch):
        out = {"pred": self._physical(self.loss.point(output), batch["ref"])}
        sigma = self.loss.sigma(output)
        if sigma is not None:
            # per-event width in the transformed target space (relative width for a log target)
            out["pred_sigma"] = sigma * self.target_scale
        return out
