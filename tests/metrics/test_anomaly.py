"""Anomaly metrics: class 0 is the background, each anomaly class gets its own AUC."""

from __future__ import annotations

import numpy as np
import pytest

from hepml.metrics.anomaly import anomaly_metrics
from hepml.metrics.summary import summarize


def test_per_class_auc_and_all_anomalies_together():
    label = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    score = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.35, 0.05])
    m = anomaly_metrics(score, label, class_names=["qcd", "W", "top quark"])
    assert m["auc_W"] == pytest.approx(1.0)
    assert m["auc_top_quark"] == pytest.approx(0.375)  # 0.35 beats 3 of 4, 0.05 none: (3 + 0) / 8
    assert m["auc"] == pytest.approx((4 + 4 + 3 + 0) / 16)
    assert {"rejection_eff30", "rejection_eff50", "rejection_eff70"} <= set(m)
    assert anomaly_metrics(score[:4], label[:4]) == {}
    assert "auc_class1" not in anomaly_metrics(score[:6], label[:6])  # one anomaly class: auc only


def test_summary_of_a_reconstruction_file():
    cols = {"score": np.array([0.1, 0.5, 0.2, 0.9]), "label": np.array([0, 1, 0, 1])}
    assert summarize(cols, "reconstruction", {})["auc"] == pytest.approx(1.0)
    assert summarize({"score": cols["score"]}, "reconstruction", {}) == {
        "mean_score": pytest.approx(0.425)
    }
