"""Reconstruction (autoencoder) task: unsupervised training, the reconstruction error as score.

The model maps an input group (``images`` by default) to a tensor of the same shape; the loss is
the per-event reconstruction error of the *normalised* input. Training never reads the label:
the events it learns from are all events, or those that ``train_on`` picks by a source tag or an
``aux`` column of the data config (the background sample: the QCD jets of a sample whose
``process`` column, declared in ``data.aux``, is 0; or the events of ``data.sources.qcd``).
Validation computes the same loss on the same events, so checkpoint selection and early stopping
on ``val/loss`` use no label either.

Evaluation writes ``score`` = the reconstruction error of every test event, and the label
(class 0 is the background, any other class an anomaly), so :mod:`hepml.metrics` gives the ROC
and AUC of the anomaly score (:func:`hepml.metrics.anomaly.anomaly_metrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from hepml.metrics.anomaly import anomaly_metrics
from hepml.tasks.base import Task, event_weight
from hepml.tasks.losses import weighted_mean

METRICS = ("mse", "l1")


class ReconstructionLoss(nn.Module):
    """Per-event reconstruction error (mean over every non-batch axis), weighted mean over events.

    Parameters
    ----------
    metric : ``mse`` (squared error) or ``l1`` (absolute error).
    """

    def __init__(self, metric: str = "mse"):
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f"reconstruction loss metric must be one of {METRICS}, got {metric!r}")
        self.metric = metric

    def per_event(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.shape != target.shape:
            raise ValueError(
                f"the model's reconstruction has shape {tuple(output.shape)}, its input "
                f"{tuple(target.shape)}: an autoencoder must return its input's shape"
            )
        d = output - target
        err = d * d if self.metric == "mse" else d.abs()
        return err.flatten(1).mean(dim=1)

    def forward(
        self, output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        return weighted_mean(self.per_event(output, target), weight)


class ReconstructionTask(Task):
    """Parameters as :class:`~hepml.tasks.base.Task`, plus

    Parameters
    ----------
    group : the input group the model reconstructs (``images``, ``scalars``).
    train_on : ``{column: [values]}``: train (and compute the validation loss) only on the events
        whose ``column`` holds one of ``values``; ``column`` is ``source`` (the index of the
        source in ``data.sources``) or a column of ``data.aux``. None: every event.
    class_names : names of the classes (for the per-class validation AUC).
    """

    kind = "reconstruction"

    def __init__(
        self,
        model: nn.Module,
        loss: ReconstructionLoss,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        monitor: str = "val/loss",
        n_outputs: int | None = None,
        group: str = "images",
        train_on: Mapping[str, Sequence[float]] | None = None,
        class_names: Sequence[str] | None = None,
    ):
        super().__init__(model, loss, optimizer, scheduler, monitor, n_outputs)
        if not hasattr(loss, "per_event"):
            raise ValueError(
                f"a reconstruction task needs a loss with per_event errors (loss=reconstruction), "
                f"got {type(loss).__name__}"
            )
        if group not in self.model_inputs:
            raise ValueError(
                f"task.group={group!r} is not an input of {type(model).__name__} "
                f"(it takes {self.model_inputs})"
            )
        if train_on is not None and len(train_on) != 1:
            raise ValueError(
                f"task.train_on names one column ({{column: [values]}}), got {dict(train_on)}"
            )
        self.group = group
        self.train_on = (
            None if not train_on else {str(k): [float(v) for v in vs] for k, vs in train_on.items()}
        )
        self.class_names = list(class_names or [])

    # ------------------------------------------------------------------ steps
    def target_of(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The normalised input the model should give back."""
        if self.norm is None:
            raise RuntimeError("set_data_stats() must be called before the task is used")
        return self.norm(batch["inputs"])[self.group]

    def train_mask(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """1 for the events ``train_on`` selects, 0 otherwise (None: every event)."""
        if self.train_on is None:
            return None
        ((column, values),) = self.train_on.items()
        if column == "source":
            if "source" not in batch:
                raise ValueError(
                    "task.train_on selects by source, but the data config has no data.sources"
                )
            tag = batch["source"]
        else:
            aux = batch.get("aux") or {}
            if column not in aux:
                raise ValueError(
                    f"task.train_on selects by {column!r}: declare it in data.aux "
                    f"(the data config's aux columns are {sorted(aux)})"
                )
            tag = aux[column]
        return torch.isin(tag.to(torch.float64), torch.tensor(values, dtype=torch.float64)).to(
            torch.float32
        )

    def training_weight(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The data weight times the ``train_on`` selection; never the label."""
        weight, mask = event_weight(batch), self.train_mask(batch)
        if mask is None:
            return weight
        return mask if weight is None else weight * mask

    def _loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        output = self(batch["inputs"])
        return output, self.loss(output, self.target_of(batch), self.training_weight(batch))

    def step_outputs(self, output, batch):
        out = {"score": self.loss.per_event(output, self.target_of(batch))}
        if "label" in batch:
            out["label"] = batch["label"]
        if "weight" in batch:
            out["weight"] = batch["weight"]
        return out

    def epoch_metrics(self, outputs: dict[str, np.ndarray]) -> dict[str, float]:
        """Mean error and, with labels, the AUC of the error as anomaly score (logged only)."""
        out = {"mean_error": float(np.mean(outputs["score"]))}
        if "label" in outputs and 0 < (outputs["label"] == 0).sum() < len(outputs["label"]):
            metrics = anomaly_metrics(
                outputs["score"], outputs["label"], outputs.get("weight"), self.class_names
            )
            out.update({k: v for k, v in metrics.items() if k.startswith("auc")})
        return out

    def predictions(self, output, batch):
        return {"score": self.loss.per_event(output, self.target_of(batch))}
