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


def _export(ckpt, fmt, tmp_path):
    cfg = OmegaConf.create({"ckpt_path": str(ckpt), "format": fmt, "output": None, "opset": 18,
                            "dynamo": False, "check_tolerance": 1e-4, "trust_checkpoint": False,
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


def test_an_estimator_is_refused_with_a_reason(tmp_path):
    data = write_h5(tmp_path / "t.h5", make_tau_like(400))
    run = tmp_path / "bdt"
    train(compose_train(["experiment=tau_regression", "model=bdt", "model.kind=regression", f"data.files=[{data}]", "plots=false",
                         f"paths.output_dir={run}", f"paths.cache_dir={tmp_path}/c", "model.max_iter=5"]))
    with pytest.raises(ExportError, match="estimator .*BDT.*neural networks only"):
        _export(run / "checkpoints" / "best.ckpt", "onnx", tmp_path)


def test_an_unfaithful_export_is_removed_and_explained(runs, tmp_path, monkeypatch):
    import hepml.pipelines.export as export_module

    _, dirs = runs
    monkeypatch.setattr(export_module, "check_export", lambda *args: 0.5)
    with pytest.raises(ExportError, match=r"differs from PyTorch by 0.5 .* removed.*try format=torchscript"):
        _export(dirs["mlp"] / "checkpoints" / "best.ckpt", "onnx", tmp_path)
    assert not (tmp_path / "model.onnx").exists() and not (tmp_path / "model.onnx.json").exists()
