"""``hepml generate``: shortcuts composed into the sample config, SLURM launcher, shards + merge."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import pytest
import uproot
from hydra import compose, initialize_config_dir

from hepml.config import config_dir
from hepml.pipelines.generate import generate, sample_config


def _compose(overrides, hydra=False):
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("generate", overrides=overrides, return_hydra_config=hydra)


def test_shortcuts_override_the_sample():
    cfg = _compose(["sample=taus", "n_events=200", "workers=8", "seed=7", "plots=true"])
    sample = sample_config(cfg)
    assert (sample.n_events, sample.workers, sample.seed, sample.plots) == (200, 8, 7, True)
    assert sample.output.endswith("taus_z-h_200_seed7.h5")
    assert cfg.sample.n_events == 30000  # the composed config is left as it was


def test_defaults_leave_the_sample_alone():
    sample = sample_config(_compose(["sample=taus"]))
    assert sample.n_events == 30000 and sample.format == "h5" and sample.seed == 1


@pytest.mark.parametrize("sample", ["taus", "ditau_met"])
def test_format_root_changes_the_suffix(sample):
    config = sample_config(_compose([f"sample={sample}", "format=root"]))
    assert config.format == "root" and config.output.endswith(".root")


def test_output_sets_the_format_and_format_sets_the_suffix():
    config = sample_config(_compose(["sample=taus", "output=data/top.root"]))
    assert (config.output, config.format) == ("data/top.root", "root")
    # the example: `output=data/top.h5 format=root` writes a ROOT file named .root
    config = sample_config(_compose(["sample=top_tagging", "output=data/top.h5", "format=root"]))
    assert (config.output, config.format) == ("data/top.root", "root")
    with pytest.raises(ValueError, match="suffix"):
        sample_config(_compose(["sample=taus", "output=data/top.csv"]))


def test_slurm_launcher_composes():
    cfg = _compose(["hydra/launcher=slurm", "sample=taus", "seed=2"], hydra=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.cpus_per_task == 8 and launcher.max_num_timeout == 3


def test_generate_tiny_tau_sample(tmp_path):
    out = tmp_path / "taus.root"
    cfg = _compose(["sample=taus", "n_events=4", "workers=1", "sample.chunk_size=40",
                    f"output={out}"])
    assert generate(cfg) == out
    with uproot.open(out) as handle:
        tree = handle["events"]
        assert tree.num_entries == 4 and "label" in tree.keys()
        assert json.loads(str(handle["provenance"]))["sample"] == "taus"


@pytest.mark.slow
def test_shards_with_the_real_command_then_merge(tmp_path):
    command = [sys.executable, "-m", "hepml.cli"]
    run = subprocess.run(
        [*command, "generate", "-m", "sample=taus", "seed=1,2", "n_events=4",
         "sample.chunk_size=40", "workers=1", f"paths.data_dir={tmp_path}",
         f"hydra.sweep.dir={tmp_path}/multirun"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    shards = sorted(tmp_path.glob("taus_z-h_4_seed*.h5"))
    assert len(shards) == 2
    merged = tmp_path / "taus.h5"
    run = subprocess.run([*command, "merge", str(merged), *map(str, shards)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    with h5py.File(merged) as handle:
        assert len(handle["tau_pt"]) == 8
        assert json.loads(handle.attrs["seed"]) == [1, 2]
