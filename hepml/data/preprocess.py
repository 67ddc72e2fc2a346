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

from hepml.atomic import WriteError, write_text_atomic
from hepml.data.schema import DataSchema, Variable
from hepml.errors import HepmlError

log = logging.getLogger(__name__)


class ColumnError(HepmlError, ValueError):
    """A column's content does not fit what the data config declares (names the file and column)."""



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
            raise ColumnError(
                f"{source}: variable {var.name!r} has {int(bad.sum())} value(s) <= 0 "
                f"(e.g. {x[bad].ravel()[0]:g}) but transform: log; use log1p or clip"
            )
        x = np.where(sel, np.log(np.where(sel, x, 1.0)), x)
    elif var.transform == "log1p":
        bad = sel & ~(x > -1)
        if bad.any():
            raise ColumnError(f"{source}: variable {var.name!r} has values <= -1 but transform: log1p")
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
        raise ColumnError(
            f"{source}: variable {name!r} has {int(bad.sum())} NaN/inf value(s) out of {vals.size}; "
            "clean the file or drop those events"
        )


class StatsAccumulator:
    """Training-split statistics accumulated over event arrays, a chunk at a time.

    ``update(arrays)`` with the event arrays (:mod:`hepml.data.columns`) of training events;
    ``result()`` gives the JSON-able statistics the task installs as buffers::

        {"inputs": {group: {"center": [...], "scale": [...], "kind": ..., "flags": [[i, j], ...]}},
         "target": {"center", "scale"}, "baseline_scale": float, "class_counts": [...], "n_events": int}

    Particle variables use the valid (unpadded, non-sentinel) entries only; a sentinel's flag
    feature is never normalised. Images: one mean/std per channel (``normalize: global``), per
    pixel (``pixel``) or none.
    """

    def __init__(self, schema: DataSchema):
        self.schema = schema
        self.n = 0
        self._sums: dict[str, list[np.ndarray]] = {}
        self._target: list[float] = [0.0, 0.0, 0.0]
        self._responses: list[np.ndarray] = []
        self._counts = np.zeros(schema.n_classes, dtype=np.int64)

    def update(self, arrays: dict[str, Any]) -> None:
        """Add the events of ``arrays`` (every event is taken as a training event)."""
        m = len(arrays["entry"])
        if m == 0:
            return
        self.n += m
        for g in self.schema.inputs:
            x = arrays["inputs"][g.name]
            if g.kind == "image":
                axes = (0, 2, 3) if g.normalize != "pixel" else (0,)
                self._add(g.name, x.astype(np.float64).sum(axis=axes),
                          np.square(x, dtype=np.float64).sum(axis=axes), x.size / x.shape[1] if axes != (0,) else m)
                continue
            flat = x[arrays["inputs"][f"{g.name}_mask"]] if g.is_list else x
            valid = np.ones(flat.shape, dtype=bool)
            for v in g.flagged:
                valid[:, g.names.index(v.name)] = flat[:, g.feature_names.index(f"{v.name}_missing")] < 0.5
            f64 = np.where(valid, flat, 0.0).astype(np.float64)
            self._add(g.name, f64.sum(axis=0), np.square(f64).sum(axis=0), valid.sum(axis=0))
        if "target" in arrays:
            t = arrays["target"].astype(np.float64)
            self._target = [self._target[0] + len(t), self._target[1] + t.sum(), self._target[2] + (t * t).sum()]
        if "baseline" in arrays:
            self._responses.append(arrays["baseline"] / arrays["truth"])
        if "label" in arrays:
            y = arrays["label"] if "labelled" not in arrays else arrays["label"][arrays["labelled"]]
            self._counts += np.bincount(y, minlength=len(self._counts))[: len(self._counts)]

    def _add(self, name: str, s1: np.ndarray, s2: np.ndarray, count) -> None:
        count = np.broadcast_to(np.asarray(count, dtype=np.float64), np.shape(s1))
        if name not in self._sums:
            self._sums[name] = [np.zeros_like(s1), np.zeros_like(s2), np.zeros(np.shape(s1))]
        acc = self._sums[name]
        acc[0] += s1
        acc[1] += s2
        acc[2] += count

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            raise ColumnError("no training events to compute the input statistics on")
        stats: dict[str, Any] = {"inputs": {}, "n_events": self.n}
        for g in self.schema.inputs:
            s1, s2, cnt = self._sums[g.name]
            cnt = np.maximum(cnt, 1.0)
            mean = s1 / cnt
            std = np.sqrt(np.maximum(s2 / cnt - mean**2, 0.0))
            std = np.where(std > 0, std, 1.0)
            if g.kind == "image":
                if g.normalize is None:
                    mean, std = np.zeros_like(mean), np.ones_like(std)
                stats["inputs"][g.name] = {"center": mean.astype(np.float32).tolist(),
                                           "scale": std.astype(np.float32).tolist(), "kind": "image"}
                continue
            center = np.zeros(g.n_features, dtype=np.float32)
            scale = np.ones(g.n_features, dtype=np.float32)
            for i, v in enumerate(g.variables):
                center[i] = mean[i] if v.center == "auto" else (v.center or 0.0)
                scale[i] = std[i] if v.scale == "auto" else (v.scale or 1.0)
            entry = {"center": center.tolist(), "scale": scale.tolist(), "kind": g.kind}
            if g.flagged:
                entry["flags"] = [[g.names.index(v.name), g.feature_names.index(f"{v.name}_missing")]
                                  for v in g.flagged]
            stats["inputs"][g.name] = entry
        if self._target[0]:
            k, s1, s2 = self._target
            mean = s1 / k
            stats["target"] = {"center": float(mean), "scale": float(np.sqrt(max(s2 / k - mean**2, 0.0)) or 1.0)}
        if self._responses:
            stats["baseline_scale"] = float(1.0 / np.median(np.concatenate(self._responses)))
        if self.schema.label is not None:
            stats["class_counts"] = self._counts.tolist()
        return stats


def compute_stats(schema: DataSchema, arrays: dict[str, Any], index: np.ndarray | None = None,
                  chunk: int = 8192) -> dict[str, Any]:
    """Statistics of the events ``index`` of ``arrays`` (default all), taken as training events,
    a chunk at a time so no copy of the whole split is made."""
    from hepml.data.columns import n_events, take

    acc = StatsAccumulator(schema)
    index = np.arange(n_events(arrays)) if index is None else np.asarray(index)
    for start in range(0, len(index), chunk):
        acc.update(take(arrays, index[start:start + chunk]))
    return acc.result()


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
        try:
            value = json.loads(path.read_text())
            log.info("Using cached preprocessing statistics %s", path)
            return value
        except (ValueError, OSError) as err:
            log.warning("Ignoring the unreadable statistics cache %s (%s): recomputing", path, err)
    value = compute()
    try:
        write_text_atomic(path, json.dumps(value), "statistics cache")
    except WriteError as err:  # the statistics are computed all the same
        log.warning("%s; continuing without caching", err)
        return value
    log.info("Cached preprocessing statistics in %s", path)
    return value
