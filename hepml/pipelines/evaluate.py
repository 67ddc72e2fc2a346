"""``hepml eval``: predictions, metrics and plots from a checkpoint alone."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from hepml.metrics.summary import summarize
from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint, write_json
from hepml.pipelines.estimator_fit import estimator_predictions
from hepml.plotting.report import make_plots
from hepml.predictions import write_predictions

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Evaluate ``cfg.ckpt_path`` on its test split, or on other files named by ``data``."""
    if not cfg.get("ckpt_path"):
        raise ValueError("hepml eval needs ckpt_path=PATH/TO/best.ckpt")
    override = OmegaConf.to_container(cfg.data, resolve=True) if cfg.get("data") else None
    return evaluate_checkpoint(cfg.ckpt_path, Path(cfg.paths.output_dir), override, cfg.get("plots", True))


FILE_KEYS = ("files", "tree", "csv_names", "csv_delimiter", "missing_hint", "eval_all", "max_events",
             "batch_size", "eval_batch_size", "num_workers", "cache_dir")


def _data_config(run_data: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """The training data config with the file-reading keys of ``override`` (a data group or
    ``data.files=...``). What the model was trained on (inputs, target, label, weights) always
    comes from the checkpoint. Files other than the training ones are evaluated whole."""
    if not override:
        return run_data
    patch = {k: v for k, v in override.items() if k in FILE_KEYS and v is not None}
    ignored = sorted(k for k, v in override.items()
                     if k not in FILE_KEYS and k != "_target_" and v is not None and run_data.get(k) != v)
    if ignored:
        log.warning("Keeping the checkpoint's %s: the model was trained with them", ignored)
    data = {**run_data, **patch}
    if [str(f) for f in data["files"]] != [str(f) for f in run_data["files"]] and "eval_all" not in patch:
        log.info("Evaluating on other files than the training ones: every event is used")
        data["eval_all"] = True
    return data


def evaluate_checkpoint(
    ckpt_path: str | Path, out_dir: str | Path, data_override: dict[str, Any] | None = None, plots: bool = True
) -> dict[str, float]:
    """Write ``out_dir/predictions.h5``, ``metrics.json`` and ``plots/``; return the metrics."""
    out_dir = Path(out_dir)
    ckpt = load_checkpoint(ckpt_path)
    meta = ckpt["hepml"]
    run_cfg = OmegaConf.create(meta["config"])
    data_cfg = _data_config(OmegaConf.to_container(run_cfg.data), data_override)
    dm = build_datamodule(data_cfg)
    dm.load(stats=meta["stats"])
    target_transform = (data_cfg.get("target") or {}).get("transform")
    if "estimator" in ckpt:
        pred = estimator_predictions(ckpt, dm, target_transform)
        n_parameters = meta.get("fit_info", {}).get("n_parameters", "")
    else:
        pred = _task_predictions(run_cfg, meta, ckpt, dm)
        n_parameters = sum(v.numel() for k, v in ckpt["state_dict"].items() if k.startswith("model."))
    columns = {**dm.split_columns("test"), **pred}
    kind = meta["kind"]
    info = {
        "checkpoint": str(Path(ckpt_path).resolve()),
        "model_name": str(run_cfg.model.get("_target_", "model")).rsplit(".", 1)[-1],
        "choices": meta.get("choices", {}),
        "target": (data_cfg.get("target") or {}).get("variable"),
        "baseline": data_cfg.get("baseline"),
        "class_names": list(data_cfg.get("classes") or []),
        "signal_class": int(run_cfg.task.get("signal_class", 1)) if "task" in run_cfg else 1,
        "significance": OmegaConf.to_container(run_cfg.significance) if run_cfg.get("significance") else None,
        "files": [str(f) for f in data_cfg["files"]],
        "n_parameters": n_parameters,
        "inputs": {g.name: g.names for g in dm.schema.inputs},
    }
    write_predictions(out_dir / "predictions.h5", columns, kind, info)
    metrics = summarize(columns, kind, info)
    write_json(out_dir / "metrics.json", metrics)
    if plots:
        make_plots(columns, kind, info, out_dir / "plots")
    log.info("Evaluation of %s on %d events written to %s", ckpt_path, len(columns["index"]), out_dir)
    return metrics


def _task_predictions(run_cfg: DictConfig, meta: dict, ckpt: dict, dm) -> dict[str, np.ndarray]:
    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    task.eval()
    parts: list[dict[str, torch.Tensor]] = []
    with torch.no_grad():
        for i, batch in enumerate(dm.predict_dataloader()):
            parts.append(task.predict_step(batch, i))
    out = {k: torch.cat([p[k] for p in parts]).numpy() for k in parts[0]}
    if not np.array_equal(out.pop("index"), dm.indices["test"]):
        raise RuntimeError("prediction order does not match the test split")
    return out
