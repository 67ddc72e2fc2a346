"""The data module on synthetic files with known content."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from helpers import make_tau_like, write_h5

from hepml.data.datamodule import HEPDataModule

SCALARS = {"scalars": {"variables": {"jet_pt": {"transform": "log"}, "jet_eta": {}}}}
PARTICLES = {
    "particles": {
        "max_length": 5,
        "count": "n_const",
        "sort_by": "const_pt",
        "variables": {"const_pt": {}, "const_charge": {"center": None, "scale": None}},
    }
}


def _dm(files, inputs=SCALARS, **kw):
    kw.setdefault("target", {"variable": "tau_pt", "ratio_to": "jet_pt", "transform": "log"})
    return HEPDataModule(files=files, inputs=inputs, baseline="jet_pt", observers=["jet_pt"], **kw)


def test_split_is_deterministic_and_disjoint(tau_file):
    a, b = _dm([tau_file]), _dm([tau_file])
    a.load()
    b.load()
    sizes = [len(a.indices[s]) for s in ("train", "val", "test")]
    assert sizes == [1050, 225, 225]
    for s in ("train", "val", "test"):
        np.testing.assert_array_equal(a.indices[s], b.indices[s])
    assert len(np.unique(np.concatenate(list(a.indices.values())))) == 1500


def test_stats_come_from_the_training_split(tau_file):
    dm = _dm([tau_file])
    dm.load()
    cols = make_tau_like(1500)
    tr = dm.indices["train"]
    assert dm.stats["inputs"]["scalars"]["center"][0] == pytest.approx(np.log(cols["jet_pt"][tr]).mean(), rel=1e-5)
    t = np.log(cols["tau_pt"][tr] / cols["jet_pt"][tr])
    assert dm.stats["target"]["center"] == pytest.approx(t.mean(), rel=1e-5)
    assert dm.stats["baseline_scale"] == pytest.approx(1 / np.median(cols["jet_pt"][tr] / cols["tau_pt"][tr]))


def test_particles_sorted_padded_and_masked(tau_file):
    dm = _dm([tau_file], inputs=PARTICLES)
    dm.load()
    x, mask = dm.arrays["inputs"]["particles"], dm.arrays["inputs"]["particles_mask"]
    cols = make_tau_like(1500)
    np.testing.assert_array_equal(mask.sum(1), np.minimum(cols["n_const"], 5))
    pt = x[..., 0]
    assert np.all(np.diff(np.where(mask, pt, -1), axis=1) <= 1e-6)  # decreasing within valid slots
    assert np.all(pt[~mask] == 0)
    expected_lead = np.max(cols["const_pt"], axis=1)
    np.testing.assert_allclose(pt[:, 0], expected_lead, rtol=1e-5)


def test_batches_are_whole_tensors(tau_file):
    dm = _dm([tau_file], inputs={**SCALARS, **PARTICLES}, batch_size=100)
    dm.load()
    batch = next(iter(dm.train_dataloader()))
    assert batch["inputs"]["scalars"].shape == (100, 2)
    assert batch["inputs"]["particles"].shape == (100, 5, 2)
    assert batch["inputs"]["particles_mask"].dtype == torch.bool
    assert batch["target"].shape == (100,)
    assert sum(len(b["index"]) for b in dm.val_dataloader()) == 225


def test_nan_input_names_file_and_variable(tmp_path):
    cols = make_tau_like(100)
    cols["jet_eta"][7] = np.nan
    path = write_h5(tmp_path / "nan.h5", cols)
    with pytest.raises(ValueError, match=r"nan\.h5: variable 'jet_eta' has 1 NaN"):
        _dm([path]).load()


def test_missing_file_error_carries_hint(tmp_path):
    dm = _dm([tmp_path / "none.h5"], missing_hint="Generate it with hepml generate.")
    with pytest.raises(FileNotFoundError, match=r"none\.h5.*Generate it with hepml generate"):
        dm.load()


def test_missing_variable_lists_available(tau_file):
    dm = _dm([tau_file], inputs={"scalars": {"variables": ["jet_ptt"]}})
    with pytest.raises(ValueError, match=r"'jet_ptt'.*jet_pt"):
        dm.load()


def test_labels_must_be_class_indices(tmp_path):
    path = write_h5(tmp_path / "c.h5", {"x": np.arange(10.0), "y": np.full(10, 2)})
    dm = HEPDataModule(files=[path], inputs={"s": {"variables": ["x"]}}, label="y")
    with pytest.raises(ValueError, match="label column 'y' must hold integers 0..1"):
        dm.load()


def test_eval_all_and_baseline_calibration(tau_file, tmp_path):
    dm = _dm([tau_file])
    dm.load()
    other = _dm([tau_file], eval_all=True)
    other.load(stats=dm.stats)
    assert len(other.indices["test"]) == 1500
    cols = other.split_columns("test")
    np.testing.assert_allclose(cols["baseline"], make_tau_like(1500)["jet_pt"] * dm.stats["baseline_scale"])


def test_two_files_are_concatenated(tmp_path):
    a = write_h5(tmp_path / "a.h5", make_tau_like(300, seed=1))
    with h5py.File(a, "r") as f:
        n = len(f["tau_pt"])
    b = write_h5(tmp_path / "b.h5", make_tau_like(200, seed=2))
    dm = _dm([a, b], split=(0.5, 0.25, 0.25))
    dm.load()
    assert n == 300 and sum(len(v) for v in dm.indices.values()) == 500


def test_split_by_files(tmp_path):
    files = {k: [str(write_h5(tmp_path / f"{k}.h5", make_tau_like(m, seed=i)))]
             for i, (k, m) in enumerate([("train", 300), ("val", 100), ("test", 50)])}
    dm = _dm(files)
    dm.load()
    assert [len(dm.indices[s]) for s in ("train", "val", "test")] == [300, 100, 50]
    np.testing.assert_allclose(dm.split_columns("test")["truth"], make_tau_like(50, seed=2)["tau_pt"])
    with pytest.raises(ValueError, match="needs keys train"):
        _dm({"training": files["train"]})


def test_label_values_map_to_class_indices(tmp_path):
    path = write_h5(tmp_path / "f.h5", {"x": np.arange(6.0), "flav": np.array([0, 4, 5, 5, 0, 4])})
    dm = HEPDataModule(files=[path], inputs={"s": {"variables": ["x"]}}, label="flav",
                       classes=["light", "c", "b"], label_values=[0, 4, 5], split=(1.0, 0.0, 0.0))
    dm.load()
    np.testing.assert_array_equal(dm.arrays["label"], [0, 1, 2, 2, 0, 1])
    bad = HEPDataModule(files=[path], inputs={"s": {"variables": ["x"]}}, label="flav",
                        classes=["light", "b"], label_values=[0, 5])
    with pytest.raises(ValueError, match=r"holds values \[4\] not listed in data.label_values"):
        bad.load()


def test_chunked_loading_equals_one_chunk_and_globs(tmp_path):
    for i in range(3):
        write_h5(tmp_path / f"part_{i}.h5", make_tau_like(400, seed=i))
    inputs = {**SCALARS, **PARTICLES}
    small = _dm([str(tmp_path / "part_*.h5")], inputs=inputs, chunk_size=97)
    whole = _dm([str(tmp_path / "part_*.h5")], inputs=inputs, chunk_size=10_000)
    small.load()
    whole.load()
    assert len(small.arrays["entry"]) == 1200
    for key in ("particles", "particles_mask", "scalars"):
        np.testing.assert_array_equal(small.arrays["inputs"][key], whole.arrays["inputs"][key])
    assert small.stats["inputs"] == whole.stats["inputs"]
    with pytest.raises(FileNotFoundError, match="nothing_*"):
        _dm([str(tmp_path / "nothing_*.h5")]).load()


def test_sources_label_files_and_aux_reach_the_batch(tmp_path):
    sig = write_h5(tmp_path / "sig.h5", make_tau_like(300, seed=1))
    bkg = write_h5(tmp_path / "bkg.h5", make_tau_like(500, seed=2))
    data = write_h5(tmp_path / "data.h5", make_tau_like(200, seed=3))
    dm = HEPDataModule(inputs=SCALARS, classes=["bkg", "sig"], aux=["jet_m"], observers=["jet_eta"],
                       sources={"signal": {"files": [str(sig)], "label": "sig"},
                                "background": {"files": [str(bkg)], "label": 0},
                                "data": {"files": [str(data)], "labelled": False, "domain": 1}},
                       batch_size=1000)
    dm.load()
    a = dm.arrays
    np.testing.assert_array_equal(np.bincount(a["source"]), [300, 500, 200])
    np.testing.assert_array_equal(a["label"][a["source"] == 0], 1)
    assert not a["labelled"][a["source"] == 2].any() and a["domain"][a["source"] == 2].all()
    assert dm.stats["class_counts"] == [
        int(((a["label"] == c) & a["labelled"])[dm.indices["train"]].sum()) for c in (0, 1)]
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) >= {"inputs", "label", "labelled", "domain", "source", "fraction", "aux", "observers"}
    assert batch["aux"]["jet_m"].dtype == torch.float32
    cols = dm.split_columns("test")
    assert {"jet_m", "jet_eta", "source", "domain", "labelled"} <= set(cols)


def test_class_imbalance_warns(tmp_path, caplog):
    import logging

    y = np.zeros(400, dtype=int)
    y[:10] = 1
    path = write_h5(tmp_path / "imb.h5", {"x": np.arange(400.0), "y": y})
    with caplog.at_level(logging.WARNING, logger="hepml"):
        HEPDataModule(files=[path], inputs={"s": {"variables": ["x"]}}, label="y").load()
    assert "class imbalance" in caplog.text and "balanced" in caplog.text
