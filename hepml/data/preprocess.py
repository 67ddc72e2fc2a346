"""Per-variable preprocessing: transforms and clipping in the data layer, and the centre/scale
statistics (computed on the training split, cached by a hash of the config) that the model
applies as buffers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hepml.data.schema import Variable

log = logging.getLogger(__name__)


def transform_values(x: np.ndarray, var: Variable, valid: np.ndarray | None, source: str) -> np.ndarray:
    """Apply ``var.transform`` then ``var.clip`` to raw values; padded slots are left untouched.

    Raises a ``ValueError`` naming the variable and ``source`` (the file) when a log transform
    meets values <= 0.
    """
    x = np.asarray(x, dtype=np.float64)
    sel = np.ones(x.shape, dtype=bool) if valid is None else valid
    if var.transform == "log":
        bad = sel & ~(x > 0)
        if bad.any():
            raise ValueError(
                f"{source}: variable {var.name!r} has {int(bad.sum())} value(s) <= 0 "
                f"(e.g. {x[bad].ravel()[0]:g}) but transform: log; use log1p or clip"
            )
        x = np.where(sel, np.log(np.where(sel, x, 1.0)), x)
    elif var.transform == "log1p":
        bad = sel & ~(x > -1)
        if bad.any():
            raise ValueError(f"{source}: variable {var.name!r} has values <= -1 but transform: log1p")
        x = np.where(sel, np.log1p(np.where(sel, x, 0.0)), x)
    elif var.transform == "abs":
        x = np.abs(x)
    if var.clip is not None:
        x = np.where(sel, np.clip(x, var.clip[0], var.clip[1]), x)
    return x


def check_finite(x: np.ndarray, name: str, source: str, valid: np.ndarray | None = None) -> None:
    """Raise a ``ValueError`` naming the file and variable when NaN or inf values are present."""
    vals = x if valid is None else x[valid]
    bad = ~np.isfinite(vals)
    if bad.any():
        raise ValueError(
            f"{source}: variable {name!r} has {int(bad.sum())} NaN/inf value(s) out of {vals.size}; "
            "clean the file or drop those events"
        )


def group_stats(
    x: np.ndarray, mask: np.ndarray | None, variables: tuple[Variable, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale per variable of ``x`` (``[n, F]`` or ``[n, N, F]``) over valid entries."""
    flat = x[mask] if mask is not None else x
    flat = flat.reshape(-1, x.shape[-1]).astype(np.float64)
    center = np.zeros(len(variables), dtype=np.float32)
    scale = np.ones(len(variables), dtype=np.float32)
    for i, v in enumerate(variables):
        col = flat[:, i]
        center[i] = col.mean() if v.center == "auto" else (v.center or 0.0)
        if v.scale == "auto":
            s = col.std()
            scale[i] = s if s > 0 else 1.0
        else:
            scale[i] = v.scale or 1.0
    return center, scale


def config_hash(payload: Any) -> str:
    """A short stable hash of a JSON-serialisable payload (config + file sizes/mtimes)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def file_fingerprint(paths: list[str]) -> list[tuple[str, int, float]]:
    out = []
    for p in paths:
        st = Path(p).stat()
        out.append((str(Path(p).resolve()), st.st_size, st.st_mtime))
    return out


def cached(cache_dir: str | Path | None, key: str, compute: Callable[[], dict]) -> dict:
    """Return the JSON-able dict stored under ``key`` in ``cache_dir``, computing it when absent."""
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / "stats" / f"{key}.json"
    if path.is_file():
        log.info("Using cached preprocessing statistics %s", path)
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(path)
    log.info("Cached preprocessing statistics in %s", path)
    return value
