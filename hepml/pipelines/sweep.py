"""Hyper-parameter searches: the validation metrics of the best checkpoint, and the number a
sweeper (``hepml train -m hparams_search=NAME``, Optuna) optimises.

``train`` returns its metrics as a dict; with ``optimized_metric`` set (the searches in
``configs/hparams_search/`` set it) the ``hepml train`` command hands that one number to the
sweeper. Validation metrics (``val/auc``, ``val/loss``, ...) are those of the best checkpoint,
re-evaluated on the whole validation split once training ends, so a search never looks at the
test split.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from hepml.errors import HepmlError

log = logging.getLogger(__name__)


class MetricNotFoundError(HepmlError, KeyError):
    """``optimized_metric`` names a metric that training does not return."""

    def __str__(self) -> str:
        return str(self.args[0])


def best_validation_metrics(trainer: L.Trainer, task: L.LightningModule, datamodule: Any) -> dict[str, float]:
    """``val/*`` metrics of the best checkpoint on the whole validation split (every process
    calls this: under DDP it is a collective). Nothing is logged; {} without a best checkpoint."""
    callbacks = getattr(trainer, "callbacks", [])
    cb = next((c for c in callbacks if isinstance(c, ModelCheckpoint)), None)
    path = (cb.best_model_path or cb.last_model_path) if cb is not None else ""
    if not path or trainer.limit_val_batches == 0:
        return {}
    loggers = trainer.loggers
    trainer.loggers = []  # the per-epoch history keeps one row per training epoch
    try:
        results = trainer.validate(task, datamodule=datamodule, ckpt_path=path, verbose=False,
                                   weights_only=True)
    finally:
        trainer.loggers = loggers
    return {k: float(v) for k, v in (results[0] if results else {}).items() if k.startswith("val/")}


def objective(cfg: Any, metrics: dict[str, float]) -> float | dict[str, float]:
    """What ``hepml train`` returns to Hydra: ``metrics[cfg.optimized_metric]`` when it is set
    (a sweeper optimises it), else the metrics. NaN for a DDP process other than rank zero.

    Raises
    ------
    MetricNotFoundError
        Naming the metric and the ones training returned.
    """
    name = cfg.get("optimized_metric") if hasattr(cfg, "get") else None
    if not name:
        return metrics
    if not metrics:
        return math.nan
    if name not in metrics:
        raise MetricNotFoundError(
            f"optimized_metric={name!r} is not among the metrics train returned: {sorted(metrics)}; "
            "name one of them (validation metrics are val/<name>, e.g. val/auc, val/loss)")
    value = float(metrics[name])
    log.info("Objective %s = %.6g", name, value)
    return value
