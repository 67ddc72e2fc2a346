"""Losses, schedulers, loggers and multi-class classification through the real train pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compose_train

from hepml.data.io.csv import write_csv
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

FAST = ["trainer.max_epochs=2", "+trainer.limit_train_batches=3", "callbacks.progress_bar=null"]


@pytest.mark.parametrize("loss", ["mse", "huber", "logcosh", "gaussian_nll"])
def test_regression_losses(loss, tau_file, tmp_path):
    cfg = compose_train(["experiment=tau_regression", f"loss={loss}", f"data.files=[{tau_file}]", *FAST,
                         f"paths.output_dir={tmp_path}", f"paths.cache_dir={tmp_path}/c", "plots=false"])
    metrics = train(cfg)
    assert np.isfinite(metrics["resolution"])
    cols, _, _ = read_predictions(tmp_path / "eval" / "predictions.h5")
    if loss == "gaussian_nll":
        assert np.all(cols["pred_sigma"] > 0)
    else:
        assert "pred_sigma" not in cols


def test_width_mismatch_is_explained(tau_file, tmp_path):
    cfg = compose_train(["experiment=tau_regression", "loss=gaussian_nll", "model.n_outputs=1",
                         f"data.files=[{tau_file}]", f"paths.output_dir={tmp_path}"])
    from hydra.errors import InstantiationException

    with pytest.raises(InstantiationException, match="output widths disagree"):
        train(cfg)


@pytest.mark.parametrize("extra", [["scheduler=cosine"], ["scheduler=plateau"], ["logger=many"],
                                   ["optimizer=sgd", "model.batch_norm=true", "model.residual=true"]])
def test_options_run(extra, tau_file, tmp_path):
    cfg = compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", *FAST, *extra,
                         f"paths.output_dir={tmp_path}", f"paths.cache_dir={tmp_path}/c", "plots=false"])
    train(cfg)
    if "logger=many" in extra:
        assert list((tmp_path / "tensorboard").glob("events.out.tfevents*"))


def test_multiclass_classification(tmp_path):
    rng = np.random.default_rng(3)
    n = 1200
    label = rng.integers(0, 3, n)
    names = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]
    cols = {k: rng.normal(label * (i % 2), 1.0) for i, k in enumerate(names)}
    cols.update({"lepton_pT": rng.exponential(1, n), "label": label})
    path = tmp_path / "three.csv"
    write_csv(path, cols)
    cfg = compose_train(["experiment=higgs", "data/features=high", f"data.files=[{path}]",
                         "data.classes=[a,b,c]", "data.observers=[lepton_pT]", "loss=cross_entropy",
                         "task.signal_class=1", *FAST, f"paths.output_dir={tmp_path}/run",
                         f"paths.cache_dir={tmp_path}/c"])
    metrics = train(cfg)
    assert metrics["auc"] > 0.6
    pred, task, info = read_predictions(tmp_path / "run" / "eval" / "predictions.h5")
    assert pred["probabilities"].shape == (180, 3)
    np.testing.assert_allclose(pred["probabilities"].sum(1), 1.0, rtol=1e-5)
    assert info["class_names"] == ["a", "b", "c"]


def test_same_seed_same_result(tau_file, tmp_path):
    results = []
    for i in range(2):
        cfg = compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", *FAST, "plots=false",
                             f"paths.output_dir={tmp_path}/r{i}", f"paths.cache_dir={tmp_path}/c"])
        results.append(train(cfg))
    assert results[0]["resolution"] == results[1]["resolution"]
    assert results[0]["loss"] == results[1]["loss"]


def test_killed_run_resumes_from_last_checkpoint(tau_file, tmp_path, caplog):
    import logging

    import torch

    common = ["experiment=tau_regression", f"data.files=[{tau_file}]", "callbacks.progress_bar=null",
              "callbacks.early_stopping=null", "plots=false", f"paths.output_dir={tmp_path}/run",
              f"paths.cache_dir={tmp_path}/c"]
    train(compose_train([*common, "trainer.max_epochs=2"]))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 1
    # the same run directory again, with more epochs: continues from last.ckpt (epochs 2, 3)
    with caplog.at_level(logging.INFO, logger="hepml"):
        train(compose_train([*common, "trainer.max_epochs=4"]))
    assert f"Resuming from {last}" in caplog.text
    ckpt = torch.load(last, weights_only=False)
    assert ckpt["epoch"] == 3 and ckpt["global_step"] == 4 * 5  # 1050 train events = 5 batches of <= 256
