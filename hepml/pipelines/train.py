"""``hepml train``: fit a model (Lightning task or non-neural estimator), test the best
checkpoint and run the evaluation on it."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig
from torch import nn

from hepml import __version__
from hepml.config import to_container
from hepml.estimators.base import Estimator
from hepml.pipelines.common import build_datamodule, build_task, ensure_sample, write_json
from hepml.pipelines.estimator_fit import fit_estimator
from hepml.pipelines.evaluate import evaluate_checkpoint

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as configured; return the test metrics of the best checkpoint (also in metrics.json)."""
    out_dir = Path(cfg.paths.output_dir)
    L.seed_everything(cfg.seed, workers=True)
    ensure_sample(cfg)
    dm = build_datamodule(cfg.data)
    dm.load()
    model = instantiate(cfg.model, _convert_="all")
    meta = {"config": to_container(cfg), "stats": dm.stats, "version": __version__, "choices": _choices()}
    start = time.time()
    if isinstance(model, Estimator):
        best = fit_estimator(model, dm, meta, out_dir / "checkpoints")
        metrics: dict[str, float] = {}
    elif isinstance(model, nn.Module):
        best, metrics = _fit_lightning(cfg, model, dm, meta, out_dir)
        if best is None and metrics.get("rank", 0) != 0:
            return {}  # DDP: only global rank zero evaluates and writes metrics
    else:
        raise TypeError(f"model config built a {type(model).__name__}; expected a torch nn.Module or "
                        "a hepml.estimators Estimator")
    metrics["train_time_s"] = round(time.time() - start, 2)
    if best is not None and cfg.get("evaluate", True):
        metrics.update(evaluate_checkpoint(best, out_dir / "eval", plots=cfg.get("plots", True)))
    write_json(out_dir / "metrics.json", metrics)
    log.info("Metrics: %s", {k: round(v, 4) for k, v in metrics.items()})
    return metrics


def _choices() -> dict[str, str]:
    """The config group choices of this run (``model``, ``data/features``, ...), for comparisons."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return {k: str(v) for k, v in HydraConfig.get().runtime.choices.items() if v is not None}
    except ValueError:  # composed without a Hydra app (tests, notebooks)
        return {}


def _fit_lightning(cfg: DictConfig, model: nn.Module, dm, meta: dict[str, Any], out_dir: Path):
    task = build_task(cfg, model, dm.stats)
    task.meta = {**meta, "kind": task.kind}
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                                     default_root_dir=str(out_dir))
    trainer.fit(task, datamodule=dm, ckpt_path=_resume_path(cfg, out_dir))
    if trainer.fast_dev_run:
        log.info("fast_dev_run: no checkpoint written, skipping test and evaluation")
        return None, {}
    best = _best_checkpoint(trainer)
    results = trainer.test(task, datamodule=dm, ckpt_path=str(best), verbose=False)
    if not trainer.is_global_zero:
        return None, {"rank": trainer.global_rank}
    metrics = {k.replace("/", "_"): float(v) for k, v in (results[0] if results else {}).items()}
    return best, metrics


def _resume_path(cfg: DictConfig, out_dir: Path) -> str | None:
    """``ckpt_path`` as given; ``last`` (or an existing DIR/checkpoints/last.ckpt) resumes the run."""
    ckpt = cfg.get("ckpt_path")
    last = out_dir / "checkpoints" / "last.ckpt"
    if ckpt == "last" or (ckpt is None and cfg.get("auto_resume", True) and last.is_file()):
        if last.is_file():
            log.info("Resuming from %s", last)
            return str(last)
        if ckpt == "last":
            raise FileNotFoundError(f"ckpt_path=last but {last} does not exist")
        return None
    if ckpt is not None and not Path(ckpt).is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt} does not exist")
    return ckpt


def _best_checkpoint(trainer: L.Trainer) -> Path:
    cb = next((c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)), None)
    if cb is None:
        raise ValueError("no ModelCheckpoint callback configured: add callbacks=default")
    best = cb.best_model_path or cb.last_model_path
    if not best:
        raise RuntimeError("training wrote no checkpoint")
    return Path(best)
