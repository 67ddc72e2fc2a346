"""Every experiment config composes, trains a few batches on CPU, and evaluates from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import CHEAP, SHARED_HIGGS, compose_train, peerbench_overrides
from hydra.utils import instantiate

from hepml.config import config_dir
from hepml.pipelines.common import ensure_sample, finite_json
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
GENERATED = {"top_tagging", "wtag_tagging", "quark_gluon", "ditau_mass", "flavour_tagging", "photon_id",
             "photon_energy", "anomaly_detection"}
FAST = ["trainer.max_epochs=2", "+trainer.limit_train_batches=4", "callbacks.progress_bar=null",
        "logger=csv"]




@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    """Where this module's peer-bench file is made."""
    return tmp_path_factory.mktemp("samples")


@pytest.fixture
def data_overrides(tau_file, sample_dir, generated_sample):
    """``data_overrides(name)``: the data of experiment ``name`` (tiny real samples, Pythia 8 +
    FastJet, shared by the session)."""
    def overrides(name: str) -> list[str]:
        if name.startswith("tau"):
            return [f"data.files=[{tau_file}]"]
        if name in GENERATED:
            return generated_sample(name)
        if name.startswith("higgs"):
            if not SHARED_HIGGS.is_file():
                pytest.skip(f"{SHARED_HIGGS} not present")
            return [f"data.files=[{SHARED_HIGGS}]", "data.max_events=800"]
        if name == "peerbench":
            return peerbench_overrides(sample_dir)
        raise AssertionError(f"add test data for experiment {name}")
    return overrides


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_instantiates(name, data_overrides, tmp_path):
    cfg = compose_train([f"experiment={name}", *data_overrides(name),
                         f"paths.output_dir={tmp_path}", f"paths.cache_dir={tmp_path}/cache"])
    model = instantiate(cfg.model, _convert_="all")
    dm = instantiate(cfg.data, _convert_="all")
    dm.load()
    assert dm.stats and len(dm.indices["train"]) > 0
    assert model is not None


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_trains_and_evaluates(name, data_overrides, tmp_path):
    out = tmp_path / "run"
    cfg = compose_train([f"experiment={name}", *data_overrides(name), *FAST,
                         f"paths.output_dir={out}", f"paths.cache_dir={tmp_path}/cache"])
    metrics = train(cfg)
    assert (out / "checkpoints" / "best.ckpt").is_file()
    assert (out / "checkpoints" / "last.ckpt").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == pytest.approx(finite_json(metrics))  # an infinite rejection is written as null
    regression = name.startswith("tau") or name in ("ditau_mass", "photon_energy")
    expected = {"resolution", "bias", "baseline_resolution", "baseline_bias"} if regression \
        else {"auc", "rejection_eff30", "rejection_eff50", "rejection_eff70"}
    if name == "higgs":
        expected.add("significance")
    assert expected <= set(saved)
    assert all(k.startswith("rejection") or np.isfinite(saved[k]) for k in expected)
    assert (out / "eval" / "predictions.h5").is_file()
    assert list((out / "eval" / "plots").glob("*.png")) and list((out / "eval" / "plots").glob("*.pdf"))
    # the checkpoint alone reproduces the evaluation
    again = evaluate_checkpoint(out / "checkpoints" / "best.ckpt", tmp_path / "again", plots=False)
    for k in expected:
        assert again[k] == pytest.approx(metrics[k], rel=1e-6)


def test_bdt_and_logistic_on_higgs(tmp_path):
    if not SHARED_HIGGS.is_file():
        pytest.skip(f"{SHARED_HIGGS} not present")
    for model in ("bdt", "logistic"):
        out = tmp_path / model
        cfg = compose_train(["experiment=higgs", f"model={model}", "data/features=high",
                             f"data.files=[{SHARED_HIGGS}]", "data.max_events=600", *FAST,
                             f"paths.output_dir={out}", f"paths.cache_dir={tmp_path}/cache"])
        metrics = train(cfg)
        assert (0.6 if model == "bdt" else 0.0) < metrics["auc"] <= 1.0
        columns, task, info = read_predictions(out / "eval" / "predictions.h5")
        assert task == "classification" and len(columns["score"]) == 90
        assert info["inputs"]["scalars"][0] == "m_jj"


def test_other_files_are_evaluated_whole(tau_file, tmp_path):
    from helpers import make_tau_like, write_h5

    out = tmp_path / "run"
    cfg = compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", *FAST,
                         f"paths.output_dir={out}", f"paths.cache_dir={tmp_path}/cache", "plots=false"])
    train(cfg)
    other = write_h5(tmp_path / "other.h5", make_tau_like(321, seed=5))
    evaluate_checkpoint(out / "checkpoints" / "best.ckpt", tmp_path / "ev", {"files": [str(other)]}, plots=False)
    columns, _, info = read_predictions(tmp_path / "ev" / "predictions.h5")
    assert len(columns["pred"]) == 321 and info["files"] == [str(other)]
    np.testing.assert_allclose(columns["truth"], make_tau_like(321, seed=5)["tau_pt"])


def test_typo_in_override_fails_with_hydra_message(tau_file):
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="modle"):
        compose_train(["experiment=tau_regression", "modle=mlp"])


# photon_energy reads the sample of photon_id (a selection of it)
@pytest.mark.parametrize("name", sorted(GENERATED - {"photon_energy"} | {"tau_regression"}))
def test_generated_sample_round_trips_through_root(name, tmp_path):
    """Every sample is written as a ROOT TTree and read back through the experiment's data config."""
    import uproot

    overrides = [f"experiment={name}", f"paths.data_dir={tmp_path}", "sample.n_events=60", "sample.workers=1",
                 "sample.format=root", f"paths.cache_dir={tmp_path}/c", *CHEAP.get(name, [])]
    cfg = compose_train(overrides)
    ensure_sample(cfg)
    path = Path(cfg.data.files[0])
    assert path.suffix == ".root"
    with uproot.open(path) as f:
        assert f["events"].classname.startswith("TTree") and f["events"].num_entries == 60
    dm = instantiate(cfg.data, _convert_="all")
    dm.load()
    assert sum(len(v) for v in dm.indices.values()) == 60
