"""``hepml train``: fit a model (Lightning task or non-neural estimator), test the best
checkpoint and run the evaluation on it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig
from torch import nn

from hepml.config import to_container
from hepml.console import finish_run, start_run
from hepml.estimators.base import Estimator
from hepml.pipelines.checkpointing import AtomicCheckpointIO, ExactResume, SignalCheckpoint, fit
from hepml.pipelines.checks import check_config, check_training_split
from hepml.pipelines.common import build_datamodule, build_task, ensure_sample, write_json
from hepml.pipelines.estimator_fit import fit_estimator
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.rundir import RunPlan, keep_csv_history, plan_run, run_dir_lock
from hepml.pipelines.slurm import cluster_plugins, requeue_on_preemption
from hepml.pipelines.sweep import best_validation_metrics
from hepml.pipelines.tracking import log_config
from hepml.prediction_copies import write_prediction_copies
from hepml.record import RunRecord

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as configured; return the test metrics of the best checkpoint (also in metrics.json).

    The run directory is locked while it is written; a finished run there is reported, not
    retrained (``retrain=true``); a ``last.ckpt`` there is resumed if the config is the same
    (:mod:`hepml.pipelines.rundir`).
    """
    out_dir = Path(cfg.paths.output_dir)
    start_run(cfg)
    check_config(cfg)  # before any data is read or generated
    with run_dir_lock(out_dir):
        plan = plan_run(cfg, out_dir)
        if plan.finished is not None:
            return plan.finished
        return _train(cfg, out_dir, plan)


def _train(cfg: DictConfig, out_dir: Path, plan: RunPlan) -> dict[str, float]:
    L.seed_everything(cfg.seed, workers=True)
    ensure_sample(cfg)
    dm = build_datamodule(cfg.data)
    plan.check_files(dm, allow=bool(cfg.get("resume_changed", False)))
    dm.load()
    check_training_split(dm, cfg.get("monitor"))
    model = instantiate(cfg.model, _convert_="all")
    record = RunRecord.create(to_container(cfg), dm, choices=_choices())
    plan.continue_history(record)
    start = time.time()
    if isinstance(model, Estimator):
        record.kind = model.kind
        fit_dm = dm.in_memory() if dm.stream is not None else dm  # streaming: fits on max_events
        best = fit_estimator(model, fit_dm, record.to_dict(), out_dir / "checkpoints")
        metrics: dict[str, float] = {}
    elif isinstance(model, nn.Module):
        best, metrics = _fit_lightning(cfg, model, dm, record, out_dir, plan)
        if best is None and metrics.get("rank", 0) != 0:
            return {}  # DDP: only global rank zero evaluates and writes metrics
    else:
        raise TypeError(f"model config built a {type(model).__name__}; expected a torch nn.Module or "
                        "a hepml.estimators Estimator")
    metrics["train_time_s"] = round(time.time() - start, 2)
    if best is not None and cfg.get("evaluate", True):
        metrics.update(evaluate_checkpoint(best, out_dir / "eval", plots=cfg.get("plots", True), dm=dm,
                                           trust=True))
    if best is not None and cfg.get("evaluate", True):  # predictions.format=root|parquet
        write_prediction_copies(out_dir / "eval" / "predictions.h5", (cfg.get("predictions") or {}).get("format"))
    write_json(out_dir / "metrics.json", metrics)
    finish_run(metrics, out_dir)
    return metrics


def _choices() -> dict[str, str]:
    """The config group choices of this run (``model``, ``data/features``, ...), for comparisons."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return {k: str(v) for k, v in HydraConfig.get().runtime.choices.items() if v is not None}
    except ValueError:  # composed without a Hydra app (tests, notebooks)
        return {}


def _fit_lightning(cfg: DictConfig, model: nn.Module, dm, record: RunRecord, out_dir: Path, plan: RunPlan):
    task = build_task(cfg, model, dm.stats)
    if cfg.get("compile"):  # compile=true (inductor) or a backend name
        task.compile_model(None if cfg.compile is True else str(cfg.compile))
    record.kind = task.kind
    task.meta = record.to_dict()
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    ckpt_dir = next((Path(c.dirpath) for c in callbacks if isinstance(c, ModelCheckpoint) and c.dirpath),
                    out_dir / "checkpoints")
    optimizer_values = {k.split(".", 1)[1]: v[1] for k, v in plan.changed.items() if k.startswith("optimizer.")}
    callbacks += [ExactResume(cfg.seed, optimizer_values), SignalCheckpoint(ckpt_dir / "last.ckpt")]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    keep_csv_history(loggers, plan)
    log_config(loggers, record.config)  # the composed config as hyper-parameters (MLflow, W&B, ...)
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                                     default_root_dir=str(out_dir), plugins=[AtomicCheckpointIO(), *cluster_plugins()])
    with requeue_on_preemption(bool(cfg.get("requeue", True))):  # SIGUSR1 under SLURM
        fit(trainer, task, dm, plan.resume)
    if trainer.fast_dev_run:
        log.info("fast_dev_run: no checkpoint written, skipping test and evaluation")
        return None, {}
    val = best_validation_metrics(trainer, task, dm)  # every rank: a collective under DDP
    if not trainer.is_global_zero:
        return None, {"rank": trainer.global_rank}
    # the test split is predicted once, by the evaluation of the best checkpoint
    return _best_checkpoint(trainer), {**dict(getattr(task, "throughput", {})), **val}


def _best_checkpoint(trainer: L.Trainer) -> Path:
    cb = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    if cb is None:
        raise ValueError("no ModelCheckpoint callback configured: add callbacks=default")
    best = cb.best_model_path or cb.last_model_path
    if not best:
        raise RuntimeError("training wrote no checkpoint")
    return Path(best)
