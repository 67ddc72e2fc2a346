"""Evaluation of streamed data (``data.streaming=true``): the test split chunk by chunk, each
chunk's predictions and columns appended to ``predictions.h5``, so no more than a chunk of events
is ever in memory. Metrics and plots then read the predictions file, which holds a few numbers per
event."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from hepml.atomic import atomic_path
from hepml.data import io
from hepml.data.columns import inverse_target, take
from hepml.data.datamodule import HEPDataModule, prediction_columns
from hepml.data.dataset import to_tensors
from hepml.pipelines.common import build_task
from hepml.pipelines.estimator_fit import load_estimator
from hepml.predictions import read_predictions
from hepml.tasks.base import event_weight

log = logging.getLogger(__name__)

Arrays = dict[str, Any]


def tensor_batches(arrays: Arrays, batch_size: int) -> Iterator[dict[str, Any]]:
    """Consecutive batches of event arrays as tensors sharing their memory (no copy)."""
    n = len(arrays["entry"])
    for start in range(0, n, batch_size):
        yield to_tensors(take(arrays, slice(start, min(start + batch_size, n))))


class TaskPredictor:
    """A Lightning task's predictions of a chunk, batch by batch; sums the test loss on the way."""

    def __init__(self, task, batch_size: int):
        self.task, self.batch_size = task, batch_size
        self.loss_sum, self.n = 0.0, 0

    def __call__(self, arrays: Arrays) -> dict[str, np.ndarray]:
        parts = []
        with torch.no_grad():
            for batch in tensor_batches(arrays, self.batch_size):
                output = self.task(batch["inputs"])
                parts.append(self.task.predictions(output, batch))
                if self.task.loss is not None:
                    m = len(batch["index"])
                    self.loss_sum += float(self.task.loss(output, self.task.target_of(batch),
                                                          event_weight(batch))) * m
                    self.n += m
        return {k: torch.cat([p[k] for p in parts]).numpy() for k in parts[0]}

    def extra(self) -> dict[str, float]:
        return {"loss": self.loss_sum / self.n} if self.n else {}


class EstimatorPredictor:
    """An estimator's predictions of a chunk from its scalar input groups."""

    def __init__(self, estimator, groups: list[str], target_transform: str | None):
        self.estimator, self.groups, self.target_transform = estimator, groups, target_transform

    def __call__(self, arrays: Arrays) -> dict[str, np.ndarray]:
        out = self.estimator.predict(np.concatenate([arrays["inputs"][g] for g in self.groups], axis=1))
        if self.estimator.kind == "regression":
            out["pred"] = inverse_target(out["pred"], arrays["ref"], self.target_transform)
        return out

    def extra(self) -> dict[str, float]:
        return {}


def predictor(ckpt: dict, run_cfg: DictConfig, dm: HEPDataModule, target_transform: str | None,
              source: str | Path) -> TaskPredictor | EstimatorPredictor:
    """The predictor of a checkpoint: its task (state loaded) or its estimator."""
    if "estimator" in ckpt:
        groups = [g.name for g in dm.schema.inputs if g.kind == "scalars"]
        if not groups:
            raise ValueError("estimators take scalar features; the data config has no scalars group")
        return EstimatorPredictor(load_estimator(ckpt, source), groups, target_transform)
    meta = ckpt["hepml"]
    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    task.eval()
    return TaskPredictor(task, dm.eval_batch_size)


def stream_predictions(dm: HEPDataModule, predict: TaskPredictor | EstimatorPredictor, path: Path,
                       kind: str, info: dict[str, Any]) -> dict[str, np.ndarray]:
    """Predict the test split chunk by chunk, appending to ``path``; return the file's columns."""
    if dm.stream is None or dm.stats is None:
        raise RuntimeError("stream_predictions needs a loaded streaming data module")
    n = 0
    with atomic_path(path, "predictions file") as tmp:
        with io.open_writer(tmp, format="hdf5",
                            attrs={"task": kind, "info": json.dumps(info, default=str)}) as writer:
            for arrays in dm.stream.split_chunks("test"):
                m = len(arrays["entry"])
                columns = prediction_columns(arrays, np.arange(m), dm.stats)
                columns["index"] = arrays["index"]
                writer.append({**columns, **predict(arrays)})
                n += m
        if n == 0:
            raise ValueError("the test split is empty: nothing to evaluate")
    log.info("Predicted %d streamed test events into %s", n, path)
    columns, _, _ = read_predictions(path)
    return columns
