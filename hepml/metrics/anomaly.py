"""Metrics of an anomaly score (an autoencoder's reconstruction error): class 0 is the
background, every other class an anomaly; a higher score means more anomalous."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepml.metrics.roc import binary_metrics

BACKGROUND = 0


def anomaly_name(k: int, class_names: Sequence[str] | None = None) -> str:
    """``class_names[k]`` made safe for a metric key (``auc_<name>``), else ``class<k>``."""
    names = list(class_names or [])
    if k < len(names) and names[k]:
        return "".join(c if c.isalnum() else "_" for c in str(names[k]))
    return f"class{k}"


def anomaly_metrics(
    score: np.ndarray,
    label: np.ndarray,
    weight: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """AUC and rejections of ``score`` for every anomaly against the background.

    Parameters
    ----------
    score : np.ndarray
        Anomaly score per event.
    label : np.ndarray
        Class per event; 0 is the background.
    weight : np.ndarray, optional
        Per-event weights.
    class_names : sequence of str, optional
        Names of the classes, for the per-class keys.

    Returns
    -------
    dict[str, float]
        ``auc`` and ``rejection_eff30/50/70`` of all anomalies together against the background
        (rejection = 1 / background efficiency), and, with more than one anomaly class,
        ``auc_<name>`` of each anomaly class alone against the background. Empty when either
        the background or the anomalies are absent.
    """
    score, label = np.asarray(score, dtype=np.float64), np.asarray(label).astype(np.int64)
    if score.shape != label.shape:
        raise ValueError(f"score and label differ in length: {score.shape} vs {label.shape}")
    background = label == BACKGROUND
    if background.all() or not background.any():
        return {}
    out = binary_metrics(score, (~background).astype(int), weight)
    classes = [int(k) for k in np.unique(label[~background])]
    if len(classes) > 1:
        for k in classes:
            keep = background | (label == k)
            w = None if weight is None else np.asarray(weight)[keep]
            out[f"auc_{anomaly_name(k, class_names)}"] = binary_metrics(
                score[keep], (label[keep] == k).astype(int), w
            )["auc"]
    return {k: float(v) for k, v in out.items()}
