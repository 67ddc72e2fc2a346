"""SLURM preemption: SIGUSR1 during training writes last.ckpt, requeues the job (a stand-in
``scontrol`` records the call) and exits non-zero; the same command again resumes and ends with
the metrics of an uninterrupted run of the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import compose_train, make_tau_like, write_h5
from omegaconf import OmegaConf

from hepml.pipelines.slurm import slurm_job_id
from hepml.pipelines.train import train

SAME = ("resolution", "bias", "loss", "val/loss", "val/resolution", "baseline_resolution")


def test_job_ids():
    assert slurm_job_id({}) is None
    assert slurm_job_id({"SLURM_JOB_ID": "4242"}) == "4242"
    assert slurm_job_id({"SLURM_JOB_ID": "4243", "SLURM_ARRAY_JOB_ID": "4200",
                         "SLURM_ARRAY_TASK_ID": "7"}) == "4200_7"
    assert slurm_job_id({"SLURM_JOB_ID": "1; rm -rf /"}) is None


def test_launcher_config_is_for_gpus():
    from hepml.config import config_dir

    cfg = OmegaConf.load(config_dir() / "hydra" / "launcher" / "slurm_gpu.yaml")
    assert {"partition", "gpus_per_node", "timeout_min", "mem_gb", "tasks_per_node"} <= set(cfg)
    script = (Path(__file__).parents[2] / "scripts" / "slurm" / "train.sbatch").read_text()
    assert "#SBATCH --signal=USR1@" in script and "srun" in script and "SLURM_JOB_ID" in script


@pytest.mark.slow
def test_sigusr1_checkpoints_requeues_and_the_resumed_run_matches(tmp_path):
    data = write_h5(tmp_path / "taus.h5", make_tau_like(4000, seed=2))
    overrides = ["experiment=tau_regression", f"data.files=[{data}]", "data.batch_size=64",
                 "trainer.max_epochs=6", "callbacks.early_stopping=null", "callbacks.progress_bar=null",
                 "plots=false", f"paths.cache_dir={tmp_path}/cache"]
    reference = train(compose_train([*overrides, f"paths.output_dir={tmp_path}/reference"]))

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "scontrol_calls.txt"
    (bin_dir / "scontrol").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "scontrol").chmod(0o755)
    env = {**os.environ, "MPLBACKEND": "Agg", "SLURM_JOB_ID": "4242",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "hepml.cli", "train", *overrides, "print_config=false", f"hydra.run.dir={run}"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    last = run / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not last.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be signalled"
    os.kill(proc.pid, signal.SIGUSR1)  # what SLURM sends before the time limit
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signal.SIGUSR1, out[-3000:]
    assert "training stopped by SIGUSR1" in out and "requeued" in out
    assert calls.read_text().split() == ["requeue", "4242"]
    assert not (run / "metrics.json").exists()

    # the requeued job: the same command in the same run directory
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "Resuming from" in again.stdout + again.stderr
    resumed = json.loads((run / "metrics.json").read_text())
    for key in SAME:
        if key in reference:
            assert resumed[key] == reference[key], key
    assert calls.read_text().split() == ["requeue", "4242"]  # requeued once
