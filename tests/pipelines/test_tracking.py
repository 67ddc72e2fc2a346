"""Experiment tracking: MLflow (a local store) and W&B (offline) loggers get the composed config as
hyper-parameters and the per-epoch metrics, with nothing asked and no network."""

from __future__ import annotations

import pytest
from helpers import compose_train

from hepml.pipelines.tracking import flat_params, log_config
from hepml.pipelines.train import train


def test_flat_params():
    params = flat_params({"model": {"hidden": [64, 64], "dropout": 0.1}, "scheduler": None,
                          "data": {"files": ["x" * 600]}})
    assert params["model.hidden"] == "[64, 64]" and params["model.dropout"] == 0.1
    assert params["scheduler"] == "null"
    assert len(params["data.files"]) == 500 and params["data.files"].endswith("...")


def test_mlflow_logs_the_config_and_the_epochs(tau_file, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    train(compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", "logger=mlflow",
                         "trainer.max_epochs=2", "+trainer.limit_train_batches=2", "callbacks.progress_bar=null",
                         "plots=false", f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/c"]))
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("tau_regression").experiment_id])
    assert run.data.params["optimizer.lr"] == "0.001"
    assert run.data.params["model._target_"] == "hepml.models.mlp.MLP"
    assert {"train/loss", "val/loss", "val/resolution"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 2


@pytest.mark.slow
def test_wandb_offline_gets_the_config(tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb")
    from hydra.utils import instantiate

    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = compose_train(["logger=wandb", f"paths.output_dir={tmp_path}"])
    logger = instantiate(cfg.logger.wandb)
    try:
        log_config([logger], {"optimizer": {"lr": 0.001}, "model": {"hidden": [8]}})
        assert logger.experiment.config["optimizer.lr"] == 0.001
        assert logger.experiment.settings.mode in ("offline", "dryrun")  # dryrun: wandb's name for offline
    finally:
        wandb.finish()
    assert list((tmp_path / "wandb").glob("offline-run-*"))
