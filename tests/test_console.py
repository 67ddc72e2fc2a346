"""Console helpers: Lightning noise filtered, metrics each once, early stopping announced."""

import logging
import warnings
from types import SimpleNamespace

import pytest
from lightning.pytorch.callbacks import EarlyStopping
from omegaconf import OmegaConf

from hepml.console import (
    EarlyStoppingNotice,
    metrics_table,
    print_config,
    print_metrics,
    quiet_lightning,
)


def test_quiet_lightning_drops_tips_and_device_lines(caplog):
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    quiet_lightning()
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("💡 Tip: For seamless cloud logging and experiment tracking, try litlogger")
        logger.info("GPU available: False, used: False")
        logger.info("TPU available: False, using: 0 TPU cores")
        logger.info("`Trainer.fit` stopped: `max_epochs=2` reached.")
    assert [r.getMessage() for r in caplog.records] == ["`Trainer.fit` stopped: `max_epochs=2` reached."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_lightning()
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning,
                      stacklevel=1)
    assert not caught
    quiet_lightning(verbose=True)  # verbose keeps everything
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("GPU available: False, used: False")
    assert caplog.records[-1].getMessage().startswith("GPU available")
    quiet_lightning()


def test_metrics_table_lists_each_metric_once(capsys):
    metrics = {"test_loss": 0.65, "test_auc": 0.6794, "auc": 0.6794, "rejection_eff30": 7.5,
               "train_time_s": 25.7}
    table = metrics_table(metrics)
    assert [c.header for c in table.columns] == ["metric", "value"]
    assert table.row_count == 4  # test_auc is auc
    print_metrics(metrics, "/tmp/run")
    out = capsys.readouterr().out
    assert "test_auc" not in out and "auc" in out and "0.6794" in out and "Run directory" in out


def test_print_config_shows_each_group(capsys):
    cfg = OmegaConf.create({"model": {"hidden": [64, 64]}, "seed": 42,
                            "paths": {"out": "${oc.env:NO_SUCH_VAR_HEPML,/tmp/x}"}})
    print_config(cfg, order=["seed"])
    out = capsys.readouterr().out
    assert out.index("seed") < out.index("model") and "hidden" in out and "/tmp/x" in out


@pytest.mark.parametrize("stopped", [0, 7])
def test_early_stopping_notice(caplog, stopped):
    stopper = EarlyStopping(monitor="val/loss", patience=3)
    stopper.stopped_epoch = stopped
    stopper.best_score = SimpleNamespace(item=lambda: 0.4321)
    trainer = SimpleNamespace(callbacks=[stopper], max_epochs=50)
    with caplog.at_level(logging.INFO, logger="hepml.console"):
        EarlyStoppingNotice().on_train_end(trainer, None)
    messages = [r.getMessage() for r in caplog.records if r.name == "hepml.console"]
    if stopped:
        assert messages == ["Early stopping at epoch 7 of 50: val/loss did not improve on its best "
                            "value 0.4321 for 3 epochs"]
    else:
        assert messages == []
