"""A checkpoint's test metrics through the Lightning Trainer, so an evaluation runs on GPUs and
in several processes (``trainer=ddp``, ``trainer=ddp_sim``) with exact metrics: the step outputs
of every process are gathered before AUC, rejections or resolution are computed
(:mod:`hepml.tasks.gather`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint
from hepml.pipelines.slurm import cluster_plugins


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
