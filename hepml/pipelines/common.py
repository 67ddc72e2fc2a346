"""Pieces the pipelines share: building the data module, generating missing samples, checkpoints."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from hepml.data.datamodule import HEPDataModule

log = logging.getLogger(__name__)


def ensure_sample(cfg: DictConfig) -> None:
    """Generate the experiment's sample when its data files are missing and a sample config names them."""
    sample = cfg.get("sample")
    files = [str(f) for f in cfg.data.files]
    missing = [f for f in files if not Path(f).is_file()]
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


def build_task(cfg: DictConfig, model: nn.Module, stats: dict[str, Any], train: bool = True):
    """The task of ``cfg`` around ``model`` with the data statistics installed; optimiser and
    scheduler only when ``train`` (evaluation rebuilds the task to load a state dict)."""
    task = instantiate(
        cfg.task,
        model=model,
        loss=instantiate(cfg.loss, _convert_="all"),
        optimizer=instantiate(cfg.optimizer) if train else None,
        scheduler=instantiate(cfg.scheduler) if train and cfg.get("scheduler") else None,
        _convert_="all",
    )
    task.set_data_stats(stats)
    return task


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A hepml checkpoint (Lightning or estimator) with its embedded config and statistics."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or "hepml" not in ckpt or not ckpt["hepml"].get("config"):
        raise ValueError(f"{path} is not a hepml checkpoint (no embedded 'hepml' config and statistics)")
    return ckpt


def write_json(path: str | Path, values: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    return path
