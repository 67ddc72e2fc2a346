"""``hepml eval``: predictions, metrics and plots from a checkpoint alone."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from hepml.data.datamodule import HEPDataModule
from hepml.metrics.summary import summarize
from hepml.models.cost import macs_per_example
from hepml.pipelines.common import build_datamodule, build_task, load_checkpoint, write_json
from hepml.pipelines.estimator_fit import estimator_predictions
from hepml.pipelines.plot import plot_options
from hepml.pipelines.stream_eval import predictor, stream_predictions
from hepml.plotting.report import make_plots
from hepml.prediction_copies import write_prediction_copies
from hepml.predictions import write_predictions
from hepml.record import warn_changed_files
from hepml.tasks.base import event_weight

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Evaluate ``cfg.ckpt_path`` on its test split, or on other files named by ``data``."""
    if not cfg.get("ckpt_path"):
        raise ValueError("hepml eval needs ckpt_path=PATH/TO/best.ckpt")
    override = OmegaConf.to_container(cfg.data, resolve=True) if cfg.get("data") else None
    metrics = evaluate_checkpoint(cfg.ckpt_path, Path(cfg.paths.output_dir), override, cfg.get("plots", True),
                                  trust=bool(cfg.get("trust_checkpoint", False)),
                                  trainer_cfg=cfg.get("trainer"))  # trainer=gpu|ddp: through a Trainer
    # predictions.format=root|parquet: copies beside predictions.h5
    write_prediction_copies(Path(cfg.paths.output_dir) / "predictions.h5",
                            (cfg.get("predictions") or {}).get("format"))
    return metrics


FILE_KEYS = ("files", "sources", "columns", "format", "tree", "csv_names", "csv_delimiter", "selection",
             "missing_hint", "eval_all", "max_events", "batch_size", "eval_batch_size", "num_workers",
             "chunk_size", "streaming", "buffer_size", "cache_dir")


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
    if patch.get("columns"):
        data["columns"] = {**(run_data.get("columns") or {}), **patch["columns"]}
    if "files" in patch and "sources" not in patch:
        data["sources"] = None
    if "sources" in patch and "files" not in patch:
        data["files"] = None
    if "files" in patch or "sources" in patch:
        # reader options are worked out per file unless given again for the new files
        for key in ("tree", "csv_names", "csv_delimiter", "format"):
            data.setdefault(key, None)
            if key not in patch and key != "csv_names":
                data[key] = None
    if _file_list(data) != _file_list(run_data) and "eval_all" not in patch:
        log.info("Evaluating on other files than the training ones: every event is used")
        data["eval_all"] = True
    return data


def _file_list(data: dict[str, Any]) -> list[str]:
    files = data.get("files") or []
    if isinstance(files, dict):
        files = [f for k in ("train", "val", "test") for f in files.get(k) or []]
    sources = data.get("sources") or {}
    return [str(f) for f in files] + [f"{k}:{s.get('files')}" for k, s in sources.items() if s]


