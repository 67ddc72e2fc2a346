"""Pieces the pipelines share: building the data module, generating missing samples, checkpoints."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from hepml.atomic import write_text_atomic
from hepml.data.datamodule import HEPDataModule
from hepml.record import read_checkpoint
from hepml.trust import check_targets

log = logging.getLogger(__name__)


def ensure_sample(cfg: DictConfig) -> None:
    """Generate the experiment's sample when its data files are missing and a sample config names them."""
    sample = cfg.get("sample")
    files = cfg.data.get("files") or []
    if not isinstance(files, (list, ListConfig)):
        return  # a train/val/test mapping: not a generated sample
    missing = [str(f) for f in files if not Path(str(f)).is_file()]
    if not missing:
        return
    if sample is None or str(sample.get("output")) not in missing:
        return  # the data module reports the missing file
    log.info("Sample %s is missing: generating it (cached for later runs)", sample.output)
    instantiate(sample)


def build_datamodule(data_cfg: DictConfig | dict, **overrides: Any) -> HEPDataModule:
    cfg = OmegaConf.create(data_cfg) if isinstance(data_cfg, dict) else data_cfg
    dm = instantiate(cfg, _convert_="all", **overrides)
    if not isinstance(dm, HEPDataModule):
        raise TypeError(f"data config must instantiate a HEPDataModule, got {type(dm).__name__}")
    return dm


def balanced_class_weights(counts: list[int]) -> list[float]:
    """``N / (K n_c)`` per class: every class weighs as much as the others in the loss."""
    counts_arr = [max(int(c), 1) for c in counts]
    total = sum(counts_arr)
    return [total / (len(counts_arr) * c) for c in counts_arr]


def _balanced(loss_cfg: DictConfig, stats: dict[str, Any]) -> dict[str, Any]:
    """``loss.class_weights: balanced`` resolved from the training split's class counts."""
    if loss_cfg.get("class_weights") != "balanced":
        return {}
    counts = stats.get("class_counts")
    if not counts:
        raise ValueError("loss.class_weights=balanced needs a classification data config (class counts)")
    weights = balanced_class_weights(counts)
    log.info("Balanced class weights %s from the training class counts %s",
             [round(w, 3) for w in weights], counts)
    return {"class_weights": weights}


def build_task(cfg: DictConfig, model: nn.Module, stats: dict[str, Any], train: bool = True):
    """The task of ``cfg`` around ``model`` with the data statistics installed; optimiser and
    scheduler only when ``train`` (evaluation rebuilds the task to load a state dict)."""
    task = instantiate(
        cfg.task,
        model=model,
        loss=instantiate(cfg.loss, _convert_="all", **_balanced(cfg.loss, stats)),
        optimizer=instantiate(cfg.optimizer) if train else None,
        scheduler=instantiate(cfg.scheduler) if train and cfg.get("scheduler") else None,
        _convert_="all",
    )
    task.set_data_stats(stats)
    return task


def load_checkpoint(path: str | Path, trust: bool = False) -> dict[str, Any]:
    """A hepml checkpoint (Lightning or estimator) with its embedded config and statistics.

    Read as data only (``torch.load(weights_only=True)``); unless ``trust``, the classes its
    config would build are checked against the allow-list (hepml and torch components) before
    anything is instantiated. Raises a :class:`~hepml.record.CheckpointError` (or its
    ``UntrustedCheckpointError``) naming the file and what is wrong.
    """
    ckpt = read_checkpoint(path)
    if not trust:
        check_targets(ckpt["hepml"]["config"], path)
    return ckpt


def finite_json(value: Any) -> Any:
    """``value`` with every NaN and +-inf float replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def write_json(path: str | Path, values: dict[str, Any]) -> Path:
    """Write ``values`` as valid JSON, atomically (a reader never sees a partial file).

    NaN and +-inf are written as ``null`` (JSON has no such numbers; ``json.dumps`` would write
    ``NaN``/``Infinity``, which strict readers reject), each one logged with its key.
    """
    clean = finite_json(values)
    for key in sorted(k for k, v in values.items() if clean.get(k) is None and v is not None):
        log.warning("%s: %s = %s is not a finite number; written as null", path, key, values[key])
    text = json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n"
    return write_text_atomic(path, text, "metrics file")
