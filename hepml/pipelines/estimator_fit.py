"""Fitting and applying :class:`~hepml.estimators.base.Estimator` models on a data module."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hepml.data.datamodule import HEPDataModule
from hepml.estimators.base import Estimator

log = logging.getLogger(__name__)


def feature_matrix(dm: HEPDataModule, split: str) -> np.ndarray:
    """Scalar input groups of a split concatenated to ``[n, F]`` (after transforms and clipping)."""
    lists = [g.name for g in dm.schema.inputs if g.is_list]
    if lists:
        raise ValueError(f"estimators take scalar features only; the data config has particle lists {lists}")
    idx = dm.indices[split]
    return np.concatenate([dm.arrays["inputs"][g.name][idx] for g in dm.schema.inputs], axis=1)


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
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    path = ckpt_dir / "best.ckpt"
    payload = {"hepml": {**meta, "kind": est.kind, "fit_info": info}, "estimator": pickle.dumps(est)}
    torch.save(payload, path)
    torch.save(payload, ckpt_dir / "last.ckpt")
    return path


def estimator_predictions(ckpt: dict[str, Any], dm: HEPDataModule, target_transform: str | None) -> dict[str, np.ndarray]:
    est: Estimator = pickle.loads(ckpt["estimator"])
    out = est.predict(feature_matrix(dm, "test"))
    if est.kind == "regression":
        t = out["pred"]
        ratio = np.exp(t) if target_transform == "log" else t
        out["pred"] = ratio * dm.arrays["ref"][dm.indices["test"]]
    return out
