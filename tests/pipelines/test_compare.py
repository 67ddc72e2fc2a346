"""hepml compare on predictions files with known answers."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hepml.pipelines.compare import compare, find_runs
from hepml.predictions import read_predictions, write_predictions


def _run(d, scores, labels, choices):
    write_predictions(d / "eval" / "predictions.h5", {"score": scores, "label": labels}, "classification",
                      {"choices": choices, "signal_class": 1})
    (d / "metrics.json").write_text(json.dumps({"train_time_s": 1.5}))
    return d


def test_compare_multirun_table_and_roc(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    multirun = tmp_path / "multirun"
    _run(multirun / "0", labels + 0.1 * rng.random(4000), labels, {"model": "mlp", "data/features": "all"})
    _run(multirun / "1", rng.random(4000), labels, {"model": "bdt", "data/features": "low"})
    (multirun / ".submitit").mkdir()
    assert [p.name for p in find_runs([multirun])] == ["0", "1"]
    files = compare([multirun], tmp_path / "cmp", reference="mlp / all")
    names = sorted(f.name for f in files)
    assert names == ["comparison.csv", "comparison.md", "roc.pdf", "roc.png"]
    rows = list(csv.DictReader(open(tmp_path / "cmp" / "comparison.csv")))
    assert [r["label"] for r in rows] == ["mlp / all", "bdt / low"]
    assert float(rows[0]["auc"]) == pytest.approx(1.0)
    assert float(rows[1]["auc"]) == pytest.approx(0.5, abs=0.03)
    assert rows[0]["train_time_s"] == "1.5"
    assert "| mlp / all | mlp | all | 1 |" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_compare_lists_the_swept_parameters_of_a_sweep(tmp_path):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 500)
    sweep = tmp_path / "sweep"
    for i, (lr, width) in enumerate([(0.01, 64), (0.001, 64), (0.001, 128)]):
        run = _run(sweep / str(i), labels + rng.random(500), labels, {"model": "mlp"})
        (run / ".hydra").mkdir()
        (run / ".hydra" / "overrides.yaml").write_text(
            f"- experiment=higgs\n- optimizer.lr={lr}\n- model.hidden=[{width},{width}]\n")
    compare([sweep], tmp_path / "cmp")
    rows = list(csv.DictReader(open(tmp_path / "cmp" / "comparison.csv")))
    assert [r["overrides"] for r in rows] == ["model.hidden=[64,64] optimizer.lr=0.01",
                                              "model.hidden=[64,64] optimizer.lr=0.001",
                                              "model.hidden=[128,128] optimizer.lr=0.001"]
    assert "optimizer.lr=0.01 |" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_compare_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no predictions"):
        compare([tmp_path], tmp_path / "cmp")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 100)
    _run(tmp_path / "a", rng.random(100), labels, {})
    with pytest.raises(ValueError, match="reference 'nope'"):
        compare([tmp_path / "a"], tmp_path / "cmp", reference="nope")


def test_predictions_round_trip_and_errors(tmp_path):
    cols = {"pred": np.array([1.0, 2.0]), "truth": np.array([1.0, 2.5]), "tau_pt": np.array([3.0, 4.0])}
    write_predictions(tmp_path / "p.h5", cols, "regression", {"target": "tau_pt"})
    out, task, info = read_predictions(tmp_path / "p.h5")
    assert task == "regression" and info == {"target": "tau_pt"}
    np.testing.assert_array_equal(out["tau_pt"], cols["tau_pt"])
    with pytest.raises(ValueError, match=r"need columns \['truth'\]"):
        write_predictions(tmp_path / "q.h5", {"pred": np.ones(2)}, "regression", {})
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not an HDF5 predictions file"):
        read_predictions(tmp_path / "x.h5")


def test_compare_reports_cost_and_throughput(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    run = _run(tmp_path / "run", labels + rng.random(500), labels, {"model": "particlenet_lite"})
    (run / "metrics.json").write_text(json.dumps({"train_time_s": 3.0, "train_events_per_s": 1250.0,
                                                  "infer_events_per_s": 4100.0, "macs_per_event": 3.1e6}))
    compare([run], tmp_path / "cmp")
    (row,) = csv.DictReader(open(tmp_path / "cmp" / "comparison.csv"))
    assert float(row["train_events_per_s"]) == 1250.0 and float(row["infer_events_per_s"]) == 4100.0
    assert float(row["macs_per_event"]) == 3.1e6 and row["train_time_s"] == "3.0"
