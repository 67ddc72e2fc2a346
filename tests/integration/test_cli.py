"""End to end through the real `hepml` command: generate (Pythia) -> train -> eval -> plot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

HEPML = [sys.executable, "-m", "hepml.cli"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "HEPML_DATA_DIR": str(cwd / "data"),
           "HEPML_CACHE_DIR": str(cwd / "cache")}
    proc = subprocess.run([*HEPML, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"hepml {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_help_lists_commands_and_experiments(tmp_path):
    out = _run(["--help"], tmp_path).stdout
    for word in ("train", "eval", "plot", "generate", "compare", "tau_regression", "higgs"):
        assert word in out


def test_train_eval_plot_end_to_end(tmp_path):
    run = tmp_path / "run"
    _run(["train", "experiment=tau_regression", "sample.n_events=400", "sample.workers=1",
          "trainer.max_epochs=3", "callbacks.progress_bar=null", f"hydra.run.dir={run}"], tmp_path)
    # the contract of a training run directory
    assert (run / ".hydra" / "config.yaml").is_file()
    for f in ("checkpoints/best.ckpt", "checkpoints/last.ckpt", "metrics.json", "eval/predictions.h5",
              "eval/metrics.json", "eval/plots/response.png", "eval/plots/response.pdf"):
        assert (run / f).is_file(), f
    metrics = json.loads((run / "metrics.json").read_text())
    for k in ("resolution", "bias", "baseline_resolution", "baseline_bias"):
        assert np.isfinite(metrics[k])
    assert 0.05 < metrics["baseline_resolution"] < 0.6
    assert list((tmp_path / "data").glob("taus*.h5")), "the sample is cached under HEPML_DATA_DIR"

    # eval needs nothing but the checkpoint
    ev = tmp_path / "eval"
    _run(["eval", f"ckpt_path={run}/checkpoints/best.ckpt", f"hydra.run.dir={ev}"], tmp_path)
    again = json.loads((ev / "metrics.json").read_text())
    assert again["resolution"] == metrics["resolution"]
    with h5py.File(ev / "predictions.h5", "r") as f:
        assert {"pred", "truth", "baseline", "jet_pt", "decay_mode"} <= set(f.keys())
        assert len(f["pred"]) == 60  # 15% of 400

    # plots are remade from the predictions file alone
    pl = tmp_path / "plots"
    _run(["plot", f"predictions={ev}/predictions.h5", f"hydra.run.dir={pl}"], tmp_path)
    pngs = {p.name for p in (pl / "plots").glob("*.png")}
    assert {"response.png", "response_vs_truth.png", "truth_vs_pred.png", "response_vs_jet_eta.png",
            "response_vs_decay_mode.png"} <= pngs
    assert (pl / "report.md").is_file()


def test_bad_input_gives_a_clear_error(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([*HEPML, "eval", f"ckpt_path={tmp_path}/missing.ckpt", f"hydra.run.dir={tmp_path}/x"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "missing.ckpt does not exist" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
