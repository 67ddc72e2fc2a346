"""The predictions file: one row per test example (outputs, truth, observers) plus attributes.

Written by evaluation, read by metrics, plots and ``hepml compare``; nothing here knows models.
Layout (HDF5): one dataset per column at the root; attributes ``task`` (``regression`` or
``classification``) and JSON-encoded ``info`` (target, baseline, class names, run name, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from hepml.atomic import atomic_path

REQUIRED = {"regression": ("pred", "truth"), "classification": ("score", "label"),
            "reconstruction": ("score",)}


def write_predictions(path: str | Path, columns: dict[str, np.ndarray], task: str, info: dict[str, Any]) -> Path:
    """Write ``columns`` (equal lengths) and the task description to ``path``.

    Atomic: the file appears complete or not at all. A full disk or a missing permission raises a
    :class:`~hepml.atomic.WriteError` naming the file; a previous ``path`` is left intact.
    """
    if task not in REQUIRED:
        raise ValueError(f"unknown task kind {task!r}; expected one of {sorted(REQUIRED)}")
    missing = [c for c in REQUIRED[task] if c not in columns]
    if missing:
        raise ValueError(f"predictions for a {task} task need columns {missing}")
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"prediction columns have different lengths: {lengths}")
    path = Path(path)
    with atomic_path(path, "predictions file") as tmp, h5py.File(tmp, "w") as f:
        for k, v in columns.items():
            f.create_dataset(k, data=np.asarray(v), compression="gzip", compression_opts=4)
        f.attrs["task"] = task
        f.attrs["info"] = json.dumps(info, default=str)
    return path


def read_predictions(path: str | Path) -> tuple[dict[str, np.ndarray], str, dict[str, Any]]:
    """``(columns, task, info)`` from a predictions file, with errors naming what is missing."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"predictions file {path} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path} is not an HDF5 predictions file ({err})") from err
    with f:
        task = f.attrs.get("task")
        if task not in REQUIRED:
            raise ValueError(f"{path}: no valid 'task' attribute; was it written by hepml eval?")
        info = json.loads(f.attrs.get("info", "{}"))
        columns = {k: f[k][()] for k in f.keys()}
    missing = [c for c in REQUIRED[task] if c not in columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} for a {task} task; found {sorted(columns)}")
    return columns, task, info
