"""Plots of an anomaly score (a reconstruction task's ``score``): class 0 is the background.

``roc``: background rejection against the efficiency of each anomaly class (one curve per class,
with its band); ``scores`` and ``scores_log``: the distribution of ``log10(score)`` per class.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from hepml.metrics.roc import roc_curve
from hepml.metrics.uncertainty import effective_entries
from hepml.plotting.labels import display_name
from hepml.plotting.options import PlotOptions
from hepml.plotting.roc import plot_roc, plot_scores

log = logging.getLogger(__name__)

__all__ = ["plot_anomaly"]


def plot_anomaly(
    columns: dict[str, np.ndarray],
    info: dict[str, Any],
    out_dir: str | Path,
    options: PlotOptions | None = None,
) -> list[Path]:
    """ROC curves of each anomaly class against the background, and the score distributions.

    Parameters
    ----------
    columns : dict
        ``score`` (higher: more anomalous), ``label`` (0: background) and optionally ``weight``.
    info : dict
        ``class_names`` and ``model_name`` of the predictions file.
    out_dir : str or Path
        Folder of the figures.
    options : PlotOptions, optional
        Shared settings.

    Returns
    -------
    list[Path]
        The written files (none without a label column: nothing to compare).
    """
    out = Path(out_dir)
    score = np.asarray(columns["score"], dtype=np.float64)
    if "label" not in columns:
        log.info("No label in the predictions: no anomaly ROC")
        return []
    label = np.asarray(columns["label"]).astype(int)
    w = columns.get("weight")
    names = [display_name(k) for k in (info.get("class_names") or [])]
    names += [f"class {k}" for k in range(len(names), int(label.max(initial=0)) + 1)]
    background = label == 0
    if background.all() or not background.any():
        log.warning("The predictions hold only one of background and anomalies: no anomaly ROC")
        return []
    n_bkg = effective_entries(
        None if w is None else np.asarray(w)[background], n=int(background.sum())
    )
    curves = {}
    for k in sorted(int(v) for v in np.unique(label[~background])):
        keep = background | (label == k)
        sig, bkg, _ = roc_curve(
            score[keep], (label[keep] == k).astype(int), None if w is None else np.asarray(w)[keep]
        )
        curves[f"{names[k]} vs {names[0]}"] = (sig, bkg, n_bkg)
    files = list(plot_roc(curves, out / "roc", options=options))
    positive = np.where(score > 0, score, np.nan)
    floor = np.nanmin(positive) if np.isfinite(positive).any() else 1.0
    name = info.get("model_name", "autoencoder")
    files += plot_scores(np.log10(np.where(score > 0, score, floor)), label, w, out / "scores",
                         class_names=names, options=options,
                         xlabel=f"log$_{{10}}$ reconstruction error ({name})")  # fmt: skip
    return files
