"""Metrics of a predictions file, as flat JSON-able numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from hepml.metrics.anomaly import anomaly_metrics
from hepml.metrics.resolution import regression_metrics
from hepml.metrics.roc import best_significance, binary_metrics


def summarize(columns: dict[str, np.ndarray], task: str, info: dict[str, Any]) -> dict[str, float]:
    """Regression: resolution, bias (and the baseline's); classification: AUC, rejections and,
    when ``info["significance"]`` gives expected yields, the best discovery significance."""
    w = columns.get("weight")
    if task == "regression":
        return regression_metrics(columns["pred"], columns["truth"], w, columns.get("baseline"))
    if task == "reconstruction":  # the reconstruction error as anomaly score, class 0 the background
        if "label" not in columns:
            return {"mean_score": float(np.mean(columns["score"]))}
        return anomaly_metrics(columns["score"], columns["label"], w, info.get("class_names"))
    signal_class = int(info.get("signal_class", 1))
    is_sig = (columns["label"] == signal_class).astype(int)
    out = binary_metrics(columns["score"], is_sig, w)
    sig = info.get("significance")
    if sig:
        best = best_significance(
            columns["score"],
            is_sig,
            w,
            n_signal=float(sig["n_signal"]),
            n_background=float(sig["n_background"]),
        )
        out["significance"] = best["significance"]
        out["significance_threshold"] = best["threshold"]
    return {k: float(v) for k, v in out.items()}
