"""Epoch metrics under DDP are computed on the whole split, gathered across processes: a
checkpoint evaluated with one and with two processes gives identical AUC / resolution."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compose_train, make_tau_like, write_h5

from hepml.data.io.csv import write_csv
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.train import train
from hepml.pipelines.trainer_eval import trainer_test
from hepml.predictions import read_predictions
from hepml.tasks.gather import once_per_event


def test_once_per_event_drops_the_samplers_repeats_and_orders_by_index():
    arrays = {"index": np.array([4, 0, 2, 1, 3, 4, 0]), "score": np.array([.4, .0, .2, .1, .3, .4, .0])}
    out = once_per_event(arrays)
    assert out["index"].tolist() == [0, 1, 2, 3, 4]
    assert out["score"].tolist() == [.0, .1, .2, .3, .4]


def _trainer(name: str) -> dict:
    cfg = compose_train([f"trainer={name}"]).trainer
    return cfg


@pytest.mark.slow
def test_one_and_two_processes_give_identical_metrics(tmp_path):
    rng = np.random.default_rng(1)
    n = 1001  # odd: the two shards differ in size and the sampler repeats an event
    label = rng.integers(0, 2, n)
    names = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]
    cols = {k: rng.normal(label * (i % 2), 1.0) for i, k in enumerate(names)}
    cols.update({"lepton_pT": rng.exponential(1, n), "label": label})
    write_csv(tmp_path / "h.csv", cols)
    run = tmp_path / "cls"
    train(compose_train(["experiment=higgs", "data/features=high", f"data.files=[{tmp_path / 'h.csv'}]",
                         "data.observers=[lepton_pT]", "trainer=ddp_sim", "trainer.max_epochs=2",
                         "callbacks.progress_bar=null", "plots=false", "data.eval_batch_size=64",
                         f"paths.output_dir={run}", f"paths.cache_dir={tmp_path}/c"]))
    ckpt = run / "checkpoints" / "best.ckpt"
    one, two = trainer_test(ckpt, _trainer("cpu")), trainer_test(ckpt, _trainer("ddp_sim"))
    assert one["auc"] == two["auc"]
    import json

    # the evaluation from the predictions file (float64) agrees to the float32 the Trainer logs
    assert one["auc"] == pytest.approx(json.loads((run / "metrics.json").read_text())["auc"], abs=1e-6)

    # hepml eval through a Trainer with two processes: the same predictions file, the same metrics
    plain = evaluate_checkpoint(ckpt, tmp_path / "plain", plots=False)
    spawned = evaluate_checkpoint(ckpt, tmp_path / "two", plots=False, trainer_cfg=_trainer("ddp_sim"))
    a, _, _ = read_predictions(tmp_path / "plain" / "predictions.h5")
    b, _, _ = read_predictions(tmp_path / "two" / "predictions.h5")
    np.testing.assert_array_equal(a["index"], b["index"])  # every test event once, in order
    # the same scores to float32 rounding: a rank's batches have other sizes, and a matrix product
    # over another number of rows may round the last bit differently
    np.testing.assert_allclose(a["score"], b["score"], rtol=0, atol=1e-6)
    assert spawned["auc"] == plain["auc"] and spawned["rejection_eff50"] == plain["rejection_eff50"]

    data = write_h5(tmp_path / "taus.h5", make_tau_like(1001))
    reg = tmp_path / "reg"
    train(compose_train(["experiment=tau_regression", f"data.files=[{data}]", "trainer.max_epochs=1",
                         "callbacks.progress_bar=null", "plots=false", "data.eval_batch_size=64",
                         f"paths.output_dir={reg}", f"paths.cache_dir={tmp_path}/c"]))
    ckpt = reg / "checkpoints" / "best.ckpt"
    one, two = trainer_test(ckpt, _trainer("cpu")), trainer_test(ckpt, _trainer("ddp_sim"))
    assert (one["resolution"], one["bias"]) == (two["resolution"], two["bias"])
