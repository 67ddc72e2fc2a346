"""The user's config folders: ``HEPML_CONFIG_PATH`` and ``--config-dir`` join hepml's own configs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hepml.config import config_dir, searchpath_override, user_config_dirs


def test_config_path_folders_become_a_hydra_searchpath(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv("HEPML_CONFIG_PATH", f"{a}{os.pathsep}{b}")
    assert user_config_dirs() == [a.resolve(), b.resolve()]
    assert searchpath_override(["data=mine"]) == [f"hydra.searchpath=[file://{a.resolve()},file://{b.resolve()}]"]
    assert searchpath_override(["hydra.searchpath=[pkg://x]"]) == []  # the command line wins
    monkeypatch.setenv("HEPML_CONFIG_PATH", f"{tmp_path}/nowhere")
    with pytest.raises(FileNotFoundError, match="HEPML_CONFIG_PATH: '.*nowhere' is not a folder"):
        user_config_dirs()
    monkeypatch.delenv("HEPML_CONFIG_PATH")
    assert searchpath_override([]) == []
    assert (config_dir() / "train.yaml").is_file()


@pytest.mark.parametrize("how", ["env", "flag"])
def test_a_data_config_from_the_users_folder(tmp_path, how):
    (tmp_path / "mine" / "data").mkdir(parents=True)
    (tmp_path / "mine" / "data" / "mine.yaml").write_text(
        "defaults:\n  - taus_pt\n  - _self_\nfiles: [/somewhere/my_taus.h5]\n")
    env = {**os.environ, "HEPML_CONFIG_PATH": str(tmp_path / "mine")} if how == "env" else dict(os.environ)
    flag = [] if how == "env" else ["--config-dir", str(tmp_path / "mine")]
    proc = subprocess.run([sys.executable, "-m", "hepml.cli", "train", *flag, "data=mine", "--cfg", "job"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "- /somewhere/my_taus.h5" in proc.stdout
    assert "jet_pt" in proc.stdout  # the rest comes from hepml's taus_pt
