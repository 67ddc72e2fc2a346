"""Binary and multi-class classification with (class-)weighted cross entropy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from hepml.metrics.roc import auc
from hepml.tasks.base import Task


class ClassificationTask(Task):
    """Parameters as :class:`~hepml.tasks.base.Task`, plus ``signal_class``: the class whose
    probability is the score of ROC curves and of the ``score`` column (1 for binary)."""

    kind = "classification"

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        monitor: str = "val/loss",
        n_outputs: int | None = None,
        signal_class: int = 1,
        class_names: Sequence[str] | None = None,
    ):
        super().__init__(model, loss, optimizer, scheduler, monitor, n_outputs)
        self.signal_class = signal_class
        self.class_names = list(class_names or [])

    def target_of(self, batch):
        return batch["label"]

    def probabilities(self, output: torch.Tensor) -> torch.Tensor:
        if output.shape[-1] == 1:
            p = torch.sigmoid(output[:, 0])
            return torch.stack([1 - p, p], dim=-1)
        return torch.softmax(output, dim=-1)

    def step_outputs(self, output, batch):
        out = {"score": self.probabilities(output)[:, self.signal_class], "label": batch["label"],
               "index": batch["index"]}
        if "weight" in batch:
            out["weight"] = batch["weight"]
        if "labelled" in batch:  # metrics on labelled events only
            out = {k: v[batch["labelled"]] for k, v in out.items()}
        return out

    def epoch_metrics(self, outputs: dict[str, np.ndarray]) -> dict[str, float]:
        is_sig = (outputs["label"] == self.signal_class).astype(int)
        if is_sig.min() == is_sig.max():
            return {}
        return {"auc": auc(outputs["score"], is_sig, outputs.get("weight"))}

    def predictions(self, output, batch):
        probs = self.probabilities(output)
        out = {"score": probs[:, self.signal_class]}
        if probs.shape[-1] > 2:
            out["probabilities"] = probs
        return out
