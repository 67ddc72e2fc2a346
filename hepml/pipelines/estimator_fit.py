"""Fitting and applying :class:`~hepml.estimators.base.Estimator` models on a data module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate

from hepml.atomic import atomic_path
from hepml.data.columns import inverse_target
from hepml.data.datamodule import HEPDataModule
from hepml.estimators.base import Estimator
from hepml.record import CheckpointError

log = logging.getLogger(__name__)


def feature_matrix(dm: HEPDataModule, split: str) -> np.ndarray:
    """Scalar input groups of a split concatenated to ``[n, F]`` (after transforms and clipping)."""
    groups = [g.name for g in dm.schema.inputs if g.kind == "scalars"]
    if not groups:
        raise ValueError("estimators take scalar features; the data config has only "
                         f"{[g.kind for g in dm.schema.inputs]} groups: add a scalars group")
    idx = dm.indices[split]
    return np.concatenate([dm.arrays["inputs"][g][idx] for g in groups], axis=1)


def _truth(dm: HEPDataModule, est: Estimator, split: str) -> np.ndarray:
    idx = dm.indices[split]
    if est.kind == "classification":
        if "label" not in dm.arrays:
            raise ValueError("a classifier needs a data config with a `label`; for regression set model.kind=regression")
        return dm.arrays["label"][idx]
    if "target" not in dm.arrays:
        raise ValueError("a regressor needs a data config with a `target`; for classification set model.kind=classification")
    return dm.arrays["target"][idx]


def fit_estimator(est: Estimator, dm: HEPDataModule, meta: dict[str, Any], ckpt_dir: Path) -> Path:
    """Fit on the training split (validation split for early stopping); save ``best.ckpt``."""
    w = dm.arrays.get("weight")
    tr, va = dm.indices["train"], dm.indices["val"]
    info = est.fit(
        feature_matrix(dm, "train"), _truth(dm, est, "train"), None if w is None else w[tr],
        feature_matrix(dm, "val") if len(va) else None,
        _truth(dm, est, "val") if len(va) else None,
        None if w is None or not len(va) else w[va],
    )
    log.info("Fitted %s: %s", type(est).__name__, info)
    path = ckpt_dir / "best.ckpt"
    # the estimator travels as arrays (state_dict), never pickled: loading must not run code
    payload = {"hepml": {**meta, "kind": est.kind, "fit_info": info}, "estimator": est.state_dict()}
    for target in (path, ckpt_dir / "last.ckpt"):
        with atomic_path(target, "checkpoint") as tmp:
            torch.save(payload, tmp)
    return path


def load_estimator(ckpt: dict[str, Any], source: str | Path = "checkpoint") -> Estimator:
    """The estimator of a checkpoint: built from its (allow-listed) model config, then given the
    stored state. A pickled estimator (hepml before 0.2) is refused: unpickling runs code."""
    state = ckpt.get("estimator")
    if isinstance(state, (bytes, bytearray)):
        raise CheckpointError(f"{source} holds a pickled estimator, which would run code when "
                              "loaded; hepml no longer reads those: retrain it with hepml train")
    if not isinstance(state, dict):
        raise CheckpointError(f"{source}: no estimator state in the checkpoint")
    est = instantiate(ckpt["hepml"]["config"]["model"], _convert_="all")
    if not isinstance(est, Estimator):
        raise CheckpointError(f"{source}: its model config builds a {type(est).__name__}, not an "
                              "estimator")
    est.load_state_dict(state)
    return est


def estimator_predictions(ckpt: dict[str, Any], dm: HEPDataModule, target_transform: str | None,
                          source: str | Path = "checkpoint") -> dict[str, np.ndarray]:
    est = load_estimator(ckpt, source)
    out = est.predict(feature_matrix(dm, "test"))
    if est.kind == "regression":
        out["pred"] = inverse_target(out["pred"], dm.arrays["ref"][dm.indices["test"]], target_transform)
    return out
