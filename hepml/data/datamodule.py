"""LightningDataModule over the files a data config names: read, check, transform, split, batch."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np

from hepml.data.columns import EventArrays, concat
from hepml.data.dataset import TensorBatches, batch_loader, to_tensors
from hepml.data.memory import file_specs, load_events
from hepml.data.preprocess import cached, compute_stats, config_hash, file_fingerprint
from hepml.data.schema import DataConfigError, DataSchema, build_schema
from hepml.data.streaming import StreamingData, build_streaming

log = logging.getLogger(__name__)

# columns of the predictions file that observers must not replace (an observer of that name is
# written as obs_<name>)
RESERVED = ("index", "truth", "label", "weight", "baseline", "pred", "pred_sigma", "score", "probabilities",
            "source", "domain", "labelled", "fraction")
# a class this many times rarer than the most frequent one gets a warning
IMBALANCE = 10.0
# streaming data: the events an estimator fits on in memory when data.max_events is null
ESTIMATOR_EVENTS = 1_000_000


class HEPDataModule(L.LightningDataModule):
    """Events from HDF5/ROOT/CSV/parquet files as whole-batch tensors.

    Parameters
    ----------
    files : data files or glob patterns, read and concatenated in order; or
        ``{train: [...], val: [...], test: [...]}`` to split by file instead of by ``split``.
    sources : instead of ``files``: named file sets with tags, ``{name: {files, label, domain,
        fraction, labelled, tree}}`` (a signal file and a background file; labelled simulation and
        unlabelled data; mixed samples with known fractions).
    inputs : ``{group: {...}}``: scalars (``variables``), particle lists (``max_length``, ``count``,
        ``sort_by``, ``points``, ``vectors``) or images (``shape``, ``column``/``columns``,
        ``normalize``, ``pt_normalize``, ``log``); see :mod:`hepml.data.schema`.
    target : regression ``{variable, ratio_to, transform}``; or ``label`` (+ ``classes``).
    label_values : raw label values in class order (e.g. ``[0, 4, 5]`` for light, c, b).
    weight, observers, aux, baseline : per-event weight column; columns copied to the predictions;
        columns handed to the task in ``batch["aux"]`` (nuisances, parameters) and written to the
        predictions; the column whose calibrated value is the regression baseline.
    selection : a cut such as ``"m_jj > 100 and m_jj < 150"`` (:mod:`hepml.data.selection`).
    columns : ``{name: column in the file}`` for files that spell columns another way.
    format, tree, csv_names, csv_delimiter : reader options (worked out per file when null).
    split : train/val/test fractions of a deterministic permutation drawn with ``split_seed``.
    eval_all : use every event as test set (evaluating a model on other files).
    max_events : keep only the first ``max_events`` events.
    chunk_size : entries read and transformed at a time.
    streaming, buffer_size, stats_events : read chunk by chunk while training, evaluating and
        predicting (:mod:`hepml.data.streaming`) instead of holding every event in memory: a
        train/val/test split by a hash of (file name, entry), a shuffle buffer of ``buffer_size``
        events across files (chunks of ``min(chunk_size, buffer_size // 4)`` entries, so it mixes
        at least four), statistics on ``stats_events`` training events.
    labels, energy : display names/units of columns and the centre-of-mass energy, for plots.
    missing_hint : added to the error when a file is missing (where the data can be had).
    """

    def __init__(
        self,
        inputs: Mapping[str, Mapping[str, Any]],
        files: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        sources: Mapping[str, Mapping[str, Any]] | None = None,
        target: Mapping[str, Any] | None = None,
        label: str | None = None,
        classes: Sequence[str] | None = None,
        label_values: Sequence[int] | None = None,
        weight: str | None = None,
        observers: Sequence[str] | None = None,
        aux: Sequence[str] | None = None,
        baseline: str | None = None,
        selection: str | None = None,
        columns: Mapping[str, str] | None = None,
        format: str | None = None,
        tree: str | None = None,
        csv_names: Sequence[str] | None = None,
        csv_delimiter: str | None = None,
        split: Sequence[float] = (0.7, 0.15, 0.15),
        split_seed: int = 42,
        eval_all: bool = False,
        max_events: int | None = None,
        batch_size: int = 256,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        chunk_size: int = 20_000,
        streaming: bool = False,
        buffer_size: int = 100_000,
        stats_events: int = 1_000_000,
        cache_dir: str | None = None,
        labels: Mapping[str, Any] | None = None,
        energy: str | None = None,
        missing_hint: str | None = None,
    ):
        super().__init__()
        self.schema: DataSchema = build_schema(inputs, target, label, classes, weight, observers, baseline,
                                               aux, selection, columns, sources, label_values)
        if isinstance(files, (str, Path)):
            files = [files]
        self.file_splits: dict[str, list[str]] | None = None
        if isinstance(files, Mapping):
            unknown = set(files) - {"train", "val", "test"}
            if unknown or "train" not in files and not eval_all:
                raise DataConfigError(f"data.files as a mapping needs keys train (and val, test); got {sorted(files)}")
            self.file_splits = {k: [str(f) for f in ([v] if isinstance(v, (str, Path)) else v or [])]
                                for k, v in files.items()}
            files = [f for k in ("train", "val", "test") for f in self.file_splits.get(k, [])]
        if self.schema.sources and files:
            raise DataConfigError("give either data.files or data.sources, not both")
        if not self.schema.sources and not files:
            raise DataConfigError("data.files is empty: name at least one data file (or data.sources)")
        if len(split) != 3 or abs(sum(split) - 1) > 1e-6 or min(split) < 0:
            raise DataConfigError(f"data.split must be three fractions summing to 1, got {list(split)}")
        self.files = [str(f) for f in files or []]
        self.reader_options = {"format": format, "tree": tree, "csv_names": csv_names,
                               "csv_delimiter": csv_delimiter}
        self.split = tuple(float(s) for s in split)
        self.split_seed = split_seed
        self.eval_all = eval_all
        self.max_events = max_events
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.chunk_size = int(chunk_size)
        self.streaming = streaming
        self.buffer_size = buffer_size
        self.stats_events = stats_events
        self.cache_dir = cache_dir
        self.labels = dict(labels or {})
        self.energy = energy
        self.missing_hint = missing_hint
        self.stats: dict[str, Any] | None = None
        self.arrays: EventArrays | None = None
        self.indices: dict[str, np.ndarray] = {}
        self._tensors: dict[str, Any] | None = None
        self.stream: StreamingData | None = None

    # ------------------------------------------------------------------ loading
    def file_specs(self):
        """Every file to read (globs expanded), with its source and reader options."""
        try:
            return file_specs(self.schema, self.files, self.reader_options)
        except FileNotFoundError as err:
            hint = f" {self.missing_hint}" if self.missing_hint else " Check data.files."
            raise FileNotFoundError(f"{err}.{hint}") from err

    def load(self, stats: Mapping[str, Any] | None = None) -> None:
        """Read every file, build the arrays and the split; compute (or take) the statistics."""
        if self.arrays is not None or self.stream is not None:
            return
        if self.streaming:
            return self._load_streaming(stats)
        specs = self.file_specs()
        self.arrays, self._file_sizes = load_events(self.schema, specs, self.chunk_size, self.max_events)
        n = len(self.arrays["entry"])
        self.indices = self._split_indices(n)
        if len(self.indices["train"]) == 0 and stats is None:
            raise DataConfigError(f"the training split is empty ({n} events, split {self.split})")
        self.stats = dict(stats) if stats is not None else self._compute_stats([s.path for s in specs])
        self._warn_imbalance()
        log.info(
            "Loaded %d events from %d file(s): %d train / %d val / %d test",
            n, len(specs), *(len(self.indices[s]) for s in ("train", "val", "test")),
        )

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

    def _compute_stats(self, paths: list[str]) -> dict[str, Any]:
        payload = {
            "files": file_fingerprint(paths),
            "schema": asdict(self.schema),
            "split": [self.split, self.split_seed, self.max_events, self.file_splits],
        }
        train = self.indices["train"]
        return cached(self.cache_dir, config_hash(payload),
                      lambda: compute_stats(self.schema, self.arrays, train))

    def _warn_imbalance(self) -> None:
        counts = np.asarray((self.stats or {}).get("class_counts") or [])
        if counts.size and counts.min(initial=0) >= 0 and counts.max() > 0:
            rare = counts.min()
            if rare == 0 or counts.max() / rare > IMBALANCE:
                names = list(self.schema.classes) or [str(i) for i in range(len(counts))]
                log.warning("Strong class imbalance in the training split: %s; consider "
                            "loss.class_weights=balanced (and model.class_weight=balanced for the BDT)",
                            dict(zip(names, counts.tolist(), strict=False)))

    # ---------------------------------------------------------------- lightning
    def setup(self, stage: str | None = None) -> None:
        self.load(self.stats)

    def dataset(self, split: str) -> TensorBatches:
        if self.arrays is None:
            raise RuntimeError("call load() before asking for a dataset")
        if self._tensors is None:
            self._tensors = to_tensors(self.arrays)
        return TensorBatches(self._tensors, rows=self.indices[split])

    def train_dataloader(self):
        if self.stream is not None:
            return self.stream.loader("train", epoch=self._epoch)
        return batch_loader(self.dataset("train"), self.batch_size, True, self.num_workers, self.split_seed)

    def val_dataloader(self):
        if self.stream is not None:
            return self.stream.loader("val")
        return batch_loader(self.dataset("val"), self.eval_batch_size, False, self.num_workers)

    def test_dataloader(self):
        if self.stream is not None:
            return self.stream.loader("test")
        return batch_loader(self.dataset("test"), self.eval_batch_size, False, self.num_workers)

    def predict_dataloader(self):
        return self.test_dataloader()

    # --------------------------------------------------------------- streaming
    def _load_streaming(self, stats: Mapping[str, Any] | None) -> None:
        """Plan the chunks and split counts of every file; statistics on ``stats_events``."""
        try:
            self.stream = build_streaming(
                self.schema, self.file_splits or self.files, eval_all=self.eval_all,
                reader_options=self.reader_options, split=self.split, split_seed=self.split_seed,
                chunk_size=min(self.chunk_size, max(1, self.buffer_size // 4)),
                buffer_size=self.buffer_size, batch_size=self.batch_size,
                eval_batch_size=self.eval_batch_size, num_workers=self.num_workers,
                stats_events=self.stats_events, max_events=self.max_events, cache_dir=self.cache_dir)
        except FileNotFoundError as err:
            hint = f" {self.missing_hint}" if self.missing_hint else " Check data.files."
            raise FileNotFoundError(f"{err}.{hint}") from err
        self.stream.setup()
        if self.stream.n_events("train") == 0 and stats is None:
            raise DataConfigError(f"the training split is empty ({self.stream.counts.sum()} events, split {self.split})")
        self.stats = dict(stats) if stats is not None else self.stream.stats()
        self._warn_imbalance()

    def _epoch(self) -> int:
        """The trainer's epoch (the stream's chunk order and shuffles derive from it)."""
        trainer = getattr(self, "trainer", None)
        return int(trainer.current_epoch) if trainer is not None else 0

    def in_memory(self, limit: int = ESTIMATOR_EVENTS) -> HEPDataModule:
        """For the estimators, which fit on arrays, when the data config streams: the first
        ``max_events`` (else ``limit``) training events and their share of validation events of
        the stream's split, in memory (the test split stays streamed)."""
        train = self.stream.events("train", self.max_events or limit)
        n_val = int(len(train["entry"]) * self.split[1] / max(self.split[0], 1e-9))
        val = self.stream.events("val", n_val) if n_val and self.stream.n_events("val") else None
        log.info("Streaming data: the estimator trains in memory on %d training and %d validation "
                 "events (data.max_events)", len(train["entry"]), 0 if val is None else len(val["entry"]))
        dm = copy.copy(self)
        dm.streaming, dm.stream, dm._tensors = False, None, None
        dm.arrays = train if val is None else concat([train, val])
        n_tr, n = len(train["entry"]), len(dm.arrays["entry"])
        dm.indices = {"train": np.arange(n_tr), "val": np.arange(n_tr, n), "test": np.arange(0)}
        return dm

    def split_columns(self, split: str = "test") -> dict[str, np.ndarray]:
        """Raw per-event columns of a split for the predictions file: truth, label, weight,
        calibrated baseline, aux columns, source tags and observers."""
        if self.arrays is None or self.stats is None:
            raise RuntimeError("call load() first")
        return prediction_columns(self.arrays, self.indices[split], self.stats)


def prediction_columns(arrays: EventArrays, idx: np.ndarray, stats: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The per-event columns of the predictions file for events ``idx`` of ``arrays``."""
    out: dict[str, np.ndarray] = {"index": np.asarray(idx)}
    for key in ("truth", "label", "weight", "source", "domain", "labelled", "fraction"):
        if key in arrays:
            out[key] = arrays[key][idx]
    if "baseline" in arrays:
        out["baseline"] = arrays["baseline"][idx] * stats["baseline_scale"]
    for group in ("aux", "observers"):
        for k, v in arrays.get(group, {}).items():
            out[f"obs_{k}" if k in RESERVED or k in out else k] = np.asarray(v)[idx]
    return out
