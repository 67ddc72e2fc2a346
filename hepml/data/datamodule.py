"""LightningDataModule over the files a data config names: read, check, transform, split, batch."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import awkward as ak
import lightning as L
import numpy as np
import torch

from hepml.data.dataset import TensorBatches, batch_loader
from hepml.data.preprocess import (
    cached,
    check_finite,
    config_hash,
    file_fingerprint,
    group_stats,
    transform_values,
)
from hepml.data.readers import DataFileError, read_columns, to_padded
from hepml.data.schema import DataSchema, InputGroup, build_schema

log = logging.getLogger(__name__)

# columns of the predictions file that observers must not replace (an observer of that name is
# written as obs_<name>)
RESERVED = ("index", "truth", "label", "weight", "baseline", "pred", "pred_sigma", "score", "probabilities")


class HEPDataModule(L.LightningDataModule):
    """Events from HDF5/ROOT/CSV/parquet files as whole-batch tensors.

    Parameters
    ----------
    files : data files, read and concatenated in order; or ``{train: [...], val: [...], test: [...]}``
        to split by file instead of by ``split`` fractions.
    inputs : ``{group: {variables: {name: {transform, clip, center, scale, pad_value}},
        max_length, count, sort_by}}``; groups with ``max_length`` are particle lists.
    target : regression ``{variable, ratio_to, transform}``; or ``label`` (+ ``classes``).
    label_values : raw label values in class order (e.g. ``[0, 4, 5]`` for light, c, b); the label
        column is mapped to 0..C-1. By default the column must already hold class indices.
    weight, observers, baseline : per-event weight column, columns copied to the predictions,
        and the column whose calibrated value is the regression baseline.
    split : train/val/test fractions of a deterministic permutation drawn with ``split_seed``.
    eval_all : use every event as test set (evaluating a model on other files).
    max_events : keep only the first ``max_events`` events (quick runs).
    missing_hint : added to the error when a file is missing (where the data can be had).
    """

    def __init__(
        self,
        files: Sequence[str] | Mapping[str, Sequence[str]],
        inputs: Mapping[str, Mapping[str, Any]],
        target: Mapping[str, Any] | None = None,
        label: str | None = None,
        classes: Sequence[str] | None = None,
        label_values: Sequence[int] | None = None,
        weight: str | None = None,
        observers: Sequence[str] | None = None,
        baseline: str | None = None,
        tree: str | None = None,
        csv_names: Sequence[str] | None = None,
        csv_delimiter: str | None = None,
        split: Sequence[float] = (0.7, 0.15, 0.15),
        split_seed: int = 42,
        eval_all: bool = False,
        max_events: int | None = None,
        batch_size: int = 512,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        cache_dir: str | None = None,
        missing_hint: str | None = None,
    ):
        super().__init__()
        if isinstance(files, (str, Path)):
            files = [files]
        self.file_splits: dict[str, list[str]] | None = None
        if isinstance(files, Mapping):
            unknown = set(files) - {"train", "val", "test"}
            if unknown or "train" not in files and not eval_all:
                raise ValueError(f"data.files as a mapping needs keys train (and val, test); got {sorted(files)}")
            self.file_splits = {k: [str(f) for f in ([v] if isinstance(v, (str, Path)) else v or [])]
                                for k, v in files.items()}
            files = [f for k in ("train", "val", "test") for f in self.file_splits.get(k, [])]
        if not files:
            raise ValueError("data.files is empty: name at least one data file")
        if len(split) != 3 or abs(sum(split) - 1) > 1e-6 or min(split) < 0:
            raise ValueError(f"data.split must be three fractions summing to 1, got {list(split)}")
        self.files = [str(f) for f in files]
        self.schema: DataSchema = build_schema(inputs, target, label, classes, weight, observers, baseline)
        self.label_values = list(label_values) if label_values is not None else None
        self.reader_options = {"tree": tree, "csv_names": csv_names, "csv_delimiter": csv_delimiter}
        self.split = tuple(float(s) for s in split)
        self.split_seed = split_seed
        self.eval_all = eval_all
        self.max_events = max_events
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or 4 * batch_size
        self.num_workers = num_workers
        self.cache_dir = cache_dir
        self.missing_hint = missing_hint
        self.stats: dict[str, Any] | None = None
        self.arrays: dict[str, Any] | None = None
        self.indices: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ loading
    def load(self, stats: Mapping[str, Any] | None = None) -> None:
        """Read every file, build the arrays and the split; compute (or take) the statistics."""
        if self.arrays is not None:
            return
        missing = [f for f in self.files if not Path(f).is_file()]
        if missing:
            hint = f" {self.missing_hint}" if self.missing_hint else " Check data.files."
            raise FileNotFoundError(f"data file(s) {missing} do not exist.{hint}")
        per_file = [self._read_file(f) for f in self.files]
        self.arrays = {k: _concat([p[k] for p in per_file]) for k in per_file[0]}
        self._file_sizes = [_n_events(p) for p in per_file]
        n = sum(self._file_sizes)
        if self.max_events is not None:
            n = min(n, int(self.max_events))
            self.arrays = _slice(self.arrays, slice(0, n))
        self.indices = self._split_indices(n)
        if len(self.indices["train"]) == 0 and stats is None:
            raise ValueError(f"the training split is empty ({n} events, split {self.split})")
        self.stats = dict(stats) if stats is not None else self._compute_stats()
        log.info(
            "Loaded %d events from %d file(s): %d train / %d val / %d test",
            n, len(self.files), *(len(self.indices[s]) for s in ("train", "val", "test")),
        )

    def _read_file(self, path: str) -> dict[str, Any]:
        s = self.schema
        cols = read_columns(path, s.columns(), **self.reader_options)
        out: dict[str, Any] = {"inputs": {}, "masks": {}, "observers": {}}
        for g in s.inputs:
            x, mask = self._group_array(path, g, cols)
            out["inputs"][g.name] = x
            if mask is not None:
                out["masks"][g.name] = mask
        if s.target is not None:
            out["truth"] = _flat(cols, s.target.variable, path)
            ref = _flat(cols, s.target.ratio_to, path) if s.target.ratio_to else np.ones_like(out["truth"])
            check_finite(out["truth"], s.target.variable, path)
            if (ref == 0).any():
                raise ValueError(f"{path}: target ratio_to variable {s.target.ratio_to!r} has zeros")
            t = out["truth"] / ref
            if s.target.transform == "log":
                if (t <= 0).any():
                    raise ValueError(f"{path}: target {s.target.variable!r} (ratio) has values <= 0 "
                                     "but transform: log")
                t = np.log(t)
            out["target"], out["ref"] = t.astype(np.float32), ref.astype(np.float32)
        if s.label is not None:
            y = _flat(cols, s.label, path)
            if self.label_values is not None:
                y = _map_labels(y, self.label_values, s.label, path)
            n_classes = max(len(s.classes), 2)
            if not np.all((y == np.round(y)) & (y >= 0) & (y < n_classes)):
                raise ValueError(f"{path}: label column {s.label!r} must hold integers 0..{n_classes - 1}; "
                                 f"found values {np.unique(y)[:10]}")
            out["label"] = y.astype(np.int64)
        if s.weight is not None:
            w = _flat(cols, s.weight, path)
            check_finite(w, s.weight, path)
            out["weight"] = w.astype(np.float32)
        if s.baseline is not None:
            out["baseline"] = _flat(cols, s.baseline, path).astype(np.float64)
        for o in s.observers:
            out["observers"][o] = _flat(cols, o, path)
        return out

    def _group_array(self, path: str, g: InputGroup, cols: dict) -> tuple[np.ndarray, np.ndarray | None]:
        if not g.is_list:
            feats = []
            for v in g.variables:
                x = _flat(cols, v.name, path)
                check_finite(x, v.name, path)
                feats.append(transform_values(x, v, None, path))
            return np.stack(feats, axis=1).astype(np.float32), None
        values = {v: cols[v] for v in dict.fromkeys(g.names + ([g.sort_by] if g.sort_by else []))}
        counts = np.asarray(cols[g.count]) if g.count else None
        if g.sort_by:
            values = _sorted_lists(values, g.sort_by, counts)
        feats, mask = [], None
        for v in g.variables:
            x, mask = to_padded(values[v.name], g.max_length, counts)
            check_finite(x, v.name, path, mask)
            x = transform_values(x, v, mask, path)
            x[~mask] = v.pad_value
            feats.append(x)
        return np.stack(feats, axis=-1).astype(np.float32), mask

    def _split_indices(self, n: int) -> dict[str, np.ndarray]:
        if self.file_splits is not None and not self.eval_all:
            bounds = np.cumsum([0, *self._file_sizes])
            out, i = {}, 0
            for split in ("train", "val", "test"):
                k = len(self.file_splits.get(split, []))
                out[split] = np.arange(bounds[i], min(bounds[i + k], n))
                i += k
            return out
        if self.eval_all:
            empty = np.zeros(0, dtype=np.int64)
            return {"train": empty, "val": empty, "test": np.arange(n)}
        perm = np.random.default_rng(self.split_seed).permutation(n)
        n_train = int(round(self.split[0] * n))
        n_val = int(round(self.split[1] * n))
        return {
            "train": np.sort(perm[:n_train]),
            "val": np.sort(perm[n_train : n_train + n_val]),
            "test": np.sort(perm[n_train + n_val :]),
        }

    def _compute_stats(self) -> dict[str, Any]:
        payload = {
            "files": file_fingerprint(self.files),
            "schema": asdict(self.schema),
            "split": [self.split, self.split_seed, self.max_events],
        }
        return cached(self.cache_dir, config_hash(payload), self._stats_on_train)

    def _stats_on_train(self) -> dict[str, Any]:
        a, tr = self.arrays, self.indices["train"]
        stats: dict[str, Any] = {"inputs": {}}
        for g in self.schema.inputs:
            mask = a["masks"][g.name][tr] if g.is_list else None
            center, scale = group_stats(a["inputs"][g.name][tr], mask, g.variables)
            stats["inputs"][g.name] = {"center": center.tolist(), "scale": scale.tolist()}
        if "target" in a:
            t = a["target"][tr].astype(np.float64)
            stats["target"] = {"center": float(t.mean()), "scale": float(t.std() or 1.0)}
        if "baseline" in a:
            resp = a["baseline"][tr] / a["truth"][tr]
            stats["baseline_scale"] = float(1.0 / np.median(resp))
        if "label" in a:
            stats["class_counts"] = np.bincount(a["label"][tr], minlength=max(len(self.schema.classes), 2)).tolist()
        return stats

    # ---------------------------------------------------------------- lightning
    def setup(self, stage: str | None = None) -> None:
        self.load(self.stats)

    def dataset(self, split: str) -> TensorBatches:
        if self.arrays is None:
            raise RuntimeError("call load() before asking for a dataset")
        idx = self.indices[split]
        a = self.arrays
        tensors: dict[str, Any] = {"inputs": {}, "index": torch.from_numpy(idx)}
        for g, x in a["inputs"].items():
            tensors["inputs"][g] = torch.from_numpy(x[idx])
            if g in a["masks"]:
                tensors["inputs"][f"{g}_mask"] = torch.from_numpy(a["masks"][g][idx])
        for key in ("target", "ref", "label", "weight"):
            if key in a:
                tensors[key] = torch.from_numpy(a[key][idx])
        return TensorBatches(tensors)

    def train_dataloader(self):
        return batch_loader(self.dataset("train"), self.batch_size, True, self.num_workers, self.split_seed)

    def val_dataloader(self):
        return batch_loader(self.dataset("val"), self.eval_batch_size, False, self.num_workers)

    def test_dataloader(self):
        return batch_loader(self.dataset("test"), self.eval_batch_size, False, self.num_workers)

    def predict_dataloader(self):
        return self.test_dataloader()

    def split_columns(self, split: str = "test") -> dict[str, np.ndarray]:
        """Raw per-event columns of a split for the predictions file: truth, label, weight,
        calibrated baseline, and observers."""
        if self.arrays is None or self.stats is None:
            raise RuntimeError("call load() first")
        a, idx = self.arrays, self.indices[split]
        out: dict[str, np.ndarray] = {"index": idx}
        for key in ("truth", "label", "weight"):
            if key in a:
                out[key] = a[key][idx]
        if "baseline" in a:
            out["baseline"] = a["baseline"][idx] * self.stats["baseline_scale"]
        for k, v in a["observers"].items():
            out[f"obs_{k}" if k in RESERVED else k] = np.asarray(v)[idx]
        return out


def _n_events(arrays: dict[str, Any]) -> int:
    """Number of events of one file's arrays (every schema has at least one input group)."""
    return len(next(iter(arrays["inputs"].values())))


