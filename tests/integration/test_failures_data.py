"""Bad data through `hepml train` as a user runs it: each is one named line on stderr, before any
training, never a traceback from inside a library (issue 15, part 5 and part 6)."""

from __future__ import annotations

import logging

import awkward as ak
import numpy as np
import pytest
from helpers import make_tau_like, write_h5

from hepml.data.io import write_columns


@pytest.fixture(autouse=True)
def _no_stale_log_handlers():
    """Hydra's log handlers of an earlier in-process run write to streams pytest has closed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)


def _train_error(tmp_path, capfd, monkeypatch, data_file, *extra) -> str:
    from hepml.cli import main

    monkeypatch.delenv("HEPML_VERBOSE", raising=False)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    args = ["train", "experiment=tau_regression_constituents", f"data.files=[{data_file}]",
            "trainer.max_epochs=1", "callbacks.progress_bar=null", "plots=false",
            f"hydra.run.dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/cache", *extra]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 1
    _, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("hepml train: error:")]
    assert len(lines) == 1, err[-2000:]
    assert "Traceback" not in err
    return lines[0]


def test_negative_count_is_named(tmp_path, capfd, monkeypatch):
    cols = make_tau_like(300)
    cols["n_const"][5] = -2
    path = write_h5(tmp_path / "neg.h5", cols)
    line = _train_error(tmp_path, capfd, monkeypatch, path)
    assert "neg.h5" in line and "'n_const'" in line and "negative" in line


def test_count_above_the_padded_width_is_named(tmp_path, capfd, monkeypatch):
    cols = make_tau_like(300)
    cols["n_const"][5] = 12  # the arrays hold 8 slots
    path = write_h5(tmp_path / "wide.h5", cols)
    line = _train_error(tmp_path, capfd, monkeypatch, path)
    assert "reaches 12" in line and "only 8 slots" in line


def test_particle_arrays_of_different_widths_are_named(tmp_path, capfd, monkeypatch):
    cols = make_tau_like(300)
    cols["const_e"] = np.zeros((300, 6))
    path = write_h5(tmp_path / "mixed.h5", cols)
    line = _train_error(tmp_path, capfd, monkeypatch, path)
    assert "mixes padded widths" in line and "const_e" in line


def test_jagged_branches_of_unequal_length_are_named_without_sort_key(tmp_path, capfd, monkeypatch):
    cols = {k: v for k, v in make_tau_like(300).items() if np.ndim(v) == 1}
    counts = np.full(300, 3)
    counts_short = counts.copy()
    counts_short[7] = 2
    for name in ("const_pt", "const_deta", "const_dphi", "const_e", "const_charge"):
        n = counts_short if name == "const_e" else counts
        cols[name] = ak.unflatten(np.ones(int(n.sum())), n)
    path = tmp_path / "jagged.root"
    write_columns(path, cols)
    line = _train_error(tmp_path, capfd, monkeypatch, path, "data.inputs.particles.sort_by=null",
                        "data.inputs.particles.count=null")
    assert "jagged.root" in line and "different numbers of particles" in line and "entry 7" in line


@pytest.mark.parametrize("content", [b"", b"not an HDF5 file at all\n", b"\x89HDF\r\n\x1a\n\x00\x00"])
def test_empty_garbage_and_truncated_hdf5_are_named(tmp_path, capfd, monkeypatch, content):
    path = tmp_path / "bad.h5"
    path.write_bytes(content)
    line = _train_error(tmp_path, capfd, monkeypatch, path)
    assert "bad.h5" in line


def test_bad_selection_is_named_before_reading(tmp_path, capfd, monkeypatch, tau_file):
    line = _train_error(tmp_path, capfd, monkeypatch, tau_file, "data.selection='jet_pt >'")
    assert "selection 'jet_pt >'" in line
