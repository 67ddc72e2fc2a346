"""The data contract as a user meets it: renamed columns at evaluation, models that take only their
groups, selections, sentinels and sources through `train` and `evaluate`."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compose_train, make_tau_like, write_h5

from hepml.data.io import write_columns
from hepml.pipelines.evaluate import evaluate_checkpoint
from hepml.pipelines.train import train
from hepml.predictions import read_predictions

FAST = ["trainer.max_epochs=2", "+trainer.limit_train_batches=3", "callbacks.progress_bar=null", "plots=false"]


def _flat(cols: dict) -> dict:
    return {k: v for k, v in cols.items() if np.ndim(v) == 1}


def test_checkpoint_evaluates_a_csv_that_spells_columns_another_way(tau_file, tmp_path):
    cfg = compose_train(["experiment=tau_regression", f"data.files=[{tau_file}]", *FAST,
                         f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/c"])
    train(cfg)
    best = tmp_path / "run" / "checkpoints" / "best.ckpt"
    same = evaluate_checkpoint(best, tmp_path / "same", {"files": [str(tau_file)], "eval_all": True}, plots=False)
    cols = _flat(make_tau_like(1500))
    renamed = {("jetPT" if k == "jet_pt" else "TauPt" if k == "tau_pt" else k): v for k, v in cols.items()}
    csv = tmp_path / "other.csv"
    write_columns(csv, renamed)
    other = evaluate_checkpoint(best, tmp_path / "other", {"files": [str(csv)],
                                "columns": {"jet_pt": "jetPT", "tau_pt": "TauPt"}}, plots=False)
    a, _, _ = read_predictions(tmp_path / "same" / "predictions.h5")
    b, _, _ = read_predictions(tmp_path / "other" / "predictions.h5")
    np.testing.assert_allclose(a["pred"], b["pred"], rtol=1e-5)
    assert same["resolution"] == pytest.approx(other["resolution"], rel=1e-5)


def test_mlp_runs_on_a_config_that_also_holds_particles_with_selection_and_sentinel(tmp_path):
    cols = make_tau_like(1200, seed=3)
    cols["jet_eta"][::7] = -999.0
    path = write_h5(tmp_path / "taus.h5", cols)
    particles = ("{max_length: 5, count: n_const, sort_by: const_pt, points: [const_deta, const_dphi], "
                 "variables: {const_pt: {transform: log}, const_deta: {}}}")
    cfg = compose_train([
        "experiment=tau_regression", f"data.files=[{path}]", *FAST, f"paths.output_dir={tmp_path}/run",
        f"paths.cache_dir={tmp_path}/c", f"+data.inputs.particles={particles}",
        "+data.inputs.scalars.variables.jet_eta={missing: -999}", "data.selection='jet_pt > 15'",
        "data.aux=[jet_m]",
    ])
    assert cfg.model.n_inputs == 3  # jet_pt, jet_eta and jet_eta's missing flag, wired from the data config
    metrics = train(cfg)
    assert np.isfinite(metrics["resolution"])
    pred, _, info = read_predictions(tmp_path / "run" / "eval" / "predictions.h5")
    assert info["inputs"]["scalars"] == ["jet_pt", "jet_eta", "jet_eta_missing"]
    assert "jet_m" in pred and pred["jet_pt"].min() > 15


def test_deepsets_wires_optional_scalars_and_sources_train(tmp_path):
    sig = tmp_path / "sig.h5"
    bkg = tmp_path / "bkg.h5"
    a, b = make_tau_like(500, seed=1), make_tau_like(500, seed=2)
    b["const_pt"] = b["const_pt"] * 0.5
    write_h5(sig, a)
    write_h5(bkg, b)
    sources = f"{{sig: {{files: [{sig}], label: 1}}, bkg: {{files: [{bkg}], label: 0}}}}"
    cfg = compose_train([
        "experiment=top_tagging", *FAST, f"paths.output_dir={tmp_path}/run", f"paths.cache_dir={tmp_path}/c",
        "data.files=null", f"data.sources={sources}", "data.observers=[jet_pt]",
        "data.inputs.particles.max_length=8", "~data.inputs.particles.variables.const_e",
        "data.inputs.particles.vectors=null", "data.inputs.particles.points=null",
        "data.inputs.particles.tree=null",
        "+data.inputs.scalars={variables: {jet_pt: {transform: log}}}",
    ])
    assert cfg.model.n_scalar_features == 1 and cfg.model.n_particle_features == 3
    metrics = train(cfg)
    assert metrics["auc"] > 0.6
    pred, _, _ = read_predictions(tmp_path / "run" / "eval" / "predictions.h5")
    assert set(np.unique(pred["source"])) == {0, 1}
    np.testing.assert_array_equal(pred["label"], 1 - pred["source"])