def _map_labels(y: np.ndarray, values: list[int], name: str, path: str) -> np.ndarray:
    """Raw label values (e.g. hadron flavour 0, 4, 5) to class indices 0..C-1."""
    out = np.full(len(y), -1, dtype=np.int64)
    for i, v in enumerate(values):
        out[y == v] = i
    if (out < 0).any():
        raise ValueError(f"{path}: label column {name!r} holds values {np.unique(y[out < 0])[:10]} "
                         f"not listed in data.label_values={values}")
    return out


def _flat(cols: dict, name: str, path: str) -> np.ndarray:
    x = cols[name]
    if isinstance(x, ak.Array) or np.ndim(x) != 1:
        raise DataFileError(f"{path}: {name!r} is a per-particle (jagged or 2D) column; "
                            "declare it in a particle-list input group, not as a scalar")
    return np.asarray(x)


def _sorted_lists(values: dict, key: str, counts: np.ndarray | None) -> dict:
    """Order each event's particles by ``key``, decreasing."""
    k = values[key]
    if isinstance(k, ak.Array):
        order = ak.argsort(k, axis=1, ascending=False)
        return {n: v[order] for n, v in values.items()}
    k = np.asarray(k, dtype=np.float64)
    if counts is not None:
        k = np.where(np.arange(k.shape[1])[None, :] < counts[:, None], k, -np.inf)
    order = np.argsort(-k, axis=1, kind="stable")
    return {n: np.take_along_axis(np.asarray(v), order, axis=1) for n, v in values.items()}


def _concat(parts: list) -> Any:
    if isinstance(parts[0], dict):
        return {k: _concat([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts, axis=0)


def _slice(tree: Any, sl: slice) -> Any:
    if isinstance(tree, dict):
        return {k: _slice(v, sl) for k, v in tree.items()}
    return tree[sl]
