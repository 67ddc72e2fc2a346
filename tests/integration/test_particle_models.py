"""Every particle model trains by name on every particle-list experiment (a few batches on tiny
generated samples), evaluates from its checkpoint, and records its cost and throughput."""

from __future__ import annotations

import json

import pytest
from helpers import compose_train, peerbench_overrides

from hepml.pipelines.train import train
from hepml.predictions import read_predictions

PARTICLE_MODELS = ["efn", "particlenet_lite", "particlenet", "part", "transformer", "rnn", "deepjet", "recnn"]
PAIRS = ([("top_tagging", m) for m in PARTICLE_MODELS] + [("quark_gluon", m) for m in PARTICLE_MODELS]
         + [("flavour_tagging", m) for m in ("deepjet", "rnn")] + [("peerbench", "transformer")])
FAST = ["trainer.max_epochs=1", "+trainer.limit_train_batches=2", "callbacks.progress_bar=null",
        "logger=csv", "data.batch_size=16", "plots=false"]


@pytest.fixture(scope="module")
def samples(tmp_path_factory, generated_sample):
    """``samples(experiment)``: data overrides of a small sample of the experiment."""
    root = tmp_path_factory.mktemp("particle_samples")
    return lambda experiment: peerbench_overrides(root) if experiment == "peerbench" else generated_sample(experiment)


@pytest.mark.parametrize(("experiment", "model"), PAIRS)
def test_model_trains_on_experiment(experiment, model, samples, tmp_path):
    out = tmp_path / "run"
    cfg = compose_train([f"experiment={experiment}", f"model={model}", *samples(experiment), *FAST,
                         f"paths.output_dir={out}", f"paths.cache_dir={tmp_path}/cache"])
    metrics = train(cfg)
    saved = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= saved["auc"] <= 1.0 and set(saved) == set(metrics)
    assert saved["train_events_per_s"] > 0 and saved["infer_events_per_s"] > 0
    assert saved["macs_per_event"] > 0
    columns, task, info = read_predictions(out / "eval" / "predictions.h5")
    assert task == "classification" and info["n_parameters"] > 0
    if experiment == "flavour_tagging":
        assert columns["probabilities"].shape[1] == 3


def test_flavour_plots_and_multiclass_plots(samples, tmp_path):
    out = tmp_path / "run"
    cfg = compose_train(["experiment=flavour_tagging", "model=deepjet", *samples("flavour_tagging"),
                         *[o for o in FAST if o != "plots=false"], "plots.n_bootstrap=5",
                         f"paths.output_dir={out}", f"paths.cache_dir={tmp_path}/cache"])
    train(cfg)
    plots = {p.stem for p in (out / "eval" / "plots").glob("*.png")}
    expected = {"flavour_rejection", "flavour_discriminant", "confusion_matrix", "roc_one_vs_rest",
                "flavour_eff_vs_jet_pt"}
    assert expected <= plots, sorted(plots)
