"""Training-side throughput: whole-batch loading and optimiser steps for the MLP and Deep Sets.

Measures, on synthetic in-memory data, (a) events/s through a data module's train loader (the
whole-batch slicing path) and (b) training events/s of ``Trainer.fit`` for one epoch, for the
models of the tau experiments. Run: ``python scripts/bench_train.py [--events N] [--batch B]``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from functools import partial
from pathlib import Path

import h5py
import lightning as L
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from hepml.data.datamodule import HEPDataModule
from hepml.models.deepsets import DeepSets
from hepml.models.mlp import MLP
from hepml.tasks.losses import L1
from hepml.tasks.regression import RegressionTask

N_CONST = 20


def _write(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    counts = rng.integers(1, N_CONST + 1, n)
    valid = np.arange(N_CONST)[None, :] < counts[:, None]
    with h5py.File(path, "w") as f:
        f["tau_pt"] = 20 + rng.exponential(30, n)
        f["jet_pt"] = f["tau_pt"][()] * rng.uniform(0.4, 1.0, n)
        f["n_const"] = counts
        for name in ("const_pt", "const_deta", "const_dphi"):
            f[name] = np.where(valid, rng.exponential(5, (n, N_CONST)), 0.0).astype(np.float32)
    return path


def _datamodule(path: Path, particles: bool, batch: int) -> HEPDataModule:
    inputs = ({"particles": {"max_length": N_CONST, "count": "n_const",
                             "variables": {"const_pt": {"transform": "log1p"}, "const_deta": {}, "const_dphi": {}}}}
              if particles else {"scalars": {"variables": {"jet_pt": {"transform": "log"}}}})
    dm = HEPDataModule(files=[str(path)], inputs=inputs, batch_size=batch,
                       target={"variable": "tau_pt", "ratio_to": "jet_pt", "transform": "log"})
    dm.load()
    return dm


def run(n: int, batch: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "bench.h5", n)
        for name, particles, model in (("MLP 3x64, 1 input", False, MLP(1, 1, [64, 64, 64])),
                                       (f"Deep Sets, {N_CONST} particles", True, DeepSets(3, 1))):
            start = time.perf_counter()
            dm = _datamodule(path, particles, batch)
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            seen = sum(len(b["index"]) for b in dm.train_dataloader())
            loader_rate = seen / (time.perf_counter() - start)
            task = RegressionTask(model, L1(), partial(torch.optim.AdamW, lr=1e-3))
            task.set_data_stats(dm.stats)
            trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
            start = time.perf_counter()
            trainer.fit(task, train_dataloaders=dm.train_dataloader())
            fit_rate = len(dm.indices["train"]) / (time.perf_counter() - start)
            rows.append({"model": name, "events": n, "read+prepare s": load_s,
                         "loader events/s": loader_rate, "train events/s": fit_rate})
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = run(args.events, args.batch)
    table = Table(title=f"training throughput, batch {args.batch}, {torch.get_num_threads()} threads")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(*(f"{v:,.0f}" if isinstance(v, float) and v > 100 else
                        f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()))
    Console(width=140).print(table)
    return rows


if __name__ == "__main__":
    main()
