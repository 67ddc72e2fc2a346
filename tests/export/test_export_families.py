"""``hepml export`` for every model family on the experiment it serves: the ONNX file (run with
onnxruntime) and the TorchScript file reproduce the checkpoint's predictions on its test set,
from raw file values, to 1e-5 (particle lists, kT clustering trees, several particle groups,
recurrent cells, crystal images, reconstruction scores). MLP and Deep Sets: ``test_export.py``."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compose_train

from hepml.data import io
from hepml.export.inputs import input_specs, raw_inputs
from hepml.export.writers import read_metadata, run_onnx, run_torchscript
from hepml.pipelines.common import build_datamodule, load_checkpoint
from hepml.pipelines.export import export
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

FAST = ["trainer.max_epochs=1", "+trainer.limit_train_batches=2", "callbacks.progress_bar=null",
        "callbacks.early_stopping=null", "logger=csv", "data.batch_size=16", "plots=false"]
FAMILIES = {
    "efn": "top_tagging", "particlenet_lite": "top_tagging", "transformer": "top_tagging",
    "part": "top_tagging", "recnn": "top_tagging", "rnn": "flavour_tagging", "deepjet": "flavour_tagging",
    "cnn": "wtag_tagging", "conv_autoencoder": "anomaly_detection", "autoencoder": "anomaly_detection",
}


@pytest.fixture(scope="module")
def trained(generated_sample, tmp_path_factory):
    """One tiny training per family (trained on first use), by family name."""
    root, done = tmp_path_factory.mktemp("export_families"), {}

    def get(family: str):
        if family not in done:
            run = root / family
            train(compose_train([f"experiment={FAMILIES[family]}", f"model={family}",
                                 *generated_sample(FAMILIES[family]), *FAST, f"paths.output_dir={run}",
                                 f"paths.cache_dir={root}/cache"]))
            done[family] = run
        return done[family]
    return get


def _feeds(ckpt, meta, pred, max_length=None):
    """The exported model's inputs for the checkpoint's test events, from the raw file columns."""
    run_cfg = load_checkpoint(ckpt)["hepml"]["config"]
    schema = build_datamodule(run_cfg["data"]).schema
    files = io.expand_files(list(run_cfg["data"]["files"]))
    assert len(files) == 1 and schema.selection is None  # so predictions' index is the file entry
    columns = io.read_columns(files[0], [c.name for c in io.list_columns(files[0])])
    columns = {k: v[pred["index"]] for k, v in columns.items()}
    names = [i["name"] for i in meta["inputs"]]
    mask_names = [f"{g}_mask" for g in meta["groups"]]
    specs = [s for s in input_specs(schema, names + mask_names) if s.name in names]
    return raw_inputs(schema, columns, specs, max_length=max_length), names


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_exports_faithfully(trained, family, fmt, tmp_path):
    ckpt = trained(family) / "checkpoints" / "best.ckpt"
    result = export(compose_export(ckpt, fmt, tmp_path))
    meta = read_metadata(result["path"])
    pred, kind, _ = read_predictions(trained(family) / "eval" / "predictions.h5")
    feeds, names = _feeds(ckpt, meta, pred)
    got = run_onnx(result["path"], feeds) if fmt == "onnx" else run_torchscript(
        result["path"], feeds, names, meta["outputs"])
    compared = [k for k in meta["outputs"] if k in pred]
    assert compared and compared[0] == meta["outputs"][0], (meta["outputs"], sorted(pred))
    for key in compared:
        expected = np.asarray(pred[key])
        assert got[key].shape == expected.shape
        diff = float(np.max(np.abs(got[key] - expected) / np.maximum(1.0, np.abs(expected))))
        assert diff < 1e-5, f"{family} {fmt} {key}: max |exported - checkpoint| = {diff}"
    if family == "recnn":
        assert "particles_tree" in names and feeds["particles_tree"].dtype == np.int64
    if family == "deepjet":
        assert "probabilities" in compared and got["probabilities"].shape[1] == 3
    if family == "particlenet_lite":  # fewer slots than k + 1 neighbours: the graph still holds
        short = _feeds(ckpt, meta, pred, max_length={"particles": 3})[0]
        assert short["particles"].shape[1] == 3
        out = run_onnx(result["path"], short) if fmt == "onnx" else run_torchscript(
            result["path"], short, names, meta["outputs"])
        assert np.isfinite(out["score"]).all()
    if family == "efn":
        assert names == ["particles_mask", "particles_points", "particles_vectors"]
    if family.endswith("autoencoder"):
        assert kind == "reconstruction" and compared == ["score"]


def compose_export(ckpt, fmt, tmp_path):
    from omegaconf import OmegaConf

    return OmegaConf.create({"ckpt_path": str(ckpt), "format": fmt, "output": None, "opset": 18,
                             "dynamo": False, "check_tolerance": 1e-4, "trust_checkpoint": False,
                             "paths": {"output_dir": str(tmp_path)}})
