"""The one-cycle schedule is stepped per batch over the whole run; training throughput is recorded."""

from __future__ import annotations

import functools

import lightning as L
import pytest
import torch

from hepml.models.mlp import MLP
from hepml.tasks.classification import ClassificationTask
from hepml.tasks.losses import BinaryCrossEntropy


def _batches(n_batches: int, size: int = 16):
    gen = torch.Generator().manual_seed(0)
    out = []
    for i in range(n_batches):
        x = torch.randn(size, 3, generator=gen)
        out.append({"inputs": {"scalars": x}, "label": (x[:, 0] > 0).long(),
                    "index": torch.arange(i * size, (i + 1) * size)})
    return torch.utils.data.DataLoader(out, batch_size=None)


def test_onecycle_steps_every_batch_and_ends_at_the_final_lr(tmp_path):
    sched = functools.partial(torch.optim.lr_scheduler.OneCycleLR, max_lr=0.01, div_factor=25.0,
                              final_div_factor=1e4, pct_start=0.3)
    task = ClassificationTask(MLP(3, 1, [8]), BinaryCrossEntropy(),
                              functools.partial(torch.optim.Adam, lr=0.01), sched)
    task.set_data_stats({"inputs": {"scalars": {"center": [0.0] * 3, "scale": [1.0] * 3}}})
    lrs = []

    class Record(L.Callback):
        def on_train_batch_start(self, trainer, *args):
            lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, default_root_dir=str(tmp_path),
                        callbacks=[Record()])
    trainer.fit(task, train_dataloaders=_batches(5))
    config = trainer.lr_scheduler_configs[0]
    assert config.interval == "step"
    assert config.scheduler.total_steps == 10 and config.scheduler.last_epoch == 10
    # the learning rate of each of the 10 optimiser steps: up from max/25 to max, down to max/25/1e4
    assert len(lrs) == 10 and lrs[0] == pytest.approx(0.01 / 25)
    assert max(lrs) == pytest.approx(0.01) and lrs.index(max(lrs)) == 2
    assert lrs[-1] == pytest.approx(0.01 / 25 / 1e4, rel=1e-3)
    assert task.throughput["train_events_per_s"] > 0


def test_epoch_schedulers_keep_their_interval(tmp_path):
    sched = functools.partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=2)
    task = ClassificationTask(MLP(3, 1, [8]), BinaryCrossEntropy(),
                              functools.partial(torch.optim.Adam, lr=0.01), sched)
    task.set_data_stats({"inputs": {"scalars": {"center": [0.0] * 3, "scale": [1.0] * 3}}})
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, default_root_dir=str(tmp_path))
    trainer.fit(task, train_dataloaders=_batches(3))
    assert trainer.lr_scheduler_configs[0].interval == "epoch"
