"""``hepml export``: the ONNX (onnxruntime) and TorchScript files reproduce the checkpoint's
predictions on its test set from raw file values, for every model family."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers import compose_train, make_tau_like, write_h5
from omegaconf import OmegaConf

from hepml.export.inputs import raw_inputs
from hepml.export.writers import read_metadata, run_onnx, run_torchscript
from hepml.pipelines.common import build_datamodule, load_checkpoint
from hepml.pipelines.export import ExportError, export
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

FAST = ["trainer.max_epochs=2", "+trainer.limit_train_batches=3", "callbacks.progress_bar=null",
        "callbacks.early_stopping=null", "plots=false"]
SCALARS = ["+data.inputs.scalars.variables.jet_eta={transform: abs, clip: [0, 2.0]}",
           "+data.inputs.scalars.variables.jet_m={transform: log1p, missing: -999}",
           "+data.inputs.scalars.variables.vis_pt={transform: log, clip: [2.5, 5.0]}"]
RUNS = {
    # scalars with log, abs + clip, log1p + a sentinel (and its flag), clip; the binary score
    "mlp": ["data=taus_pt", "model=mlp", "task=classification", "loss=bce", "data.target=null",
            "data.label=process", "data.baseline=null", "model.batch_norm=true", *SCALARS],
    # a particle list (log transforms, padding mask) and a log-ratio target inverted in the graph
    "deepsets": ["experiment=tau_regression_constituents",
                 "++data.inputs.particles.variables.const_charge.missing=0"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny training per model family on a float32 file (the dtype detectors write)."""
    root = tmp_path_factory.mktemp("export")
    cols = make_tau_like(1200, seed=5)
    cols["jet_m"][::7] = -999.0  # sentinels
    data = write_h5(root / "taus.h5", {k: v.astype(np.float32) if v.dtype == np.float64 else v
                                       for k, v in cols.items()})
    out = {}
    for name, overrides in RUNS.items():
        run = root / name
        train(compose_train([*overrides, f"data.files=[{data}]", *FAST, f"paths.output_dir={run}",
                             f"paths.cache_dir={root}/cache"]))
        out[name] = run
    return data, out


def _export(ckpt, fmt, tmp_path, dynamo=False):
    cfg = OmegaConf.create({"ckpt_path": str(ckpt), "format": fmt, "output": None, "opset": 18,
                            "dynamo": dynamo, "check_tolerance": 1e-4, "trust_checkpoint": False,
                            "paths": {"output_dir": str(tmp_path)}})
    return export(cfg)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", sorted(RUNS))
def test_export_matches_the_checkpoint_predictions(runs, family, fmt, tmp_path):
    data, dirs = runs
    ckpt = dirs[family] / "checkpoints" / "best.ckpt"
    result = _export(ckpt, fmt, tmp_path)
    assert result["max_abs_diff"] < 1e-5
    meta = read_metadata(result["path"])
    assert meta == json.loads((tmp_path / f"{result['path'].rsplit('/', 1)[1]}.json").read_text())
    pred, kind, _ = read_predictions(dirs[family] / "eval" / "predictions.h5")
    run_cfg = load_checkpoint(ckpt)["hepml"]["config"]
    schema = build_datamodule(run_cfg["data"]).schema
    with h5py.File(data, "r") as f:
        columns = {k: f[k][()][pred["index"]] for k in f}
    specs_names = [i["name"] for i in meta["inputs"]]
    from hepml.export.inputs import input_specs

    specs = [s for s in input_specs(schema, specs_names + ["particles_mask"]) if s.name in specs_names]
    feeds = raw_inputs(schema, columns, specs)
    got = run_onnx(result["path"], feeds) if fmt == "onnx" else run_torchscript(
        result["path"], feeds, specs_names, meta["outputs"])
    key = "score" if kind == "classification" else "pred"
    assert meta["outputs"][0] == key
    # the score to 1e-5; a regressed pT of O(100) GeV to 1e-5 relative (float32 resolves 1.5e-5
    # GeV at 200 GeV: one unit in the last place is the best two float32 computations can agree)
    scale = np.maximum(1.0, np.abs(pred[key]))
    diff = np.max(np.abs(got[key] - pred[key]) / scale)
    assert diff < 1e-5, f"{family} {fmt}: max |exported - checkpoint| = {diff}"
    if family == "mlp":
        assert meta["groups"]["scalars"]["features_after_transform"][-1] == "jet_m_missing"
        assert [v["transform"] for v in meta["groups"]["scalars"]["variables"]] == ["log", "abs", "log1p", "log"]
        assert (feeds["scalars"][:, 2] == -999).any()  # sentinels reach the graph raw
        assert meta["classes"] == [] and meta["kind"] == "classification"
    else:
        assert specs_names == ["particles", "particles_mask", "ref"]
        assert meta["target"] == {"variable": "tau_pt", "ratio_to": "jet_pt", "transform": "log"}
        # the particle axis is dynamic: more slots than trained, all empty beyond the data
        longer = raw_inputs(schema, columns, specs, max_length={"particles": 9})
        got9 = run_onnx(result["path"], longer) if fmt == "onnx" else run_torchscript(
            result["path"], longer, specs_names, meta["outputs"])
        assert longer["particles"].shape[1] == 9
        # the 5 leading constituents were trained on; 9 slots feed more of them: a different but finite answer
        assert np.isfinite(got9["pred"]).all()
    assert meta["hepml_version"] and meta["inputs"][0]["shape"][0] == "batch"


