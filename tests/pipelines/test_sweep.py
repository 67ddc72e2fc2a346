"""Hyper-parameter searches: train returns the best checkpoint's validation metrics, the CLI
hands the named one to Optuna, and `hepml compare` reads the sweep directory."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from helpers import compose_train
from omegaconf import OmegaConf

from hepml.data.io.csv import write_csv
from hepml.pipelines.sweep import MetricNotFoundError, objective
from hepml.pipelines.train import train


def _higgs_like(path, n=1200, seed=3):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    names = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]
    cols = {k: rng.normal(label * (i % 2), 1.0) for i, k in enumerate(names)}
    cols.update({"lepton_pT": rng.exponential(1, n), "label": label})
    write_csv(path, cols)
    return path


def test_objective_is_the_named_metric():
    metrics = {"val/auc": 0.8, "auc": 0.7}
    assert objective(OmegaConf.create({"optimized_metric": None}), metrics) is metrics
    assert objective(OmegaConf.create({"optimized_metric": "val/auc"}), metrics) == 0.8
    assert math.isnan(objective(OmegaConf.create({"optimized_metric": "val/auc"}), {}))  # DDP rank > 0
    with pytest.raises(MetricNotFoundError, match=r"optimized_metric='val/acc' is not among.*'val/auc'"):
        objective(OmegaConf.create({"optimized_metric": "val/acc"}), metrics)


def test_train_returns_the_best_checkpoints_validation_metrics(tmp_path):
    data = _higgs_like(tmp_path / "h.csv")
    cfg = compose_train(["experiment=higgs", "data/features=high", f"data.files=[{data}]",
                         "data.observers=[lepton_pT]", "trainer.max_epochs=3", "callbacks.progress_bar=null",
                         "callbacks.early_stopping=null", "plots=false", f"paths.output_dir={tmp_path}/run",
                         f"paths.cache_dir={tmp_path}/c"])
    metrics = train(cfg)
    import torch

    best = torch.load(tmp_path / "run" / "checkpoints" / "best.ckpt", weights_only=False)
    score = next(v for k, v in best["callbacks"].items() if k.startswith("ModelCheckpoint"))["best_model_score"]
    assert metrics["val/auc"] == pytest.approx(float(score), abs=1e-6)  # monitor=val/auc, re-evaluated
    assert 0 < metrics["val/loss"] < 1 and "auc" in metrics  # test metrics beside them
    history = (tmp_path / "run" / "csv" / "metrics.csv").read_text().splitlines()
    assert sum(",0," in line or line.split(",")[0] == "0" for line in history) <= 2  # no extra rows


@pytest.mark.slow
def test_a_two_trial_optuna_sweep_in_parallel_and_its_comparison(tmp_path):
    data = _higgs_like(tmp_path / "h.csv")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    # two trials at once in two local processes (the joblib launcher)
    cmd = [sys.executable, "-m", "hepml.cli", "train", "-m", "hparams_search=higgs_mlp", "data/features=high",
           "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2",
           f"data.files=[{data}]", "data.observers=[lepton_pT]", "hydra.sweeper.n_trials=2",
           "trainer.max_epochs=2", "callbacks.progress_bar=null", "plots=false", "print_config=false",
           f"hydra.sweep.dir={tmp_path}/sweep", f"paths.cache_dir={tmp_path}/c"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = yaml.safe_load((tmp_path / "sweep" / "optimization_results.yaml").read_text())
    assert set(result["best_params"]) == {"optimizer.lr", "optimizer.weight_decay", "model.dropout",
                                          "data.batch_size"}
    trials = [yaml.safe_load((tmp_path / "sweep" / str(i) / "metrics.json").read_text()) for i in (0, 1)]
    assert result["best_value"] == pytest.approx(max(t["val/auc"] for t in trials))
    cmp = subprocess.run([sys.executable, "-m", "hepml.cli", "compare", str(tmp_path / "sweep"), "-o",
                          str(tmp_path / "cmp")], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert cmp.returncode == 0, cmp.stderr[-2000:]
    rows = [line for line in cmp.stdout.splitlines() if line.startswith("| mlp")]
    assert len(rows) == 2  # one row per trial (both on the same features: labelled by the model)
    assert all("optimizer.lr=" in r and "model.dropout=" in r for r in rows)  # each trial's parameters
