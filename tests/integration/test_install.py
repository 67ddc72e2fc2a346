"""hepml as users install it: a wheel in a fresh virtual environment, run outside the repository.

The wheel is built from a copy of the sources (nothing is written into the checkout); the fresh
environment reaches the already installed dependencies (torch, Lightning, ...) through a ``.pth``
line naming this environment's site-packages, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import REPO, make_tau_like, write_h5

SOURCES = ("hepml", "configs", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg", **(env or {})})
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the hepml wheel installed; returns its ``bin`` folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(root / "dist"), str(src)], root)
    wheel = next((root / "dist").glob("hepml-*.whl"))
    venv = root / "venv"
    _run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], root)
    site = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "_hepml_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
         root)
    return venv / "bin"


@pytest.mark.slow
def test_wheel_ships_configs_and_trains_outside_the_repository(installed, tmp_path):
    where = _run([str(installed / "python"), "-c", "import hepml, hepml.config as c; "
                  "print(hepml.__file__); print(c.config_dir())"], tmp_path).stdout.split()
    assert all(str(installed.parent) in w for w in where), where  # the wheel's copy, not the checkout
    assert Path(where[1], "experiment", "tau_regression.yaml").is_file()

    out = _run([str(installed / "hepml"), "--help"], tmp_path).stdout
    assert "tau_regression" in out and "train" in out

    # a user's own config folder on the search path: data=mine from --config-dir
    write_h5(tmp_path / "mine.h5", make_tau_like(600))
    (tmp_path / "myconfigs" / "data").mkdir(parents=True)
    (tmp_path / "myconfigs" / "data" / "mine.yaml").write_text(
        f"defaults:\n  - taus_pt\n  - _self_\nfiles: [{tmp_path / 'mine.h5'}]\n")
    run = tmp_path / "run"
    _run([str(installed / "hepml"), "train", "--config-dir", str(tmp_path / "myconfigs"), "data=mine",
          "trainer.max_epochs=1", "callbacks.progress_bar=null", "plots=false",
          f"paths.cache_dir={tmp_path}/cache", f"hydra.run.dir={run}"], tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["resolution"] > 0
    assert (run / "hepml.log").is_file()  # the app is called hepml in its log file
