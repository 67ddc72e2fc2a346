"""The task base class: input normalisation + model + loss, optimisers, checkpoint metadata."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn

from hepml.models.layers.inputnorm import InputNorm
from hepml.tasks.gather import gather_outputs, once_per_event, to_numpy


def model_input_names(model: nn.Module) -> list[str]:
    """The input groups a model takes: its ``input_groups`` attribute, else the parameter names
    of its ``forward`` (``scalars``, ``particles``, ``particles_mask``, ``images``, ...)."""
    declared = getattr(model, "input_groups", None)
    if declared is not None:
        return list(declared)
    params = inspect.signature(model.forward).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        raise TypeError(f"{type(model).__name__}.forward takes **kwargs: declare the input groups it "
                        "reads in an `input_groups` attribute")
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def event_weight(batch: Mapping[str, Any]) -> torch.Tensor | None:
    """Per-event loss weight: the data weight, times 0 for events of unlabelled sources."""
    weight = batch.get("weight")
    labelled = batch.get("labelled")
    if labelled is None:
        return weight
    mask = labelled.to(torch.float32)
    return mask if weight is None else weight * mask


class Task(L.LightningModule):
    """Common machinery of the supervised tasks.

    Parameters
    ----------
    model : a plain ``nn.Module`` whose ``forward`` takes the input groups by name
        (``scalars``, ``particles``, ``particles_mask``, ...).
    loss : module ``(output, target, weight) -> scalar``.
    optimizer : ``params -> Optimizer`` (a ``_partial_`` config).
    scheduler : ``optimizer -> LRScheduler`` or None.
    monitor : metric a plateau scheduler watches.
    """

    def __init__(
        self,
        model: nn.Module,
        loss: nn.Module,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        monitor: str = "val/loss",
        n_outputs: int | None = None,
    ):
        super().__init__()
        self.model = model
        self.loss = loss
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.monitor = monitor
        self.norm: InputNorm | None = None
        self.meta: dict[str, Any] = {}
        self._outputs: dict[str, list[dict[str, torch.Tensor]]] = {"val": [], "test": []}
        widths = {
            "loss": getattr(loss, "n_outputs", None),
            "model": getattr(model, "n_outputs", None),
            "task": n_outputs,
        }
        self.model_inputs = model_input_names(model)
        # training throughput (events/s over the training batches, loader included): train_events_per_s
        self.throughput: dict[str, float] = {}
        self._clock = {"events": 0, "seconds": 0.0, "start": None, "last": None}
        known = {k: v for k, v in widths.items() if v is not None}
        if len(set(known.values())) > 1:
            raise ValueError(
                f"output widths disagree: {known}; the loss {type(loss).__name__} needs "
                f"{known.get('loss')} output(s): set task.n_outputs (the model follows it)"
            )

    def compile_model(self, backend: str | None = None) -> None:
        """``torch.compile`` the model in place (``nn.Module.compile``: the state dict keeps its
        keys, so checkpoints load into an uncompiled task); ``backend`` None is inductor."""
        self.model.compile(**({"backend": backend} if backend else {}))

    # -------------------------------------------------------------- data stats
    def set_data_stats(self, stats: Mapping[str, Any]) -> None:
        """Install the training-split statistics as buffers (before fit or load_state_dict)."""
        self.norm = InputNorm(stats["inputs"])

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.norm is None:
            raise RuntimeError("set_data_stats() must be called before the task is used")
        normed = self.norm(inputs)
        return self.model(**{k: normed[k] for k in self.model_inputs if k in normed})

    # ------------------------------------------------------------------- steps
    def target_of(self, batch: Mapping[str, Any]) -> torch.Tensor:
        raise NotImplementedError

    def step_outputs(self, output: torch.Tensor, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """What an evaluation step keeps for epoch-level metrics."""
        raise NotImplementedError

    def epoch_metrics(self, outputs: dict[str, np.ndarray]) -> dict[str, float]:
        raise NotImplementedError

    def predictions(self, output: torch.Tensor, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Columns of the predictions file for one batch."""
        raise NotImplementedError

    def _loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        output = self(batch["inputs"])
        return output, self.loss(output, self.target_of(batch), event_weight(batch))

    @property
    def _sync(self) -> bool:
        """Reduce logged values across processes only under DDP (a collective per call otherwise)."""
        trainer = self._trainer
        return trainer is not None and trainer.world_size > 1

    def training_step(self, batch, batch_idx):
        _, loss = self._loss(batch)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(batch["index"]), sync_dist=self._sync)
        return loss

    def on_train_batch_start(self, batch, batch_idx):
        now = time.perf_counter()
        if self._clock["start"] is None:
            self._clock["start"] = now
        self._clock["events"] += len(batch["index"])

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self._clock["last"] = time.perf_counter()

    def on_train_epoch_end(self):
        clock = self._clock
        if clock["start"] is not None and clock["last"] is not None:
            clock["seconds"] += clock["last"] - clock["start"]
        clock["start"] = clock["last"] = None
        if clock["seconds"] > 0:
            self.throughput = {"train_events_per_s": round(clock["events"] / clock["seconds"], 1)}

    def _eval_step(self, batch, stage: str):
        output, loss = self._loss(batch)
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=True, batch_size=len(batch["index"]),
                 sync_dist=self._sync)
        self._outputs[stage].append({k: v.detach().cpu() for k, v in self.step_outputs(output, batch).items()})

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, "test")

    def _epoch_end(self, stage: str) -> None:
        outs = self._outputs[stage]
        if not outs:
            return
        gathered = gather_outputs(self, {k: torch.cat([o[k] for o in outs]) for k in outs[0]})
        arrays = once_per_event({k: to_numpy(v) for k, v in gathered.items()})  # the whole split
        self._outputs[stage] = []
        for name, value in self.epoch_metrics(arrays).items():
            self.log(f"{stage}/{name}", float(value), prog_bar=True, sync_dist=self._sync)

    def on_validation_epoch_end(self):
        self._epoch_end("val")

    def on_test_epoch_end(self):
        self._epoch_end("test")

    def predict_step(self, batch, batch_idx):
        with torch.no_grad():
            output = self(batch["inputs"])
        return {"index": batch["index"], **self.predictions(output, batch)}

    # -------------------------------------------------------------- optimisers
    def configure_optimizers(self):
        opt = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return opt
        if _per_step(self.scheduler_factory):  # one-cycle: the whole run's steps, stepped per batch
            sched = self.scheduler_factory(optimizer=opt, total_steps=int(self.trainer.estimated_stepping_batches))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        sched = self.scheduler_factory(optimizer=opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": self.monitor}}

    # -------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["hepml"] = self.meta


def _per_step(factory: Callable[..., Any]) -> bool:
    """A scheduler that takes ``total_steps`` and is not given it (``OneCycleLR``): built with the
    run's number of optimiser steps and stepped after every batch."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    keywords = getattr(factory, "keywords", {}) or {}
    return "total_steps" in params and not any(keywords.get(k) for k in ("total_steps", "epochs"))

