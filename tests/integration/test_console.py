"""A default `hepml train` (tiny sample, two epochs) through the real command: what it prints."""

from __future__ import annotations

import os
import subprocess
import sys


def test_default_train_console(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "HEPML_DATA_DIR": str(tmp_path / "data"),
           "HEPML_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "100"}
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hepml.cli", "train", "sample.n_events=300", "sample.workers=1",
         "trainer.max_epochs=2", "plots.observers=[jet_eta]", f"hydra.run.dir={run}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    for noise in ("💡 Tip", "litlogger", "GPU available", "TPU available", "deprecated",
                  "DeprecationWarning", "FutureWarning"):
        assert noise not in text, f"{noise!r} printed:\n{text[-3000:]}"
    out = proc.stdout.rstrip().splitlines()
    assert out[0] == "config" and any(line.startswith("├── data") for line in out[:40])
    # the run ends with the metrics table (each metric once) and the run directory
    assert out[-1] == f"Run directory: {run.resolve()}"
    table = "\n".join(out[-20:])
    assert "metric" in table and "resolution" in table and "test_resolution" not in table
    assert (run / "hepml.log").is_file() and not (run / "cli.log").exists()
    assert (run / "eval" / "report.md").is_file() and (run / "eval" / "report.html").is_file()


def test_command_help_lists_only_its_groups(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hepml.cli", "eval", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    groups = proc.stdout.split("== Config groups of hepml eval ==")[1].split("== Config ==")[0]
    names = {line.split(":")[0] for line in groups.strip().splitlines()}
    assert {"data", "debug"} <= names and not names & {"model", "optimizer", "loss", "experiment"}
    assert "cli" not in proc.stdout.split("\n")[0]