@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_a_bdt_exports_with_its_transform_and_link(kind, tmp_path):
    cols = make_tau_like(900, seed=3)
    cols["jet_m"][::5] = -999.0  # sentinels: a flag feature, and NaN-free splits
    data = write_h5(tmp_path / "t.h5", cols)
    run = tmp_path / "bdt"
    task = (["data=taus_pt", "task=classification", "loss=bce", "data.target=null", "data.label=process",
             "data.baseline=null"] if kind == "classification" else ["experiment=tau_regression"])
    train(compose_train([*task, "model=bdt", f"model.kind={kind}", f"data.files=[{data}]", *SCALARS[1:2],
                         "plots=false", f"paths.output_dir={run}", f"paths.cache_dir={tmp_path}/c",
                         "model.max_iter=30"]))
    ckpt = run / "checkpoints" / "best.ckpt"
    pred, _, _ = read_predictions(run / "eval" / "predictions.h5")
    run_cfg = load_checkpoint(ckpt)["hepml"]["config"]
    schema = build_datamodule(run_cfg["data"]).schema
    with h5py.File(data, "r") as f:
        columns = {k: f[k][()][pred["index"]] for k in f}
    for fmt in ("onnx", "torchscript"):
        result = _export(ckpt, fmt, tmp_path / fmt)
        meta = read_metadata(result["path"])
        names = [i["name"] for i in meta["inputs"]]
        from hepml.export.inputs import input_specs

        feeds = raw_inputs(schema, columns, [s for s in input_specs(schema, names) if s.name in names])
        got = run_onnx(result["path"], feeds) if fmt == "onnx" else run_torchscript(
            result["path"], feeds, names, meta["outputs"])
        key = "score" if kind == "classification" else "pred"
        assert meta["outputs"] == [key] and meta["model"].endswith("BDT")
        scale = np.maximum(1.0, np.abs(pred[key]))
        assert np.max(np.abs(got[key] - pred[key]) / scale) < 1e-5, fmt
        if kind == "regression":
            assert names == ["scalars", "ref"]


def test_the_tree_graph_takes_the_decisions_of_scikit_learn():
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier

    from hepml.estimators.tree_state import TreeEnsemble, ensemble_state
    from hepml.export.trees import TreeEnsembleModule

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int) + (x[:, 3] > 1)
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values follow missing_go_to_left
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    state = ensemble_state(model)
    margins = TreeEnsembleModule(state)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(margins, TreeEnsemble(state).raw_predict(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(margins), 1).numpy(), model.predict_proba(x),
                               atol=1e-12)


def test_the_dynamo_exporter_with_dynamic_axes(runs, tmp_path):
    _, dirs = runs
    result = _export(dirs["deepsets"] / "checkpoints" / "best.ckpt", "onnx", tmp_path, dynamo=True)
    assert result["max_abs_diff"] < 1e-5  # checked at another batch size and particle count
    assert read_metadata(result["path"])["inputs"][0]["shape"][:2] == ["batch", "n_particles"]


def test_an_unfaithful_export_is_removed_and_explained(runs, tmp_path, monkeypatch):
    import hepml.pipelines.export as export_module

    _, dirs = runs
    monkeypatch.setattr(export_module, "check_export", lambda *args: 0.5)
    with pytest.raises(ExportError, match=r"differs from PyTorch by 0.5 .* removed.*try format=torchscript"):
        _export(dirs["mlp"] / "checkpoints" / "best.ckpt", "onnx", tmp_path)
    assert not (tmp_path / "model.onnx").exists() and not (tmp_path / "model.onnx.json").exists()
