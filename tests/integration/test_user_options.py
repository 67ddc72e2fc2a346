"""Options users expect: torch.compile, bf16 mixed precision on CPU, predictions as ROOT and
parquet besides HDF5, and a predictions file that plain h5py reads."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers import compose_train

from hepml.data import io
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.train import train
from hepml.prediction_copies import prediction_formats
from hepml.predictions import read_predictions

FAST = ["trainer.max_epochs=1", "+trainer.limit_train_batches=2", "callbacks.progress_bar=null", "plots=false"]


def _train(tau_file, tmp_path, *extra):
    return train(compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", *FAST, *extra,
                                f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/c"]))


def test_bf16_mixed_precision_on_cpu(tau_file, tmp_path):
    metrics = _train(tau_file, tmp_path, "trainer.precision=bf16-mixed")
    assert np.isfinite(metrics["resolution"]) and np.isfinite(metrics["val/resolution"])


def test_compiled_model_checkpoints_load_uncompiled(tau_file, tmp_path):
    metrics = _train(tau_file, tmp_path, "compile=eager")
    again = evaluate_checkpoint(tmp_path / "run" / "checkpoints" / "best.ckpt", tmp_path / "again", plots=False)
    assert again["resolution"] == metrics["resolution"]


def test_predictions_as_root_and_parquet_and_readable_by_h5py(tau_file, tmp_path):
    _train(tau_file, tmp_path, "predictions.format=[hdf5,root,parquet]")
    ev = tmp_path / "run" / "eval"
    columns, task, info = read_predictions(ev / "predictions.h5")
    for suffix in (".root", ".parquet"):
        path = ev / f"predictions{suffix}"
        other = io.read_columns(path, [c.name for c in io.list_columns(path)])
        assert set(other) == set(columns)
        np.testing.assert_array_equal(np.asarray(other["pred"]), columns["pred"])
        assert io.read_attrs(ev / f"predictions{suffix}")["task"] == "regression"
    # plain h5py, no hepml: one dataset per column at the root, task and JSON info as attributes
    with h5py.File(ev / "predictions.h5", "r") as f:
        table = {k: f[k][()] for k in f}
        assert f.attrs["task"] == "regression" and json.loads(f.attrs["info"])["target"] == "tau_pt"
    assert all(v.ndim == 1 and len(v) == len(table["pred"]) for v in table.values())
    with pytest.raises(ValueError, match=r"predictions.format=\['csv'\]: choose from"):
        prediction_formats(["csv"])