def evaluate_checkpoint(
    ckpt_path: str | Path, out_dir: str | Path, data_override: dict[str, Any] | None = None,
    plots: bool = True, dm: HEPDataModule | None = None, trust: bool = False,
    trainer_cfg: Any = None,
) -> dict[str, float]:
    """Write ``out_dir/predictions.h5``, ``metrics.json`` and ``plots/``; return the metrics.

    ``dm``: the data module the run trained on, already loaded (after training): its test split
    is predicted once, without reading the files again. ``trust``: skip the allow-list of the
    classes the checkpoint's config may build (``trust_checkpoint=true``).
    """
    out_dir = Path(out_dir)
    ckpt = load_checkpoint(ckpt_path, trust=trust)
    meta = ckpt["hepml"]
    run_cfg = OmegaConf.create(meta["config"])
    if dm is None:
        data_cfg = _data_config(OmegaConf.to_container(run_cfg.data), data_override)
        dm = build_datamodule(data_cfg)
        dm.load(stats=meta["stats"])
        warn_changed_files(meta, dm, ckpt_path)
    else:
        data_cfg = OmegaConf.to_container(run_cfg.data)
    target_transform = (data_cfg.get("target") or {}).get("transform")
    extra: dict[str, float] = {}
    streamed = dm.stream is not None  # data.streaming: predicted and written chunk by chunk below
    if "estimator" in ckpt:
        pred = {} if streamed else estimator_predictions(ckpt, dm, target_transform, ckpt_path)
        n_parameters = meta.get("fit_info", {}).get("n_parameters", "")
    else:
        if streamed:
            pred, extra = {}, {}
        elif trainer_cfg is not None:  # on the Trainer's devices and processes, gathered
            pred, extra = _trainer_predictions(run_cfg, meta, ckpt, dm, trainer_cfg), {}
        else:
            pred, extra = _task_predictions(run_cfg, meta, ckpt, dm)
        n_parameters = sum(v.numel() for k, v in ckpt["state_dict"].items() if k.startswith("model."))
    columns = {} if streamed else {**dm.split_columns("test"), **pred}
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
        "files": [s.path for s in dm.file_specs()],
        "n_parameters": n_parameters,
        "inputs": {g.name: g.feature_names for g in dm.schema.inputs},
        "aux": list(dm.schema.aux),
        "sources": [s.name for s in dm.schema.sources],
        "labels": _labels(dm),
        "energy": dm.energy,
        "flavour": OmegaConf.to_container(run_cfg.flavour) if run_cfg.get("flavour") else None,
    }
    if streamed:
        predict = predictor(ckpt, run_cfg, dm, target_transform, ckpt_path)
        columns = stream_predictions(dm, predict, out_dir / "predictions.h5", kind, info)
        extra = predict.extra()
    else:
        write_predictions(out_dir / "predictions.h5", columns, kind, info)
    metrics = {**summarize(columns, kind, info), **extra}
    write_json(out_dir / "metrics.json", metrics)
    options = plot_options(plots, info)
    if options is not None:
        make_plots(columns, kind, info, out_dir / "plots", options)
    log.info("Evaluation of %s on %d events written to %s", ckpt_path, len(columns["index"]), out_dir)
    return metrics


def _labels(dm: HEPDataModule) -> dict[str, dict[str, str]]:
    """Display labels and units of columns: per-variable ``label``/``unit``, then ``data.labels``."""
    out = {v.name: {k: getattr(v, k) for k in ("label", "unit") if getattr(v, k)}
           for g in dm.schema.inputs for v in g.variables if v.label or v.unit}
    for name, spec in dm.labels.items():
        out[name] = {**out.get(name, {}), **(spec if isinstance(spec, dict) else {"label": str(spec)})}
    return out


def _trainer_predictions(run_cfg: DictConfig, meta: dict, ckpt: dict, dm, trainer_cfg) -> dict[str, np.ndarray]:
    from hepml.pipelines.trainer_eval import trainer_predictions

    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    return trainer_predictions(task, dm, trainer_cfg)


def _task_predictions(run_cfg: DictConfig, meta: dict, ckpt: dict, dm) -> tuple[dict[str, np.ndarray], dict]:
    """Predictions of the test split in one pass, and the test loss from the same outputs."""
    task = build_task(run_cfg, instantiate(run_cfg.model, _convert_="all"), meta["stats"], train=False)
    task.load_state_dict(ckpt["state_dict"])
    task.eval()
    parts: list[dict[str, torch.Tensor]] = []
    loss_sum, n, first = 0.0, 0, None
    start = time.perf_counter()
    with torch.no_grad():
        for batch in dm.predict_dataloader():
            first = batch if first is None else first
            output = task(batch["inputs"])
            parts.append({"index": batch["index"], **task.predictions(output, batch)})
            if task.loss is not None:
                m = len(batch["index"])
                loss_sum += float(task.loss(output, task.target_of(batch), event_weight(batch))) * m
                n += m
    seconds = time.perf_counter() - start  # inference throughput: loader, forward, bookkeeping
    out = {k: torch.cat([p[k] for p in parts]).numpy() for k in parts[0]}
    if not np.array_equal(out.pop("index"), dm.indices["test"]):
        raise RuntimeError("prediction order does not match the test split")
    extra = {"loss": loss_sum / n} if n else {}
    if first is not None:
        extra["infer_events_per_s"] = round(sum(len(p["index"]) for p in parts) / seconds, 1)
        extra["macs_per_event"] = round(macs_per_example(lambda: task(first["inputs"]), len(first["index"])))
    return out, extra
