"""Evaluation through the Lightning Trainer, so it runs on GPUs and in several processes
(``hepml eval ckpt_path=... trainer=gpu|ddp|ddp_sim``) with exact results: the outputs of every
process are gathered, once per event, before metrics are computed or predictions written
(:mod:`hepml.tasks.gather`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf

from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint
from hepml.pipelines.slurm import cluster_plugins
from hepml.tasks.gather import gather_outputs, once_per_event, to_numpy


class GatherPredictions(Callback):
    """Collects ``predict_step`` outputs; at the end gathers them from every process and global
    rank zero writes them to ``path`` (``.npz``): a spawned process cannot hand them back."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.parts: list[dict[str, torch.Tensor]] = []

    def on_predict_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any,
                             batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.parts.append({k: v.detach().cpu() for k, v in outputs.items()})

    def on_predict_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.parts:
            raise RuntimeError("a process predicted no batch: the test split is smaller than the "
                               "number of processes; evaluate with fewer devices")
        local = {k: torch.cat([p[k] for p in self.parts]) for k in self.parts[0]}
        arrays = once_per_event({k: to_numpy(v) for k, v in gather_outputs(pl_module, local).items()})
        if trainer.is_global_zero:
            np.savez(self.path, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        self.parts = []


def trainer_predictions(task: L.LightningModule, datamodule: Any, trainer_cfg: DictConfig | dict[str, Any]
                        ) -> dict[str, np.ndarray]:
    """The task's prediction columns on the test split, in test-index order, predicted by a
    Trainer built from ``trainer_cfg`` (one or several processes, any accelerator)."""
    cfg = OmegaConf.create(trainer_cfg) if isinstance(trainer_cfg, dict) else trainer_cfg
    with tempfile.TemporaryDirectory(prefix="hepml-predict-") as tmp:
        gather = GatherPredictions(Path(tmp) / "predictions.npz")
        trainer = instantiate(cfg, logger=False, enable_progress_bar=False, enable_model_summary=False,
                              callbacks=[gather], plugins=cluster_plugins())
        trainer.predict(task, datamodule=datamodule, return_predictions=False)
        with np.load(gather.path) as saved:
            out = {k: saved[k] for k in saved.files}
    if not np.array_equal(out.pop("index"), datamodule.indices["test"]):
        raise RuntimeError("the Trainer's predictions do not cover the test split once per event")
    return out


def trainer_test(ckpt_path: str | Path, trainer_cfg: DictConfig | dict[str, Any],
                 trust: bool = False) -> dict[str, float]:
    """``{metric: value}`` of ``trainer.test`` on the checkpoint's test split (``test/`` removed).

    Parameters
    ----------
    ckpt_path : a hepml Lightning checkpoint.
    trainer_cfg : a trainer config (``configs/trainer/*.yaml``, composed), e.g. ddp_sim.
    trust : lift the allow-list of the classes the checkpoint's config may build.
    """
    ckpt = load_checkpoint(ckpt_path, trust=trust)
    if "estimator" in ckpt:
        raise ValueError(f"{ckpt_path} holds an estimator: it is evaluated by hepml eval, not a Trainer")
    meta = ckpt["hepml"]
    run_cfg = OmegaConf.create(meta["config"])
    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    dm = build_datamodule(run_cfg.data)
    dm.load(stats=meta["stats"])
    cfg = OmegaConf.create(trainer_cfg) if isinstance(trainer_cfg, dict) else trainer_cfg
    trainer = instantiate(cfg, logger=False, enable_progress_bar=False, enable_model_summary=False,
                          plugins=cluster_plugins())
    results = trainer.test(task, datamodule=dm, verbose=False)
    return {k.removeprefix("test/"): float(v) for k, v in (results[0] if results else {}).items()}
